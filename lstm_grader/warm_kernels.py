"""Start the next submission's sandboxed kernel while this one is graded.

Starting a sandboxed kernel (bubblewrap, Python, ipykernel) is most of the wall time of
grading one notebook. :class:`~lstm_grader.preloaded.PreloadedGrader` therefore forks the
child that will grade the next submission ahead of need; that child starts its kernel
at once, from the *recipe* the previous child recorded, and only then waits for its
submission. The kernel boots while the previous submission is still being graded.

What keeps this as safe as a cold start:

- **One kernel, one submission.** A warm kernel is started by the child that grades the
  next submission and by nothing else, before any submission reaches that child. No
  learner's code has run in it; it dies with that child.
- **Same kernel or none.** When the child's grading asks for a kernel, :func:`take` hands
  over the warm one only if its :func:`signature` (kernel spec, limits, configuration,
  environment, identity, sandbox and arguments) equals the one the cold start would have
  had. Anything else shuts it down and starts cold. The working folder is named after the
  submission's when its files are staged, so submissions of different assignments,
  graded in turn, still find their kernels warm.
- **Files arrive late, read-only.** The warm kernel's working folder starts empty; once
  the kernel answers, the submission's files are copied in read-only and owned by root
  (:meth:`~lstm_grader.sandbox.SandboxProvisioner.stage_submission`), before any cell,
  so the kernel can neither change nor delete them, as with a cold start's read-only
  binds. A grader that is not root cannot give them another owner, so its kernels all
  start cold.
  Submissions with more than :data:`STAGE_LIMIT_BYTES` of files start cold, so the copies
  never crowd the sandbox's tmpfs.

The recipe holds nothing a learner writes: the kernel's name, the kernel manager's
configuration, the kernel's arguments, the working folder's name and the variables the
kernel's environment is made of. The child that starts a warm kernel sets those variables
in its own environment first, and replaces its whole environment by its submission's
before it grades.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from lstm_grader import safefiles

log = logging.getLogger(__name__)

#: Submissions whose files (besides notebooks) hold more than this start a cold kernel:
#: the copies live in the sandbox's tmpfs, where read-only binds took no room.
STAGE_LIMIT_BYTES = 8 * 2**20

#: Where this process records the recipe of the kernel its grading starts (a file
#: descriptor the helper gives each child), or nothing outside a helper's child.
_RECIPE_SINK: list[int] = []


@dataclass
class WarmKernel:
    """A started kernel waiting for its submission, and what it was started as."""

    km: Any
    signature: str


_WARM: list[WarmKernel] = []


def _configuration_sections() -> frozenset[str]:
    """The configuration sections a kernel's start reads: the kernel manager's classes,
    its provisioner's, its client's, its session's and its kernel spec manager's."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.session import Session

    from lstm_grader.sandbox import SandboxKernelClient, SandboxKernelManager, SandboxProvisioner

    classes = (SandboxKernelManager, SandboxProvisioner, SandboxKernelClient, Session)
    return frozenset(c.__name__ for k in (*classes, KernelSpecManager) for c in k.__mro__)


def _configuration(config: Any) -> dict[str, Any]:
    sections = _configuration_sections()
    return {name: dict(config[name]) for name in sorted(config) if name in sections}


def signature(km: Any, arguments: list[str]) -> str:
    """Everything a sandboxed kernel start depends on, as one string.

    The working folder is not part of it: only its name reaches the sandbox, and a warm
    kernel's folder is renamed after its submission's when the files are staged.

    Parameters
    ----------
    km
        The kernel manager (not started) the start would use.
    arguments
        The extra arguments the kernel would be started with.
    """
    from lstm_grader import sandbox

    identity = sandbox.sandbox_identity()
    spec = km.kernel_spec
    return json.dumps(
        {
            "manager": f"{type(km).__module__}.{type(km).__qualname__}",
            "kernel_name": km.kernel_name,
            "configuration": _configuration(km.config),
            "arguments": list(arguments),
            "environment": sandbox.kernel_environment(),
            "identity": [identity.uid, identity.gid, identity.drops_root],
            "bwrap": sandbox.bwrap_path(),
            "library": sandbox.course_library_folder(),
            "sandboxed": sandbox.check_can_grade() is None,
            "spec": spec.to_dict() if spec is not None else None,
        },
        sort_keys=True,
        default=repr,
    )


