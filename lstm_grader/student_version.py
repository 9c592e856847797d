"""The student version's checks, set up when ``nbgrader generate_assignment`` makes it.

:class:`PrepareStudentChecks` is a ``GenerateAssignment`` preprocessor (listed in
``nbgrader_config.py``). For the check mode the instructor chose for the assignment
(:meth:`~lstm_grader.course.CourseLayout.mode`), it:

* makes the setup cell call :func:`lstm_lib.checks.use_mode` with that mode;
* puts first among the code cells the install step (:mod:`lstm_grader.self_install`), which
  gets the course library from the course site (``_config.yml``'s address) where it is
  missing, so the notebook runs in Colab, Binder or any Jupyter;
* adds, after the notebook's introduction, a cell that tells the learner how to work on
  the assignment: where to open it, what to install, what the check cells and nbgrader's
  Validate button check, and what they do not;
* makes a cell run before the install cell, where the course library is missing (a fresh
  Colab runtime), say so in one line (:func:`with_install_guard`, :data:`SETUP_GUARD`): each
  check cell's opening ``from lstm_lib.checks import say_what_to_run`` and
  ``say_what_to_run()`` become two lines that try the same import and, where it fails, stop
  with one line saying to run the install and setup cells, rather than a
  ``ModuleNotFoundError`` traceback (under which Colab suggests pip-installing a package of
  that name); the setup cell opens with the same test;
* tags the setup and test cells ``remove-input``: the book's Exercises pages show the
  questions, not the grading code;
* takes the ``mistakes=`` argument out of each check cell's ``reveal`` and
  ``reveal_layer`` calls (:func:`without_named_mistakes`): the list of classic wrong
  answers tells a learner, by elimination, what the right one is (a plain ``Dense(4)``
  named as a mistake says the bias goes). The recorded references keep them, the grader
  judges with them, and a practice check still names them from the sealed explanations;
* tags each answer and check cell ``raises-exception``, so that a form slip or a question
  not yet answered (whose cell still raises nbgrader's ``NotImplementedError``) shows its
  message and Run All goes on to the next question (JupyterLab and nbclient honour it);
* replaces the plain ``feedback.json`` nbgrader copied from ``solutions/`` with the
  explanations sealed under the answers they explain (:mod:`lstm_lib.sealed`) in practice
  mode, and with nothing in graded mode, where the explanations come back in the feedback.

The sealed explanations are read from the recorded references, so record them
(``python -m lstm_grader.record``) before generating.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

import lstm_lib
from lstm_grader.course import CourseLayout, layout_of
from lstm_grader.references import load_references
from lstm_grader.self_install import PACKAGE, set_install_cell
from lstm_grader.site import CONFIG, download_folder, site_address
from lstm_lib.checks import FEEDBACK_FILE
from lstm_lib.sealed import SEALED_FILE, seal

__all__ = [
    "CHECK_GUARD",
    "HOW_CHECKED",
    "HOW_TO_WORK",
    "NOT_INSTALLED",
    "PrepareStudentChecks",
    "SETUP_GUARD",
    "sealed_entries",
    "with_install_guard",
    "without_named_mistakes",
]

#: The check calls whose ``mistakes=`` argument the student version leaves out.
_CHECK_CALLS = ("reveal", "reveal_layer")

#: How to open, install, answer and hand in a student notebook, whatever its mode.
HOW_TO_WORK = (
    "**How to work on this assignment.**\n\n"
    "- **Open it.** On the course site, the launch button at the top of the page opens this "
    "notebook in Colab or Binder, and the download button gives the `.ipynb` for your own "
    "Jupyter; in a course JupyterHub, fetch it from the Assignments tab.\n"
    "- **Install nothing.** The first code cell installs the course library "
    f"(`{PACKAGE}` {lstm_lib.__version__}) the first time the notebook runs where it is "
    "missing, and does nothing after that. The notebook needs Python 3.11 or newer with "
    "NumPy, matplotlib and Keras 3 (with TensorFlow), as Colab has.\n"
    "- **Predict, then check.** Write each prediction where the cell says "
    "`# YOUR CODE HERE`, then run the check cell below it; run a *see it in Keras* cell "
    "only after you have predicted.\n"
    "- **Hand it in** as your course says: nbgrader's Submit button, or the `.ipynb` "
    "uploaded to your learning platform."
)

#: The text of the cell that tells a learner how the notebook checks answers, by mode.
HOW_CHECKED = {
    "practice": (
        "**How your answers are checked (practice).** After you write a prediction, run "
        "the check cell below it. It first checks the *form* of your answer (a tuple, an "
        "int, a list...). Then, where Keras is installed, it builds the layer and says "
        "whether your prediction is right; when it is not, its verdict names the mistake "
        "without giving the value away. Some checks also print what Keras did (a layer's "
        "weights, the error it raised), which can show the value: write your prediction "
        'before you run them. After an attempt, `show_answer("q3")` (with the '
        "question's id) shows what Keras computes and why.\n\n"
        "A form slip shows its message in red, and Run All goes on to the next question. "
        "nbgrader's **Validate** button checks only that each answer is there and in the "
        "right form, not whether it is right. Grading compares your answers with values "
        "recorded from Keras."
    ),
    "graded": (
        "**How your answers are checked (graded).** Each check cell checks only the *form* "
        "of your answer (a tuple, an int, a list...) and says so: it does not say whether "
        "the answer is right, and this notebook shows no value computed by Keras. "
        'nbgrader\'s **Validate** button checks the same: its "Success" means every '
        "answer is there and can be graded, not that it is right.\n\n"
        "A form slip shows its message in red, and Run All goes on to the next question. "
        "After grading, your feedback shows each question's Keras value and its "
        "explanation."
    ),
}

#: What a cell run before the install cell says where the course library is missing: the
#: cell it names is the one that installs the library (the student version's first code
#: cell), and the setup cell loads the checks.
NOT_INSTALLED = (
    "The course library is not installed in this Python yet: run this notebook's first "
    "code cell, which installs it, then {then}."
)

#: The two lines a solution's check cell opens with (after its docstring), run before
#: anything the setup cell binds (see README, "Write or change an exercise").
CHECK_OPENING = ("from lstm_lib.checks import say_what_to_run", "say_what_to_run()")

#: The two lines that open a student version's check cell in their place. Only the
#: standard library and IPython (which every Jupyter kernel runs on) are at hand before the
#: install cell: IPython shows a ``UsageError`` as its one line, without a traceback, and a
#: ``UsageError`` is no ``ImportError``, whose traceback Colab follows with advice to
#: pip-install a package of the missing module's name. Two lines for two, so that a check
#: cell is no longer than its solution.
CHECK_GUARD = (
    "try: from lstm_lib.checks import say_what_to_run; say_what_to_run()  "
    "# run out of order, a check says which cell to run first",
    'except ImportError: raise __import__("IPython").core.error.UsageError('
    f"{NOT_INSTALLED.format(then='the setup cell below it and this check again')!r})",
)

#: What the setup cell opens with in the student version: the same test, stopping with an
#: error a grader sees (an ``error`` output, which a ``UsageError`` does not leave), shown
#: as one line as the install cell's own error is.
SETUP_GUARD = f"""\
try:  # the course library: the notebook's first code cell installs it
    import lstm_lib.checks
