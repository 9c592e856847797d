"""Does a notebook downloaded from the built site run for a learner with no course library?

The site is assembled from the built book with ``http://127.0.0.1:<port>/`` as its address
and served from there, so nothing leaves the machine. The learner's machine is a fresh
virtual environment holding only NumPy, matplotlib and Keras with TensorFlow (what Colab
has) and ipykernel, with what they require, pip told to use no index. Their files are linked
from the course's own venv rather than installed again: a second copy of TensorFlow costs
about 2.3 GB of disk, and the same versions are the ones the course verified.

A learner downloads a student notebook alone (as Colab opens it), answers one question
right and one with its classic mistake, and runs it top to bottom: the install cell
installs the course library from the site and fetches the sealed explanations, and the
check cells give their verdicts. Run again, and in the course's own venv, the install cell
asks the site for nothing. A chapter notebook runs too. Without the site, the install cell
says in one line what to install.
"""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, classic_mistakes, read_notebook
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_book import BUILD

from lstm_grader.self_install import INSTALL_TAG, WHEELS_FOLDER, set_install_cell, wheel_name
from lstm_grader.site import assemble, check_site
from lstm_grader.synthetic import answered
from lstm_lib.sealed import SEALED_FILE

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
CHAPTER = "book/05-return-flags"
ASSIGNMENTS = sorted(path.parent.name for path in (ROOT / "exercises").glob("*/*.ipynb"))
#: Every chapter a learner can run from its download (the instructor chapter reads the
#: repository's files and says so instead).
CHAPTERS = sorted(
    path.stem
    for path in (ROOT / "book").glob("[0-9][0-9]-*.md")
    if path.stem != "10-for-instructors"
)
#: What Colab has of the course's dependencies, at the versions the course's venv verified.
LEARNER_PACKAGES = ["numpy", "matplotlib", "keras", "tensorflow", "ipykernel"]


class _Site(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        type(self).requests.append(self.path)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    """The site, built from the book and served on 127.0.0.1: its address, folder and the
    paths requested from it."""
    build = subprocess.run(BUILD, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, (build.stdout + build.stderr)[-6000:]
    folder = tmp_path_factory.mktemp("published") / "site"
    requests: list[str] = []
    handler = type("Handler", (_Site,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(folder))
    )
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    assemble(ROOT / "_build" / "html", folder, address=address)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield address, folder, requests
    server.shutdown()


def required_distributions(names: list[str]) -> list[importlib.metadata.Distribution]:
    """The distributions of this venv that ``names`` need: each one, and what it requires
    on this platform (with the extras asked for), followed to the end."""
    found: dict[str, importlib.metadata.Distribution] = {}
    followed: set[tuple[str, frozenset[str]]] = set()
    wanted = [(name, frozenset[str]()) for name in names]
    while wanted:
        name, extras = wanted.pop()
        if (canonicalize_name(name), extras) in followed:
            continue
        followed.add((canonicalize_name(name), extras))
        distribution = importlib.metadata.distribution(name)
        found[canonicalize_name(name)] = distribution
        for line in distribution.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                wanted.append((requirement.name, frozenset(requirement.extras)))
    return list(found.values())


def installed_in(python: Path) -> set[str]:
    """The (canonical) names of the distributions ``python`` has."""
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'])",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {canonicalize_name(name) for name in listing.stdout.split()}


def link_distributions(python: Path, distributions: list[importlib.metadata.Distribution]) -> None:
    """Make each distribution installed for ``python`` by linking every file of its record
    (its metadata included, so pip sees it) into ``python``'s site-packages; one it has
    already (pip, setuptools) keeps its own."""
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    own = installed_in(python)
    for distribution in distributions:
        if canonicalize_name(distribution.metadata["Name"]) in own:
            continue
        assert distribution.files, f"{distribution.metadata['Name']} has no record of its files"
        for file in distribution.files:
            source = Path(str(distribution.locate_file(file))).resolve()
            # scripts and data outside site-packages are not needed to import it
            if file.parts[0] == ".." or not source.is_file():
                continue
            target = Path(site, file)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(source)


@pytest.fixture(scope="module")
def learner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only what Colab has of the course's dependencies."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    link_distributions(python, required_distributions(LEARNER_PACKAGES))
    imports = "import numpy, matplotlib.pyplot, keras, tensorflow, ipykernel"
    subprocess.run([str(python), "-c", imports], check=True, timeout=600, cwd="/")
    # nothing of the course's other tools, so a notebook leaning on one fails here
    assert not has_module(python, "nbgrader") and not has_module(python, "lstm_lib")
    return python


def has_module(python: Path, module: str) -> bool:
    probe = [
        str(python),
        "-c",
        f"import importlib.util; print(importlib.util.find_spec({module!r}))",
    ]
    found = subprocess.run(probe, capture_output=True, text=True, cwd="/", timeout=120)
    return found.stdout.strip() != "None"


def has_course_library(python: Path) -> bool:
    return has_module(python, "lstm_lib")


def uninstall_course_library(python: Path) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "lstm-course"],
        capture_output=True,
        timeout=300,
    )


