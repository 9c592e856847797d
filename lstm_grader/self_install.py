"""The first cell of every notebook a learner can open: it installs the course library.

A student notebook (or a chapter downloaded as ``.ipynb``) imports :mod:`lstm_lib` in its
first lines. Opened in Colab, Binder, a JupyterHub or a bare local Jupyter, nothing has
installed it, so the notebook carries its own install step: a code cell, generated here,
that

* does nothing where ``lstm_lib`` is importable at the notebook's exact version (the
  course's own venv, the grader's sandbox): one light import the next cell needs anyway,
  no network;
* otherwise installs that version, quietly and once, from the wheel the course site serves
  (``<site>/packages/lstm_course-<version>-py3-none-any.whl``, put there by ``make site``),
  so it works before anything is on PyPI;
* fetches the files the notebook reads beside it (a practice notebook's sealed
  explanations) when they are missing, as in Colab, which opens the notebook alone;
* without network, stops with one sentence saying what to install.

The cell is tagged :data:`INSTALL_TAG` (so it can be found and rewritten for another
address) and ``remove-input`` (the book's pages do not show it to readers).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

import lstm_lib

__all__ = [
    "INSTALL_TAG",
    "PACKAGE",
    "WHEELS_FOLDER",
    "build_wheel",
    "install_cell",
    "install_requirement",
    "install_source",
    "set_install_cell",
    "wheel_name",
]

#: The distribution the notebooks install (its import package is ``lstm_lib``).
PACKAGE = "lstm-course"
#: The folder of the site that serves the course library's wheel.
WHEELS_FOLDER = "packages"
#: The tag that marks a notebook's install cell.
INSTALL_TAG = "install-course-library"
#: Where the install step gets the course library: False, the wheel the course site serves;
#: True, PyPI (``lstm-course==<version>``), once the package is published there.
INSTALL_FROM_PYPI = False


def wheel_name(version: str = lstm_lib.__version__) -> str:
    """The file name of the course library's wheel at ``version``.

    Examples
    --------
    >>> wheel_name("0.1.0")
    'lstm_course-0.1.0-py3-none-any.whl'
    """
    return f"{PACKAGE.replace('-', '_')}-{version}-py3-none-any.whl"


def install_requirement(
    site: str, version: str = lstm_lib.__version__, *, from_pypi: bool | None = None
) -> str:
    """What the install step gives pip: the site's wheel, or the exact version on PyPI.

    Examples
    --------
    >>> install_requirement("https://owner.github.io/course", "1.0", from_pypi=False)
    'https://owner.github.io/course/packages/lstm_course-1.0-py3-none-any.whl'
    >>> install_requirement("https://owner.github.io/course/", "1.0", from_pypi=True)
    'lstm-course==1.0'
    """
    if INSTALL_FROM_PYPI if from_pypi is None else from_pypi:
        return f"{PACKAGE}=={version}"
    site = site if site.endswith("/") else site + "/"
    return f"{site}{WHEELS_FOLDER}/{wheel_name(version)}"


def install_source(
    site: str,
    version: str = lstm_lib.__version__,
    *,
    folder: str = "",
    files: Sequence[str] = (),
    from_pypi: bool | None = None,
) -> str:
    """The source of the install cell for a notebook published on ``site``.

    Parameters
    ----------
    site : str
        The course site's address, e.g. ``https://owner.github.io/course/``.
    version : str
        The exact version of the course library the notebook was made with.
    folder : str
        The notebook's folder on the site, relative to ``site`` (``_sources/exercises/x/``).
    files : sequence of str
        The files the notebook reads from its own folder, fetched from ``folder`` when
        missing.
    from_pypi : bool, optional
        Install from PyPI instead of the site (default: :data:`INSTALL_FROM_PYPI`).

    Returns
    -------
    str
        Python source, self-contained: it runs before the course library exists.
    """
    site = site if site.endswith("/") else site + "/"
    requirement = install_requirement(site, version, from_pypi=from_pypi)
    remedy = (
        f"download {requirement} and run `pip install <that file>`"
        if requirement.startswith(site)
        else f"run `pip install {requirement}`"
    )
    message = (
        f"This notebook needs the course library {PACKAGE} {version}: connect to the "
        f"internet and run this cell again, or {remedy} in this notebook's Python."
    )
    lines = [
        f"# The course library, {PACKAGE} {version}: installed from the course site the first",
        "# time this notebook runs where it is missing (Colab, Binder, your own Jupyter).",
        "import importlib, os, sys",
        "",
        f'COURSE_LIBRARY = "{requirement}"',
        "",
        "",
        "class CourseLibraryMissing(Exception):",
        "    def _render_traceback_(self):  # one line, without a traceback",
        '        return [f"CourseLibraryMissing: {self}"]',
        "",
        "",
        "try:",
        "    import lstm_lib",
        "",
        '    _installed = getattr(lstm_lib, "__version__", None)',
        "except ImportError:",
        "    _installed = None",
        f'if _installed != "{version}":',
        "    import subprocess",
        "",
        '    _pip = [sys.executable, "-m", "pip", "install", "--quiet", COURSE_LIBRARY]',
        "    if subprocess.run(_pip, capture_output=True).returncode != 0:",
        "        raise CourseLibraryMissing(",
        *(f"            {chunk!r}" for chunk in textwrap.wrap(message, 76, drop_whitespace=False)),
        "        )",
        "    # an older version imported above must not shadow the one just installed",
        '    for _module in [name for name in sys.modules if name.split(".")[0] == "lstm_lib"]:',
        "        del sys.modules[_module]",
        "    importlib.invalidate_caches()",
    ]
    if files:
        folder_url = site + folder.strip("/") + "/" if folder.strip("/") else site
        lines += [
            "",
            "# Files this notebook reads beside it; without them the checks name fewer mistakes.",
            f"for _name in {list(files)!r}:",
            "    if not os.path.exists(_name):",
            "        import urllib.request",
            "",
            "        try:",
            f'            urllib.request.urlretrieve("{folder_url}" + _name, _name)',
            "        except OSError:",
            "            pass",
        ]
    return "\n".join(lines)


def install_cell(
    site: str,
    version: str = lstm_lib.__version__,
    *,
    folder: str = "",
    files: Sequence[str] = (),
    from_pypi: bool | None = None,
) -> NotebookNode:
    """The install cell (see :func:`install_source`), tagged to be found and hidden."""
    source = install_source(site, version, folder=folder, files=files, from_pypi=from_pypi)
    cell = new_code_cell(source)
    cell.metadata["tags"] = [INSTALL_TAG, "remove-input"]
    # nbformat 4.4 notebooks carry no cell ids; the tag finds the cell in either.
    cell.pop("id", None)
    return cell


def set_install_cell(
    nb: NotebookNode,
    site: str,
    version: str = lstm_lib.__version__,
    *,
    folder: str = "",
    files: Sequence[str] = (),
    from_pypi: bool | None = None,
) -> None:
    """Give ``nb`` its install cell: replace the one it has, or put one before its code.

    Parameters
    ----------
    nb : NotebookNode
        The notebook, changed in place.
    site, version, folder, files, from_pypi
        As for :func:`install_source`.
    """
    cell = install_cell(site, version, folder=folder, files=files, from_pypi=from_pypi)
    if nb.get("nbformat_minor", 0) >= 5 and nb.get("nbformat", 4) >= 4:
        cell["id"] = INSTALL_TAG
    for index, existing in enumerate(nb.cells):
        if INSTALL_TAG in existing.get("metadata", {}).get("tags", []):
            nb.cells[index] = cell
            return
    first_code = next(
        (i for i, existing in enumerate(nb.cells) if existing.cell_type == "code"),
        len(nb.cells),
    )
    nb.cells.insert(first_code, cell)


def build_wheel(folder: Path, root: Path) -> Path:
    """Build the course library's wheel from the repository ``root`` into ``folder``.

    Parameters
    ----------
    folder : Path
        Where the wheel goes (created if missing).
    root : Path
        The repository, whose ``pyproject.toml`` describes the package.

    Returns
    -------
    Path
        The wheel, named by :func:`wheel_name`.

    Raises
    ------
    RuntimeError
        If pip cannot build it, with pip's own message.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        # pip builds in the source folder itself: a copy keeps build/ and egg-info out of
        # the repository.
        sources = Path(scratch) / "sources"
        sources.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, sources / name)
        for package in ("lstm_lib", "lstm_grader"):
            shutil.copytree(
                root / package, sources / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        wheels = Path(scratch) / "wheels"
        run = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
            + ["--wheel-dir", str(wheels), str(sources)],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"pip could not build the course library's wheel:\n{run.stderr}")
        built = sorted(wheels.glob("*.whl"))
        if [wheel.name for wheel in built] != [wheel_name()]:
            raise RuntimeError(f"pip built {[w.name for w in built]}, not {wheel_name()}")
        target = folder / wheel_name()
        shutil.copy2(built[0], target)
    return target