except ImportError:
    class CourseLibraryMissing(Exception):
        def _render_traceback_(self):  # one line, without a traceback
            return [f"CourseLibraryMissing: {{self}}"]

    raise CourseLibraryMissing({NOT_INSTALLED.format(then="this cell again")!r}) from None
"""

#: The id of the cell added after the introduction.
HOW_CHECKED_ID = "how-checked"


def sealed_entries(references: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """Each recorded classic mistake and wrong option, as ``(question, answer, message)``.

    Parameters
    ----------
    references : dict
        An assignment's references, as :func:`~lstm_grader.references.load_references`
        returns them.
    """
    for question, ref in references.items():
        for mistake in ref.mistakes:
            if "value" in mistake and mistake.get("message"):
                yield question, mistake["value"], str(mistake["message"])
        why_not = (ref.context or {}).get("why_not") or {}
        for option, message in why_not.items():
            yield question, option, str(message)


def _is_setup(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and "lstm_lib.checks import" in cell.source


def _is_answer_or_check(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and (utils.is_grade(cell) or utils.is_solution(cell))


def _is_check(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def without_named_mistakes(source: str) -> str:
    """``source`` with the ``mistakes=`` argument of every ``reveal`` and ``reveal_layer``
    call taken out, and everything else as it was written.

    Parameters
    ----------
    source : str
        A check cell's Python source.

    Returns
    -------
    str
        The source without those arguments (the same text when it has none).

    Raises
    ------
    ValueError
        If ``source`` is not Python, or an argument could not be taken out.

    Examples
    --------
    >>> without_named_mistakes('reveal("q1", a, (None, 4), mistakes={"x": (None, 6)})')
    'reveal("q1", a, (None, 4))'
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"a check cell is not Python ({exc})") from exc
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        # ast counts columns in UTF-8 bytes
        return starts[line - 1] + len(lines[line - 1].encode()[:column].decode())

    cuts = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _CHECK_CALLS:
            continue
        arguments = sorted([*node.args, *node.keywords], key=lambda a: (a.lineno, a.col_offset))
        for index, argument in enumerate(arguments):
            if isinstance(argument, ast.keyword) and argument.arg == "mistakes" and index:
                before = arguments[index - 1]
                cuts.append(
                    (
                        offset(before.end_lineno, before.end_col_offset),
                        offset(argument.end_lineno, argument.end_col_offset),
                    )
                )
    for start, end in sorted(cuts, reverse=True):
        source = source[:start] + source[end:]
    left = [
        keyword
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in _CHECK_CALLS
        for keyword in node.keywords
        if keyword.arg == "mistakes"
    ]
    if left:
        raise ValueError("a check cell's mistakes= argument could not be taken out")
    return source