def kernel_for(python: Path, home: Path) -> str:
    """A kernelspec (under ``home``, put on JUPYTER_PATH by the caller) running ``python``
    with pip offline; its name."""
    spec = home / "kernels" / "learner"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Learner",
                "language": "python",
                # no package index: the notebook may reach only the course site
                "env": {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PYTHONPATH": ""},
            }
        )
    )
    return "learner"


def download(address: str, path: str, into: Path) -> Path:
    target = into / Path(path).name
    with urllib.request.urlopen(address + path) as response:
        target.write_bytes(response.read())
    return target


def run(notebook: nbformat.NotebookNode, kernel: str, cwd: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=600, kernel_name=kernel).execute(cwd=str(cwd))
    return notebook


def text_of(cell: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "") + output.get("evalue", "") for output in cell.get("outputs", [])
    )


def check_outputs(notebook: nbformat.NotebookNode) -> dict[str, str]:
    return {
        cell.metadata.nbgrader["grade_id"]: text_of(cell)
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
        and not cell.metadata.get("nbgrader", {}).get("solution")
    }


def install_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if INSTALL_TAG in c.metadata.get("tags", []))


def answer_with_one_mistake(
    address: str, assignment: str, kernel: str, folder: Path
) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """Download ``assignment``'s notebook alone into ``folder``, answer it right but for its
    first classic mistake, run it; the notebook as downloaded and as run."""
    path = f"_sources/exercises/{assignment}/{assignment}.ipynb"
    downloaded = read_notebook(download(address, path, folder))
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    mistake = next(iter(classic_mistakes(assignment).values()))
    return downloaded, run(
        answered(downloaded, source, {mistake["cell"]: mistake["code"]}), kernel, folder
    )


def assert_verdicts(notebook: nbformat.NotebookNode, assignment: str) -> None:
    """The install step said nothing, the mistake is named and every other answer is right."""
    assert text_of(install_cell(notebook)) == ""
    question, mistake = next(iter(classic_mistakes(assignment).items()))
    said = check_outputs(notebook)
    assert mistake["message"] in said.pop(question.split("_")[0])
    assert said and all("✔" in text or "right" in text.lower() for text in said.values()), said


def test_the_published_folder_passes_its_own_checks(served: tuple[str, Path, list[str]]) -> None:
    address, folder, _requests = served
    problems = [
        str(problem)
        for problem in check_site(folder, ["https://github.com/course-team/x"], site=address)
        if problem.path.endswith(".ipynb")
    ]
    assert problems == []
    assert (folder / WHEELS_FOLDER / wheel_name()).is_file()


