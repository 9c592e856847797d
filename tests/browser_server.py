"""A Jupyter server for the browser tests: started from the venv, on loopback, torn down whole."""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CHROMIUM, require_or_skip


def chromium_ready() -> None:
    """Skip (locally) or fail (under CI) when Playwright or the system Chromium is missing."""
    require_or_skip(
        importlib.util.find_spec("playwright") is not None, "the playwright Python package"
    )
    require_or_skip(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")


#: The formgrader's submission page has loaded its grades into the score boxes and its
#: comments into theirs (formgrade.js asks for each apart: a test that changes the gradebook
#: next must not meet a late answer).
SUBMISSION_PAGE_LOADED_JS = (
    "() => window.formgrader?.grades?.loaded === true"
    " && window.formgrader?.comments?.loaded === true"
)
#: How long a browser test waits for the formgrader's page to answer.
UI_TIMEOUT_MS = 60_000
#: The per-user folders every Jupyter reads, by the variable that moves them.
JUPYTER_FOLDERS = {
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "IPYTHONDIR": "ipython",
}


def isolated_environment(tmp: Path, more: dict[str, str] | None = None) -> dict[str, str]:
    """The venv's Jupyter with every per-user folder (and those in ``more``) in ``tmp``: no
    user or machine configuration leaks in, no nbgrader setting of this shell, and nothing
    is written outside ``tmp``; the venv's own config still enables nbgrader's extensions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBGRADER_", "JUPYTER"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name, folder in {**JUPYTER_FOLDERS, **(more or {})}.items():
        (tmp / folder).mkdir(exist_ok=True)
        env[name] = str(tmp / folder)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running Jupyter server: its address, its token, the folder it serves, its log."""

    url: str
    token: str
    root: Path
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-8000:]


@contextmanager
def jupyter_server(
    app: str,
    root: Path,
    env: dict[str, str],
    log: Path,
    *,
    options: Sequence[str] = (),
    start_timeout: float = 120,
) -> Iterator[Server]:
    """Run ``jupyter <app>`` (``lab`` or ``server``) serving ``root``, from ``root``, until
    the block ends; fail the test with the server's log if it exits or does not answer."""
    token, port = secrets.token_hex(16), free_port()
    command = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        *options,
    ]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses root without this
        command.append("--allow-root")
    with log.open("wb") as out:
        # A session of its own, so teardown ends the server and its kernels, nothing else.
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}/", token, root, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter {app} exited ({process.returncode}):\n{server.log_tail()}")
            try:
                status = f"{server.url}api/status?token={token}"
                with urllib.request.urlopen(status, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no answer in {start_timeout} s from jupyter {app}:\n{server.log_tail()}"
                )
            time.sleep(0.5)
        yield server
    finally:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
