"""Does a notebook's install cell do nothing where the course library is, and say plainly what
to install where it cannot get it?

These run the generated cell in fresh Python processes of the course's own venv, pointed at
an address where nothing listens, so any attempt to reach the network would fail the run.
The real install, from a built site into a fresh venv, is ``test_notebook_downloads.py``'s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import lstm_lib
from lstm_grader.self_install import (
    INSTALL_TAG,
    install_source,
    set_install_cell,
    wheel_name,
)


def closed_address() -> str:
    """A loopback address where nothing listens: a request there fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def run_cell(source: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    program = (
        "import sys\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in source.splitlines())
        + "except Exception as error:\n"
        "    print(''.join(error._render_traceback_()), file=sys.stderr)\n"
        "    sys.exit(3)\n"
    )
    # pip retries a refused connection five times with back-off (about 8 s); the message
    # a learner reads in the end is the same without the retries
    env = {**os.environ, "PIP_RETRIES": "0"}
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cell_compiles_and_names_the_pinned_wheel() -> None:
    source = install_source("https://owner.github.io/course", "1.2.3")
    compile(source, "<install cell>", "exec")
    assert '"https://owner.github.io/course/packages/lstm_course-1.2.3-py3-none-any.whl"' in source
    assert '!= "1.2.3"' in source


def test_where_the_library_is_installed_it_does_nothing_and_stays_offline(
    tmp_path: Path,
) -> None:
    source = install_source(closed_address(), lstm_lib.__version__)
    started = time.perf_counter()
    run = run_cell(source, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == run.stderr == ""
    # one metadata lookup: far below a pip start (about a second)
    assert time.perf_counter() - started < 30
    assert list(tmp_path.iterdir()) == []


def test_without_network_it_says_in_one_sentence_what_to_install(tmp_path: Path) -> None:
    site = closed_address()
    run = run_cell(install_source(site, "0.0.0+missing"), tmp_path)
    assert run.returncode == 3
    message = run.stderr.strip()
    assert message.count("\n") == 0
    assert message.startswith("CourseLibraryMissing: This notebook needs the course library")
    assert f"{site}packages/{wheel_name('0.0.0+missing')}" in message
    assert "pip install" in message


def test_missing_companion_files_are_fetched_and_a_failed_fetch_is_harmless(
    tmp_path: Path,
) -> None:
    source = install_source(
        closed_address(), lstm_lib.__version__, folder="_sources/ex/", files=["mistakes.x"]
    )
    assert "/_sources/ex/" in source
    run = run_cell(source, tmp_path)
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "mistakes.x").exists()


def notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[new_markdown_cell("# Title"), new_code_cell("import lstm_lib"), new_code_cell("1")]
    )


def test_the_cell_goes_before_the_first_code_cell_tagged_and_hidden() -> None:
    nb = notebook()
    set_install_cell(nb, "https://a.github.io/b/")
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code", "code", "code"]
    assert nb.cells[1].metadata["tags"] == [INSTALL_TAG, "remove-input"]
    nbformat.validate(nb)


@pytest.mark.parametrize("minor", [4, 5])
def test_setting_it_again_replaces_the_cell_for_the_new_address(minor: int) -> None:
    nb = notebook()
    nb.nbformat_minor = minor
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    set_install_cell(nb, "https://a.github.io/b/")
    set_install_cell(nb, "http://127.0.0.1:8000/")
    installs = [cell for cell in nb.cells if INSTALL_TAG in cell.metadata.get("tags", [])]
    assert len(installs) == 1 and "http://127.0.0.1:8000/packages/" in installs[0].source
    assert len(nb.cells) == 4
    nbformat.validate(nb)


def test_switched_to_pypi_it_pins_the_exact_version_and_says_so_offline(tmp_path: Path) -> None:
    source = install_source("https://owner.github.io/course/", "1.2.3", from_pypi=True)
    assert 'COURSE_LIBRARY = "lstm-course==1.2.3"' in source
    assert "/packages/" not in source
    assert "pip install lstm-course==1.2.3" in source.replace("'\n            '", "")