def test_a_student_notebook_installs_what_it_needs_and_checks_answers(
    served: tuple[str, Path, list[str]],
    learner_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, _folder, requests = served
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = kernel_for(learner_python, tmp_path / "jupyter")
    assert not has_course_library(learner_python)

    learner = tmp_path / "learner"
    learner.mkdir()
    downloaded, notebook = answer_with_one_mistake(address, ASSIGNMENT, kernel, learner)
    assert_verdicts(notebook, ASSIGNMENT)
    assert has_course_library(learner_python)
    assert f"/{WHEELS_FOLDER}/{wheel_name()}" in requests
    assert (learner / SEALED_FILE).is_file(), "the sealed explanations were not fetched"

    # Once installed, and in the course's own venv, the cell asks the site for nothing.
    source = read_notebook(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    requests.clear()
    again = run(answered(downloaded, source), kernel, learner)
    assert text_of(install_cell(again)) == ""
    own = run(answered(downloaded, source), "python3", learner)
    assert text_of(install_cell(own)) == ""
    assert requests == []


def test_a_chapter_notebook_installs_what_it_needs_and_runs(
    served: tuple[str, Path, list[str]],
    learner_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, _folder, requests = served
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = kernel_for(learner_python, tmp_path / "jupyter")
    uninstall_course_library(learner_python)
    assert not has_course_library(learner_python)
    requests.clear()
    chapter = read_notebook(download(address, f"_sources/{CHAPTER}.ipynb", tmp_path))
    notebook = run(chapter, kernel, tmp_path)
    assert f"/{WHEELS_FOLDER}/{wheel_name()}" in requests
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    # Colab ignores the raises-exception tag: a cell that shows an error prints it instead
    shown = [c for c in notebook.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert shown and all("Error: " in text_of(cell) for cell in shown)
    assert any("Keras" in text_of(cell) for cell in notebook.cells)


def test_without_the_site_the_learner_is_told_what_to_install(
    learner_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = kernel_for(learner_python, tmp_path / "jupyter")
    uninstall_course_library(learner_python)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import lstm_lib")])
    set_install_cell(notebook, nowhere)
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError):
        run(notebook, kernel, tmp_path)
    (error,) = install_cell(notebook).outputs
    assert error.ename == "CourseLibraryMissing"
    assert error.traceback == [f"CourseLibraryMissing: {error.evalue}"]
    assert f"{nowhere}{WHEELS_FOLDER}/{wheel_name()}" in error.evalue
    assert "pip install" in error.evalue
    assert os.environ.get("PIP_NO_INDEX") is None  # the offline setting stayed in the kernel


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if a != ASSIGNMENT])
def test_every_student_notebook_gives_its_verdicts_in_the_learners_environment(
    served: tuple[str, Path, list[str]],
    learner_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    assignment: str,
) -> None:
    """Each notebook, downloaded alone, right but for one classic mistake, run top to bottom
    where the course library is not installed or was installed by another notebook."""
    address, _folder, _requests = served
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = kernel_for(learner_python, tmp_path / "jupyter")
    _downloaded, notebook = answer_with_one_mistake(address, assignment, kernel, tmp_path)
    assert_verdicts(notebook, assignment)


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if f"book/{c}" != CHAPTER])
def test_every_chapter_runs_in_the_learners_environment(
    served: tuple[str, Path, list[str]],
    learner_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chapter: str,
) -> None:
    address, _folder, _requests = served
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = kernel_for(learner_python, tmp_path / "jupyter")
    notebook = run(
        read_notebook(download(address, f"_sources/book/{chapter}.ipynb", tmp_path)),
        kernel,
        tmp_path,
    )
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_glued_value_reaches_a_downloaded_chapter_as_the_page_shows_it(
    served: tuple[str, Path, list[str]], tmp_path: Path, chapter: str
) -> None:
    """Does a downloaded chapter's text hold each glued value as the book's page does: no
    role left, no object's repr for a value glued as Markdown, no quotes round a string?"""
    address, _folder, _requests = served
    notebook = read_notebook(download(address, f"_sources/book/{chapter}.ipynb", tmp_path))
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert not re.search(r"\{glue[^}]*\}`", text), f"{chapter}: a glue role was left"
    assert "object at 0x" not in text and "display.Markdown object" not in text, chapter
    assert not re.search(r"'\(batch|'\(None", text), f"{chapter}: a glued string kept its quotes"
