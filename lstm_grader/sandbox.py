"""Start the grading kernel inside a bubblewrap sandbox with memory and CPU limits.

The kernel sees the installed Python packages and the submission's own working folder,
read-only except for that folder; not the course directory (``solutions/``, the
gradebook, ``references/``, other students), not the network, not the home directory.
It talks to the grader over ZMQ ``ipc`` sockets in a private folder, since a kernel in
its own network namespace cannot be reached over TCP.

Where bubblewrap is missing or cannot start (no user namespaces), the kernel runs with
the resource limits only and the grader says so loudly once per process.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer

log = logging.getLogger(__name__)

NO_SANDBOX_WARNING = (
    "!! NO SANDBOX: bubblewrap (bwrap) is not available or cannot start here, so the "
    "grading kernel can read the course directory, the gradebook and other submissions, "
    "and reach the network. Memory and CPU limits still apply. Install bubblewrap "
    "(Debian: apt-get install bubblewrap) before grading real submissions. !!"
)


@functools.cache
def bwrap_path() -> str | None:
    """The path of a working ``bwrap``, or None if it is missing or cannot create a sandbox.

    ``LSTM_GRADER_BWRAP`` may name another ``bwrap`` binary, or be ``none`` to grade
    without a sandbox (the grader then says so loudly).
    """
    configured = os.environ.get("LSTM_GRADER_BWRAP", "")
    if configured.lower() == "none":  # an explicit opt-out, e.g. to test the fallback
        return None
    path = shutil.which(configured or "bwrap")
    if path is None:
        return None
    probe = [path, "--unshare-all", "--ro-bind", "/", "/", "--", "true"]
    try:
        subprocess.run(probe, check=True, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


@functools.cache
def warn_no_sandbox_once() -> None:
    """Print the no-sandbox warning to the log and to stderr, once per process."""
    log.warning(NO_SANDBOX_WARNING)
    print(NO_SANDBOX_WARNING, file=sys.stderr, flush=True)


def readable_paths() -> list[str]:
    """What the kernel must read: the interpreter, the packages and an editable lstm_lib."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        os.path.realpath(sys.executable),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
    spec = importlib.util.find_spec("lstm_lib")
    if spec is not None:
        # an editable install points outside site-packages, at the repository's lstm_lib/
        paths.update(str(Path(p)) for p in spec.submodule_search_locations or [])
    return sorted(p for p in paths if os.path.exists(p))


def bwrap_command(
    kernel_cmd: list[str],
    *,
    workdir: str,
    private_dir: str,
    memory_limit_mb: int,
    cpu_limit_seconds: int,
) -> list[str]:
    """Wrap a kernel command line in bubblewrap and ``prlimit``.

    Parameters
    ----------
    kernel_cmd : list of str
        The kernel's own command line (``python -m ipykernel_launcher -f ...``).
    workdir : str
        The submission's working folder: the only writable place the kernel sees.
    private_dir : str
        The folder holding the connection file and the ``ipc`` sockets.
    memory_limit_mb, cpu_limit_seconds : int
        Address-space and CPU-time limits for the kernel process.
    """
    bwrap = bwrap_path()
    assert bwrap is not None
    args = [
        bwrap,
        "--die-with-parent",
        "--unshare-all",  # network, PID, IPC, UTS, user and cgroup namespaces
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind",
        "/etc",
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/root",
        "--tmpfs",
        "/home",
    ]
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        target = Path("/") / name
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            args += ["--ro-bind", str(target), str(target)]
    for path in readable_paths():
        args += ["--ro-bind", path, path]
    args += [
        "--bind",
        private_dir,
        private_dir,
        "--bind",
        workdir,
        workdir,
        "--chdir",
        workdir,
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "MPLCONFIGDIR",
        "/tmp",
        # ipykernel exits when its parent PID changes; in a new PID namespace it always has
        "--unsetenv",
        "JPY_PARENT_PID",
        "--",
        "prlimit",
        f"--as={memory_limit_mb * 1024 * 1024}",
        f"--cpu={cpu_limit_seconds}",
        "--core=0",
        "--",
        *kernel_cmd,
    ]
    return args


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts each kernel sandboxed and resource-limited.

    Configured from ``nbgrader_config.py`` through :class:`lstm_grader.preprocessors.
    SandboxedExecute`; the limits are traits so the config file can say why they are what
    they are.
    """

    memory_limit_mb = Integer(2048, help="Address-space limit of the grading kernel, in MiB.").tag(
        config=True
    )
    cpu_limit_seconds = Integer(120, help="CPU-time limit of the grading kernel, in seconds.").tag(
        config=True
    )
    require_sandbox = Bool(
        False, help="Refuse to start a kernel when bubblewrap is not available."
    ).tag(config=True)

    _private_dir: str | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if bwrap_path() is not None:
            self._private_dir = tempfile.mkdtemp(prefix="lstm-grade-kernel-")
            self.connection_file = os.path.join(self._private_dir, "kernel.json")
            self.transport = "ipc"
            self.ip = os.path.join(self._private_dir, "ipc")
        elif self.require_sandbox:
            raise RuntimeError(NO_SANDBOX_WARNING)
        else:
            warn_no_sandbox_once()
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        if self._private_dir is not None:
            kernel_cmd = bwrap_command(
                kernel_cmd,
                workdir=workdir,
                private_dir=self._private_dir,
                memory_limit_mb=self.memory_limit_mb,
                cpu_limit_seconds=self.cpu_limit_seconds,
            )
        else:
            limits = (self.memory_limit_mb * 1024 * 1024, self.cpu_limit_seconds)
            kw["preexec_fn"] = functools.partial(_apply_limits, *limits)
        await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._private_dir is not None and not restart:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None


def _apply_limits(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