def with_install_guard(source: str) -> str:
    """``source``, a check cell, with its opening lines (:data:`CHECK_OPENING`) made to
    say in one line what to run first where the course library is missing
    (:data:`CHECK_GUARD`); everything else as it was written.

    Parameters
    ----------
    source : str
        A check cell's Python source.

    Returns
    -------
    str
        The source with the two guarded lines in place of the opening, as many lines as
        before; the same text when it does not open that way.

    Examples
    --------
    >>> opening = "from lstm_lib.checks import say_what_to_run\\nsay_what_to_run()\\n"
    >>> cell = "'Is it right?'\\n" + opening + "expect_int(answer_q1)"
    >>> [line.split(":")[0] for line in with_install_guard(cell).splitlines()]
    ["'Is it right?'", 'try', 'except ImportError', 'expect_int(answer_q1)']
    """
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    body = tree.body
    opening = [ast.dump(node) for node in ast.parse("\n".join(CHECK_OPENING)).body]
    if len(body) < 3 or [ast.dump(node) for node in body[1:3]] != opening:
        return source
    first, last = body[1].lineno - 1, body[2].end_lineno or body[2].lineno
    if body[1].col_offset or body[2].lineno != first + 2:
        return source
    ending = "\n" if lines[last - 1].endswith("\n") else ""
    guard = [CHECK_GUARD[0] + "\n", CHECK_GUARD[1] + ending]
    return "".join(lines[:first] + guard + lines[last:])


def _tag(cell: NotebookNode, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


class PrepareStudentChecks(NbGraderPreprocessor):
    """Set the student version's check mode, its note on checking, its tags and its
    sealed explanations (see the module's docstring)."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        assignment = resources["nbgrader"]["assignment"]
        layout = layout_of(self)
        mode = layout.mode(assignment)
        setup = next((cell for cell in nb.cells if _is_setup(cell)), None)
        if setup is None:
            raise ValueError(
                f"{assignment}: no setup cell imports lstm_lib.checks, so the student "
                "version could not be told its check mode"
            )
        setup.source = (
            SETUP_GUARD
            + setup.source.rstrip("\n")
            + "\nfrom lstm_lib.checks import show_answer, use_mode\n"
            f"use_mode({mode!r})  # chosen by the instructor for this version"
        )
        _tag(setup, "remove-input")
        for cell in nb.cells:
            if _is_answer_or_check(cell):
                _tag(cell, "raises-exception")
            if _is_check(cell):
                _tag(cell, "remove-input")
                cell.source = with_install_guard(without_named_mistakes(cell.source))
        first_markdown = next(
            (i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"), -1
        )
        note = new_markdown_cell(HOW_TO_WORK + "\n\n" + HOW_CHECKED[mode])
        note.id = HOW_CHECKED_ID
        nb.cells.insert(first_markdown + 1, note)
        self._write_explanations(layout, assignment, mode)
        config = layout.root / CONFIG.name
        set_install_cell(
            nb,
            site_address(config if config.is_file() else CONFIG),
            folder=download_folder(layout.release(assignment).relative_to(layout.root).as_posix()),
            files=[SEALED_FILE] if mode == "practice" else [],
        )
        return nb, resources

    def _write_explanations(self, layout: CourseLayout, assignment: str, mode: str) -> None:
        release = layout.release(assignment)
        # the plain texts list every wrong answer: a learner must not read them off the folder
        (release / FEEDBACK_FILE).unlink(missing_ok=True)
        sealed_path = release / SEALED_FILE
        sealed_path.unlink(missing_ok=True)
        if mode != "practice":
            return
        references_file = layout.references_file(assignment)
        references = load_references(references_file.parent, assignment)
        sealed = seal(sealed_entries(references))
        # nbgrader makes the release folder when it copies the assignment's other files:
        # an assignment that is only its notebook has none yet
        release.mkdir(parents=True, exist_ok=True)
        sealed_path.write_text(json.dumps(sealed, indent=1, sort_keys=True) + "\n")