def recipe(km: Any, cwd: str, arguments: list[str]) -> dict[str, Any] | None:
    """How to start the kernel ``km`` would start again in another process, or None
    when its configuration does not survive JSON (the next kernel then starts cold)."""
    from lstm_grader.sandbox import PASSED_THROUGH

    made = {
        # what the kernel's environment is made of, as nbgrader has set it by now
        "passed_through": {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ},
        "kernel_name": km.kernel_name,
        "configuration": _configuration(km.config),
        "arguments": list(arguments),
        "folder": os.path.basename(os.path.realpath(cwd)),
    }
    try:
        if json.loads(json.dumps(made)) != made:
            return None
    except (TypeError, ValueError):
        return None
    return made


def record_to(fd: int) -> None:
    """Make :func:`record` write this process's recipe to ``fd`` (a helper's child)."""
    _RECIPE_SINK[:] = [fd]


def record(km: Any, cwd: str, arguments: list[str]) -> None:
    """Record the recipe of the kernel this process is about to use, for the helper."""
    if not _RECIPE_SINK:
        return
    made = recipe(km, cwd, arguments)
    if made is not None:
        data = json.dumps(made).encode()
        with contextlib.suppress(OSError):
            os.lseek(_RECIPE_SINK[0], 0, os.SEEK_SET)
            os.write(_RECIPE_SINK[0], data)
            os.ftruncate(_RECIPE_SINK[0], len(data))


def start(made: dict[str, Any]) -> None:
    """Start a sandboxed kernel from a recipe and keep it for :func:`take`; on any
    failure, log why and keep nothing (the grading then starts its kernel cold)."""
    from jupyter_core.utils import run_sync
    from traitlets.config import Config

    from lstm_grader.sandbox import (
        PASSED_THROUGH,
        SandboxKernelManager,
        check_can_grade,
        sandbox_identity,
    )

    discard()
    for name in PASSED_THROUGH:
        os.environ.pop(name, None)
    os.environ.update(made["passed_through"])
    placeholder = tempfile.mkdtemp(prefix="lstm-grade-warm-")
    km = None
    try:
        if check_can_grade() is not None:
            return  # no sandbox: its throwaway folder is filled at launch, so start cold
        if not sandbox_identity().drops_root:
            # an ordinary user's kernel runs as that user, who could delete copies it
            # owns; only a read-only bind keeps them as they are, so start cold
            return
        name = made["folder"]
        if name in ("", ".", "..") or "/" in name:
            name = "work"  # renamed after the submission's folder when its files arrive
        folder = os.path.join(placeholder, name)
        os.mkdir(folder)
        km = SandboxKernelManager(
            kernel_name=made["kernel_name"], config=Config(made["configuration"])
        )
        wanted = signature(km, made["arguments"])
        run_sync(km.start_kernel)(cwd=folder, extra_arguments=list(made["arguments"]))
        _WARM.append(WarmKernel(km, wanted))
    except Exception as exc:  # a cold start follows: say why, go on
        log.warning("no warm kernel (%s: %s); the next one starts cold", type(exc).__name__, exc)
        if km is not None:
            _shut_down(km)
    finally:
        safefiles.remove_tree(placeholder)


def take(km: Any, cwd: str, arguments: list[str]) -> Any | None:
    """The warm kernel's manager if it was started exactly as ``km`` would start a
    kernel in ``cwd`` with ``arguments`` and is still alive; otherwise None, after shutting
    any warm kernel down. Either way no warm kernel is kept."""
    from jupyter_core.utils import run_sync

    from lstm_grader.sandbox import submission_files

    if not _WARM:
        return None
    warm = _WARM.pop()
    try:
        files, _ = submission_files(
            getattr(km, "submitted_folder", "") or os.path.realpath(cwd),
            released=getattr(km, "released_folder", "") or None,
        )
        size = sum(os.lstat(source).st_size for source, _ in files)
        if (
            size <= STAGE_LIMIT_BYTES
            and warm.signature == signature(km, arguments)
            and run_sync(warm.km.is_alive)()
        ):
            for folder in ("released_folder", "submitted_folder"):
                if hasattr(km, folder):
                    setattr(warm.km, folder, getattr(km, folder))
            return warm.km
    except Exception as exc:  # the cold start follows
        log.warning("warm kernel not used (%s: %s)", type(exc).__name__, exc)
    _shut_down(warm.km)
    return None


def discard() -> None:
    """Shut down a warm kernel that no submission will use."""
    while _WARM:
        _shut_down(_WARM.pop().km)


def _shut_down(km: Any) -> None:
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        run_sync(km.shutdown_kernel)(now=True)
    with contextlib.suppress(Exception):
        run_sync(km.cleanup_resources)()
