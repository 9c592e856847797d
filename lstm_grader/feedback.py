"""Feedback pages that read well on a desktop and on a phone.

``nbgrader generate_feedback`` renders each autograded notebook to HTML. Two pieces here
plug into it through ``nbgrader_config.py``:

:class:`PresentVerdicts`, a preprocessor of the ``GenerateFeedback`` step (after
    ``GetGrades``, before ``SanitizeLearnerHTML``)
    Reads the verdict :class:`~lstm_grader.preprocessors.JudgeAnswers` left as each test
    cell's outputs (a ``✔ q3: ...`` stream, a ``WrongAnswer`` or ``NoAnswer`` error; in a
    cell that earns partial credit, ``✔``/``✘`` streams and a result holding the points)
    and replaces it with one ``text/html`` output per question: the message escaped, with
    its Markdown-style backticks as ``<code>``, built only from tags that the sanitizer
    after it keeps (``strong``, ``code``, ``em``), so bleach checks it again and leaves it
    whole. In graded mode (:meth:`~lstm_grader.course.CourseLayout.mode`), where the
    notebook showed no Keras value, each question's verdict is followed by its expected
    value from ``references/`` and :func:`~lstm_lib.explanations.explain_answer`'s reason,
    built the same way. It records, as plain data in the cell's metadata, what the page
    shows around it: the question ids, the question text (the test cell's docstring), the
    outcome (``partial`` with the points earned, for partial credit) and each question's
    own outcome. It also
    points the notebooks' relative links to the book's chapters (``../../book/NN-topic.md``)
    at the published book (:attr:`PresentVerdicts.book_url`) or, by default, at the book
    built in the course directory.
:class:`FeedbackExporter`, the ``GenerateFeedback`` exporter
    nbgrader's HTML exporter with the course's template (``templates/lstm_feedback``),
    which extends nbgrader's own ``feedback`` template: a table of contents listing each
    question with its outcome, each test cell titled with its question, the verdict as a
    wrapped, coloured block (the expected value below it in graded mode), and a stylesheet
    for narrow and wide screens. Every piece of metadata it prints goes through
    ``escape_html`` or :func:`inline_html`.
"""

from __future__ import annotations

import ast
import functools
import glob
import html
import json
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from traitlets import Bool, Unicode

from lstm_grader import report, safefiles
from lstm_grader.course import FEEDBACK_GRADES_FILE, layout_of
from lstm_grader.references import Reference, ReferenceFileError, load_references
from lstm_lib.explanations import explain_answer, format_expected

#: The course's nbconvert templates; ``lstm_feedback`` extends nbgrader's ``feedback``.
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "lstm_feedback"
#: The cell metadata key the template reads, and the output metadata key of a verdict.
CELL_KEY = "lstm_feedback"
OUTPUT_KEY = "lstm_verdict"
#: The resources key of page-wide facts (``math``: whether MathJax is needed).
RESOURCES_KEY = "lstm_feedback"
#: Outcomes, in the order a cell with several verdicts takes the worst of them.
OUTCOMES = ("correct", "no-answer", "wrong")
#: The outcome of a test cell that earned part of its points (never one verdict's).
PARTIAL = "partial"
_MARKS = {"correct": "✔", "wrong": "✘", "no-answer": "–", PARTIAL: "◐"}
_LABELS = {"correct": "Correct", "wrong": "Wrong", "no-answer": "No answer"}
#: The verdict streams JudgeAnswers writes: right, and wrong in a cell with partial credit.
_STREAM_OUTCOMES = {"✔": "correct", "✘": "wrong"}


# --------------------------------------------------------------------------- text to HTML
_CODE_SPAN = re.compile(r"(?<!`)(?P<fence>`+)(?!`)(?P<code>.+?)(?<!`)(?P=fence)(?!`)", re.S)
_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?=[^\s*])(?P<text>[^*\n]+?)(?<=[^\s*])\*(?![\w*])")


def inline_html(text: str) -> str:
    """``text`` as HTML: Markdown-style code spans as ``<code>``, ``*word*`` as ``<em>``,
    everything else escaped (a message can quote a learner's answer verbatim).

    Only ``code`` and ``em`` tags are produced: both survive nbconvert's ``SanitizeHTML``.

    Examples
    --------
    >>> inline_html("that is `return_sequences=True`, the *last* step")
    'that is <code>return_sequences=True</code>, the <em>last</em> step'
    >>> inline_html("got '<script>alert(1)</script>' and `<b>`")
    'got &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; and <code>&lt;b&gt;</code>'
    >>> inline_html("an unmatched ` stays, 2*3*4 too")
    'an unmatched ` stays, 2*3*4 too'
    """
    parts: list[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_emphasis(text[position : match.start()]))
        code = match["code"]
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        parts.append(f"<code>{html.escape(code)}</code>")
        position = match.end()
    parts.append(_emphasis(text[position:]))
    return "".join(parts)


def _emphasis(text: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _EMPHASIS.finditer(text):
        parts.append(html.escape(text[position : match.start()]))
        parts.append(f"<em>{html.escape(match['text'])}</em>")
        position = match.end()
    parts.append(html.escape(text[position:]))
    return "".join(parts)


# --------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """One verdict read from a test cell's outputs."""

    outcome: str  #: one of :data:`OUTCOMES`
    message: str
    question: str | None = None
    #: Printed beside the verdicts (a review note, a plain nbgrader cell's output), not
    #: one itself: it does not decide the cell's outcome when real verdicts are there.
    note: bool = False

    @property
    def plain(self) -> str:
        head = f"{_MARKS[self.outcome]} {self.question}" if self.question else _MARKS[self.outcome]
        return f"{head}: {self.message}"

    @property
    def html(self) -> str:
        head = f"{_MARKS[self.outcome]} {self.question}" if self.question else _MARKS[self.outcome]
        return f"<strong>{html.escape(head)}</strong> {inline_html(self.message)}"


_QUESTION_PREFIX = re.compile(r"(?P<question>[A-Za-z_][A-Za-z0-9_]*): (?P<message>.*)", re.S)


def _split_question(text: str) -> tuple[str | None, str]:
    match = _QUESTION_PREFIX.fullmatch(text.strip())
    return (match["question"], match["message"]) if match else (None, text.strip())


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def read_verdicts(cell: NotebookNode) -> list[Verdict]:
    """The verdicts :class:`~lstm_grader.preprocessors.JudgeAnswers` left in a test cell.

    A ``✔ q: ...`` stream is correct, a ``✘ q: ...`` stream (a part of a cell that earns
    partial credit) or a ``WrongAnswer`` error wrong, a ``NoAnswer`` error no answer; any
    other error (a notebook graded by plain nbgrader) is wrong and keeps its name. A result
    that is a number is the points the cell earned (see :func:`read_points`), not a verdict;
    any other stream or display is shown as a note beside the verdicts.
    """
    found: list[Verdict] = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            text = _text(output.get("text")).strip()
            if text[:1] in _STREAM_OUTCOMES:
                question, message = _split_question(text[1:])
                found.append(Verdict(_STREAM_OUTCOMES[text[0]], message, question))
            elif text:
                found.append(Verdict("no-answer", text, note=True))
        elif kind == "error":
            ename, evalue = str(output.get("ename", "")), _text(output.get("evalue"))
            if ename == "WrongAnswer":
                question, message = _split_question(evalue)
                found.append(Verdict("wrong", message, question))
            elif ename == "NoAnswer":
                found.append(Verdict("no-answer", evalue.strip()))
            else:
                found.append(Verdict("wrong", f"{ename}: {evalue}".strip()))
        elif kind in ("display_data", "execute_result"):
            text = _text(output.get("data", {}).get("text/plain")).strip()
            if kind == "execute_result" and _number(text) is not None:
                continue
            if text:
                found.append(Verdict("no-answer", text, note=True))
    return found


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no score


def read_points(cell: NotebookNode) -> float | None:
    """The points a test cell earned as autograded, when it says so itself.

    A cell that earns partial credit ends in a result that is a number, which nbgrader reads
    as its score; an error output scores 0 whatever comes with it, as nbgrader scores it.
    ``None``: the cell gives no number (nbgrader's all-or-nothing rule applies).

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_output
    >>> cell = new_code_cell(outputs=[new_output("stream", text="✔ q5_h: Right."),
    ...                               new_output("execute_result", data={"text/plain": "1.0"})])
    >>> read_points(cell)
    1.0
    """
    outputs = cell.get("outputs", [])
    if any(output.get("output_type") == "error" for output in outputs):
        return 0.0 if any(o.get("output_type") == "execute_result" for o in outputs) else None
    for output in outputs:
        if output.get("output_type") == "execute_result":
            return _number(_text(output.get("data", {}).get("text/plain")).strip())
    return None


def points_text(value: float) -> str:
    """Points as a person writes them: ``1``, ``0.5``, ``0.67``.

    Examples
    --------
    >>> points_text(1.0), points_text(2 / 3)
    ('1', '0.67')
    """
    return f"{round(value, 2):g}"


def answer_html(question: str, kind: str, expected: Any, context: Any) -> tuple[str, str]:
    """The expected value of a question and why, as escaped HTML and as plain text.

    The value is shown as Python prints it (:func:`~lstm_lib.explanations.format_expected`)
    in a ``<code>``; the explanation goes through :func:`inline_html`. Only ``strong``,
    ``code`` and ``em`` tags are produced, which the sanitizer after this step keeps.

    Examples
    --------
    >>> page, plain = answer_html("q1", "choice", "<b>", {"options": ["<b>"]})
    >>> page.split(" The right option")[0]
    '<strong>Answer to q1:</strong> <code>&#x27;&lt;b&gt;&#x27;</code>'
    >>> plain
    "Answer to q1: '<b>' The right option is `'<b>'`."
    """
    value = format_expected(kind, expected)
    why = explain_answer(kind, expected, context)
    head = f"Answer to {question}:"
    page = (
        f"<strong>{html.escape(head)}</strong> <code>{html.escape(value)}</code> {inline_html(why)}"
    )
    return page, f"{head} {value} {why}"


def question_text(source: str) -> str:
    """The question a test cell asks: its docstring, without the ``q3:`` it starts with.

    Examples
    --------
    >>> question_text('\"\"\"q3: is answer_q3 the list of shapes?\"\"\"\\nexpect_shapes(answer_q3)')
    'is answer_q3 the list of shapes?'
    """
    try:
        docstring = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        match = re.match(r"\s*(?:'''|\"\"\")(.*?)(?:'''|\"\"\")", source, re.S)
        docstring = match[1].strip() if match else ""
    return _split_question(" ".join(docstring.split()))[1] if docstring else ""


def _is_test_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _anchor(grade_id: str) -> str:
    return "question-" + re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)


# --------------------------------------------------------------------------- links
_INLINE_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^<>\n]*>|[^\s()<>]+)(?P<title>\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_REFERENCE = re.compile(
    r"^(?P<lead> {0,3}\[[^\]]+\]:[ \t]*)(?P<target><[^<>\n]*>|\S+)(?P<rest>.*)$", re.M
)
_HREF = re.compile(r"(?P<lead>\bhref\s*=\s*)(?P<quote>[\"'])(?P<target>.*?)(?P=quote)", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def rewrite_links(markdown: str, page_for: Any) -> str:
    """Rewrite the link targets of a markdown cell (inline, reference and ``href=``).

    ``page_for(target)`` returns the new target, ``None`` to leave it, or ``""`` to
    drop the link (inline links keep their text).

    Examples
    --------
    >>> to_html = lambda t: t.replace(".md", ".html") if t.endswith(".md") else None
    >>> rewrite_links("[The flags](../../book/05-flags.md) and [x](https://a.b/c.md)", to_html)
    '[The flags](../../book/05-flags.html) and [x](https://a.b/c.html)'
    """

    def inline(match: re.Match[str]) -> str:
        target = match["target"].strip("<>")
        new = page_for(target)
        if new is None or match["bang"]:
            return match[0]
        if new == "":
            return match["text"]
        return f"[{match['text']}]({_safe_target(new)}{match['title'] or ''})"

    def reference(match: re.Match[str]) -> str:
        new = page_for(match["target"].strip("<>"))
        if new is None:
            return match[0]
        return f"{match['lead']}{_safe_target(new or '#')}{match['rest']}"

    def href(match: re.Match[str]) -> str:
        new = page_for(html.unescape(match["target"]))
        if new is None:
            return match[0]
        return f"{match['lead']}{match['quote']}{html.escape(new or '#')}{match['quote']}"

    markdown = _INLINE_LINK.sub(inline, markdown)
    markdown = _REFERENCE.sub(reference, markdown)
    return _HREF.sub(href, markdown)


def _safe_target(target: str) -> str:
    return f"<{target}>" if re.search(r"[\s()]", target) else target


# --------------------------------------------------------------------------- preprocessor
class PresentVerdicts(Preprocessor):
    """Turn each test cell's verdict into a titled, styled, escaped block for feedback.

    Runs in ``GenerateFeedback`` after ``GetGrades`` (whose scores it reads) and before
    ``SanitizeLearnerHTML``, which then cleans the verdict HTML again; the verdict uses only
    tags that sanitizer keeps. The template of :class:`FeedbackExporter` draws the title,
    the outcome colours and the table of contents from the plain data this leaves in each
    test cell's metadata (``lstm_feedback``).
    """

    enabled = Bool(True, help="nbconvert preprocessors are off unless enabled.").tag(config=True)
    book_url = Unicode(
        "",
        help="Where the book is published, e.g. https://example.org/keras-course: links to "
        "its chapters (../../book/NN-topic.md in the notebooks) become "
        "<book_url>/book/NN-topic.html. Empty: they point at the book built in the course "
        "directory (book_build_directory), relative to each feedback file, which works "
        "where the instructor opens feedback/ but not in a copy a learner downloads.",
    ).tag(config=True)
    book_build_directory = Unicode(
        os.path.join("_build", "html"),
        help="Where `jb build .` writes the book's HTML, relative to the course root; used "
        "when book_url is empty.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warned: set[str] = set()  # one warning per run, not one per notebook

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        self._ids = resources.get("nbgrader", {})
        self._layout = layout_of(self)
        assignment = str(self._ids.get("assignment", ""))
        mode = self._layout.mode(assignment) if assignment else "practice"
        # graded mode: the notebook showed no Keras value, so the page gives it back
        self._references = self._load_references(assignment) if mode == "graded" else {}
        page: dict[str, Any] = {"math": False, "mode": mode}
        for cell in nb.cells:
            # only this step writes these keys: drop any the notebook arrived with
            cell.get("metadata", {}).pop(CELL_KEY, None)
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop(OUTPUT_KEY, None)
            if cell.cell_type == "markdown":
                cell.source = rewrite_links(_text(cell.source), self._page_for)
                page["math"] = page["math"] or _has_math(cell.source)
            elif _is_test_cell(cell):
                self._present(cell)
            elif cell.cell_type == "code":
                page["math"] = page["math"] or any(
                    "text/latex" in o.get("data", {}) for o in cell.get("outputs", [])
                )
        resources[RESOURCES_KEY] = page
        return nb, resources

    def _load_references(self, assignment: str) -> dict[str, Reference]:
        folder = self._layout.references_file(assignment).parent
        try:
            return load_references(folder, assignment)
        except (OSError, ReferenceFileError) as exc:
            # the verdicts still go out; only the expected values are missing
            if assignment not in self._warned:
                self._warned.add(assignment)
                self.log.warning("feedback shows no expected values for %s: %s", assignment, exc)
            return {}

    def _present(self, cell: NotebookNode) -> None:
        meta = cell.metadata.nbgrader
        grade_id = str(meta.get("grade_id", ""))
        points = float(meta.get("points") or 0)
        score = float(meta.get("score") or 0)
        verdicts = read_verdicts(cell)
        earned = read_points(cell)
        questions = [v.question for v in verdicts if v.question]
        if not any(not v.note for v in verdicts):
            # a plain nbgrader test cell that passed prints nothing; GetGrades has its score
            passed = (earned if earned is not None else score) >= points
            verdicts.insert(
                0, Verdict("correct" if passed else "wrong", "Passed." if passed else "Failed.")
            )
        judged = [v for v in verdicts if not v.note]
        outcome = max((v.outcome for v in judged), key=OUTCOMES.index)
        label = _LABELS[outcome]
        if earned is not None and 0 < earned < points:
            outcome = PARTIAL
            unit = "point" if points == 1 else "points"
            label = f"Partly right ({points_text(earned)} of {points_text(points)} {unit})"
        elif outcome == "wrong" and any(v.outcome == "correct" for v in judged):
            label = "Partly wrong"  # an error in the cell: nbgrader gives it nothing
        shown = ", ".join(dict.fromkeys(questions))
        # what the verdicts earned; GetGrades reads the final score, and one that differs
        # was given by hand in the formgrader
        autograded = earned if earned is not None else (points if outcome == "correct" else 0.0)
        parts = [
            {"question": v.question, "outcome": v.outcome, "mark": _MARKS[v.outcome]}
            for v in judged
            if v.question
        ]
        cell.metadata[CELL_KEY] = {
            "anchor": _anchor(grade_id),
            "label": grade_id if shown in ("", grade_id) else f"{grade_id} ({shown})",
            "question": question_text(_text(cell.source)),
            "outcome": outcome,
            "outcome_label": label,
            "mark": _MARKS[outcome],
            "regraded": abs(score - autograded) > 1e-9,
            "parts": parts if len(parts) > 1 else [],
        }
        outputs = []
        for v in verdicts:
            outputs.append(
                NotebookNode(
                    output_type="display_data",
                    data={"text/html": v.html, "text/plain": v.plain},
                    metadata={OUTPUT_KEY: {"outcome": v.outcome, "question": v.question or ""}},
                )
            )
            reference = self._references.get(v.question or "")
            if reference is not None:
                page, plain = answer_html(
                    v.question or "", reference.kind, reference.expected, reference.context
                )
                outputs.append(
                    NotebookNode(
                        output_type="display_data",
                        data={"text/html": page, "text/plain": plain},
                        metadata={
                            OUTPUT_KEY: {
                                "outcome": v.outcome,
                                "question": v.question or "",
                                "part": "answer",
                            }
                        },
                    )
                )
        cell.outputs = outputs

    def _page_for(self, target: str) -> str | None:
        """Where a relative link to a book chapter should point from the feedback page."""
        url, _, fragment = target.partition("#")
        if not url or url.startswith(("/", "\\")) or _SCHEME.match(url):
            return None
        url = unquote(url)
        if not url.lower().endswith(".md"):
            return None
        folder = self._notebook_folder()
        path = posixpath.normpath(posixpath.join(folder, url.replace(os.sep, "/")))
        if not path.startswith("book/"):
            if target not in self._warned:
                self._warned.add(target)
                self.log.warning("unlinking %s: it is not a chapter of the book", target)
            return ""
        page = path[: -len(".md")] + ".html"
        if self.book_url:
            new = self.book_url.rstrip("/") + "/" + quote(page)
        else:
            built = self._layout.root / self.book_build_directory / page
            here = self._feedback_folder()
            new = quote(Path(os.path.relpath(built, here)).as_posix())
            if not built.exists() and str(built.parent) not in self._warned:
                self._warned.add(str(built.parent))
                self.log.warning(
                    "feedback links the book at %s, which is not built; build it (jb build .) "
                    "or set PresentVerdicts.book_url to where it is published",
                    built.parent,
                )
        return new + (f"#{fragment}" if fragment else "")

    def _notebook_folder(self) -> str:
        """The notebook's folder as written in the course (``exercises/<assignment>``),
        relative to the course root: what its relative links were written against."""
        assignment = self._ids.get("assignment", ".")
        release = self._layout.release(assignment)
        return Path(os.path.relpath(release, self._layout.root)).as_posix()

    def _feedback_folder(self) -> Path:
        student, assignment = self._ids.get("student", "."), self._ids.get("assignment", ".")
        return self._layout.feedback(student, assignment)


_MATH = re.compile(r"\$[^$\n]+\$|\\\(|\\\[|\\begin\{")


def _has_math(markdown: str) -> bool:
    return bool(_MATH.search(markdown))


# --------------------------------------------------------------------------- exporter
class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter with the course's template and its ``inline_html`` filter.

    ``GenerateFeedback`` asks for nbgrader's ``feedback`` template; this exporter renders
    ``lstm_feedback`` instead, which extends it. A course that configures
    ``HTMLExporter.template_name`` itself keeps its own template.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.template_name == "feedback":
            basedirs = list(self.extra_template_basedirs)
            # ours first; nbgrader's folder also as a search path, so that our template
            # can extend 'feedback/index.html.j2' by that name
            self.extra_template_basedirs = [str(TEMPLATES), *basedirs]
            self.extra_template_paths = [*self.extra_template_paths, *basedirs]
            self.template_name = TEMPLATE_NAME
            # the search path was worked out from the old name while nbconvert set up
            self.template_paths = self._template_paths()

    def default_filters(self) -> Any:
        yield from super().default_filters()
        yield ("inline_html", inline_html)
        yield ("clean_html", clean_html_unless_text)


def clean_html_unless_text(element: Any) -> str:
    """nbconvert's ``clean_html`` filter, except for a cell already shown as its text
    (:func:`~lstm_grader.preprocessors.shown_as_text`), which passes as it is: it holds no
    markup, and bleach's time over its character references grows with the square of
    their number (a raw cell of 250,000 characters took seconds of each page).

    Examples
    --------
    >>> clean_html_unless_text("<pre>&lt;b&gt;</pre>")
    '<pre>&lt;b&gt;</pre>'
    >>> clean_html_unless_text("<b onclick=go()>x</b>")
    '<b>x</b>'
    """
    from nbconvert.filters.strings import clean_html

    from lstm_grader.preprocessors import shown_as_text

    text = element.decode() if isinstance(element, bytes) else str(element)
    return text if shown_as_text(text) else clean_html(text)


# ------------------------------------------------------------------------------------------
# Feedback made before the latest grades
# ------------------------------------------------------------------------------------------


def _notebook_state(found: Any) -> dict[str, Any]:
    """What a feedback page shows from the gradebook of one submitted notebook (nbgrader's
    ``SubmittedNotebook``): each cell's automatic and manual score, extra credit and
    comments, the flag and the late penalty. Plain JSON data, compared as it is."""
    return {
        "grades": sorted(
            [g.name, g.auto_score, g.manual_score, g.extra_credit] for g in found.grades
        ),
        "comments": sorted(
            [c.name, c.auto_comment or "", c.manual_comment or ""] for c in found.comments
        ),
        "flagged": bool(found.flagged),
        "late_penalty": found.late_submission_penalty,
    }


def gradebook_state(db_url: str, assignment: str) -> dict[str, dict[str, Any]]:
    """What each feedback page of ``assignment`` shows from the gradebook, by student and
    notebook (:func:`_notebook_state`), read in one opening of the gradebook: a notebook
    the gradebook does not hold is left out."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            found = gradebook.find_assignment(assignment)
        except MissingEntry:
            return {}
        return {
            submission.student_id: {
                notebook.name: _notebook_state(notebook) for notebook in submission.notebooks
            }
            for submission in found.submissions
        }


def regenerate_stale_feedback() -> None:
    """Make ``nbgrader generate_feedback`` make a feedback page again, without ``--force``,
    when the gradebook's scores or comments for its submission changed since it was made.

    nbgrader keeps an existing page unless the autograded submission's ``timestamp.txt``
    is newer, and a score or comment given in the formgrader changes only the gradebook,
    which records no time for it: the learner was sent the page from before the manual
    score. So the scores and comments each page was made from are kept beside the
    submission's grading reports (:data:`FEEDBACK_GRADES_FILE`, see
    :func:`gradebook_state`), and a page whose record differs from the gradebook now, or
    has none, is removed and made again, as nbgrader does for a newer submission. Only the
    feedback folder is removed; the autograded submission and the gradebook, which it is
    made from, are not touched. The course's ``nbgrader_config.py`` calls this; calling it
    again changes nothing.
    """
    from nbgrader.converters.generate_feedback import GenerateFeedback

    from lstm_grader.submission_guard import is_safe_student_id

    unchecked = GenerateFeedback.init_destination
    if getattr(unchecked, "stale_feedback_checked_by_lstm_grader", False):
        return

    @functools.wraps(unchecked)
    def init_destination(converter: Any, assignment_id: str, student_id: str) -> bool:
        excluded = (converter.coursedir.student_id_exclude or "").split(",")
        if student_id in excluded or not is_safe_student_id(student_id):
            return unchecked(converter, assignment_id, student_id)  # nbgrader's rules alone
        notebooks = [os.path.splitext(os.path.basename(n))[0] for n in converter.notebooks]
        reports = layout_of(converter).reports(student_id, assignment_id)
        record = reports / FEEDBACK_GRADES_FILE
        # the whole assignment's grades, read once per command rather than once per learner:
        # generate_feedback writes no grades, and a grade given meanwhile in the formgrader
        # only makes the next run make that page again
        known = converter.__dict__.setdefault("_lstm_grader_gradebook_state", {})
        if assignment_id not in known:
            known[assignment_id] = gradebook_state(converter.coursedir.db_url, assignment_id)
        held = known[assignment_id].get(student_id, {})
        now = {notebook: held.get(notebook) for notebook in notebooks}
        try:
            made_from = json.loads(safefiles.read_text(record))
        except (OSError, ValueError):
            made_from = {}  # made before this check, or unreadable: made again
        made_from = made_from if isinstance(made_from, dict) else {}
        dest = Path(os.path.normpath(converter._format_dest(assignment_id, student_id)))
        stale = [nb for nb in notebooks if made_from.get(nb, "none recorded") != now[nb]]
        if stale and not converter.force and dest.is_dir():
            converter.log.warning(
                "Updating feedback made before the latest grades in the gradebook: %s", dest
            )
            if converter.coursedir.notebook_id == "*":
                safefiles.remove_tree(dest)  # as nbgrader updates it for a newer submission
            else:  # the others named are not made again: keep their pages
                for notebook in stale:
                    (dest / f"{notebook}{converter.exporter.file_extension}").unlink(
                        missing_ok=True
                    )
        proceed = unchecked(converter, assignment_id, student_id)
        if proceed:
            try:
                safefiles.write_text(
                    record, json.dumps({**made_from, **now}, indent=1, sort_keys=True) + "\n"
                )
            except OSError as exc:  # the page is still made; the next run makes it again
                converter.log.warning("Could not record the grades of %s: %s", dest, exc)
        return proceed

    init_destination.stale_feedback_checked_by_lstm_grader = True  # type: ignore[attr-defined]
    GenerateFeedback.init_destination = init_destination  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------------
# Releasing feedback that replaces a page already released
# ------------------------------------------------------------------------------------------


class ReleaseFeedbackSayingReplaced(ExchangeReleaseFeedback):
    """``nbgrader release_feedback`` that says which pages replace ones already released.

    nbgrader writes each page into the exchange under a name made from the submission's
    secret and the notebook, so a page made again (after a regrade, or a score given in
    the formgrader) silently replaced the one released before. A learner who already
    fetched the old page keeps it until they run ``nbgrader fetch_feedback`` again, and the
    exchange records no fetch, so nobody can tell who did. Here each page that replaces a
    different one is logged as a warning naming the learner and the notebook, and the run
    ends with one line naming every such learner, to be told to fetch again; a page the
    same as the one released is not written again. The status stays 0: releasing is what
    was asked for. Otherwise as nbgrader's (the same files, names and log lines).

    A learner writes the ``submission_secret.txt`` of an exchange submission, which names
    their page: an empty, undecodable or missing one stopped nbgrader's release at that
    learner (an assertion, a decoding error), and no one after them got feedback; one
    that is a classmate's named the classmate's page, and the later of the two replaced
    the other's. Such a learner's page is not released, the others are, and the run
    ends by naming each such learner, with status 1.
    """

    def copy_files(self) -> None:
        coursedir = self.coursedir
        excluded = set(filter(None, (coursedir.student_id_exclude or "").split(",")))
        pattern = re.escape(os.path.sep).join(
            [
                coursedir.format_path(
                    coursedir.feedback_directory,
                    "(?P<student_id>.*)",
                    coursedir.assignment_id,
                    escape=True,
                ),
                "(?P<notebook_id>.*).html",
            ]
        )
        replaced: list[str] = []
        pages: dict[str, list[tuple[str, str, str, str]]] = {}
        withheld: dict[str, str] = {}
        for html_file in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            match = re.match(pattern, html_file)
            if match is None:
                self.log.error("Could not match '%s' with regexp '%s'", html_file, pattern)
                continue
            student, notebook = match.group("student_id"), match.group("notebook_id")
            if student in excluded:
                self.log.debug("Skipping student '%s'", student)
                continue
            folder = os.path.dirname(html_file)
            secret = _exchange_text(folder, "submission_secret.txt")
            if not secret:
                withheld[student] = (
                    "its submission_secret.txt is missing, empty or not text (a submission "
                    "collected with zip_collect or placed in submitted/ by hand has none)"
                )
                continue
            name = utils.notebook_hash(secret=secret, notebook_id=notebook)
            # shown in the instructor's terminal: a learner's text, so nothing it could act on
            timestamp = report.printable(_exchange_text(folder, "timestamp.txt") or "no time")
            pages.setdefault(name, []).append((html_file, student, notebook, timestamp))
        for name, claims in pages.items():
            if len({student for _, student, _, _ in claims}) > 1:
                # never guess whose page the name is: either learner could be the other's
                for _, student, _, _ in claims:
                    withheld[student] = "its submission_secret.txt is another learner's too"
                continue
            for html_file, student, notebook, timestamp in claims:
                if self._release(html_file, name, student, notebook, timestamp):
                    replaced.append(f"{student} ({coursedir.assignment_id}/{notebook})")
        if replaced:
            self.log.warning(
                "%d released feedback page(s) were replaced: %s. The exchange cannot tell who "
                "fetched the old page: ask these learners to run `nbgrader fetch_feedback` "
                "(or Fetch Feedback in the Assignments tab) again",
                len(replaced),
                ", ".join(replaced),
            )
        for student, why in sorted(withheld.items()):
            self.log.error("No feedback released for student '%s': %s", student, why)
        if withheld:
            self.fail(
                f"feedback not released for {len(withheld)} learner(s), whose submission "
                f"names no page of its own: {', '.join(sorted(withheld))}; hand each their "
                f"page from {coursedir.feedback_directory}/ another way (upload it to your "
                "learning-management system), or collect a new submission from each through "
                "the exchange (`nbgrader submit` writes a new secret) and release again"
            )

    def _release(
        self, html_file: str, name: str, student: str, notebook: str, timestamp: str
    ) -> bool:
        """Release one learner's page under ``name``; whether it replaced a different one."""
        released = os.path.join(self.dest_path, f"{name}.html")
        where = f"{self.coursedir.course_id}/{self.coursedir.assignment_id}/{notebook}"
        page = Path(html_file).read_bytes()
        before = Path(released).read_bytes() if os.path.isfile(released) else None
        if before == page:
            self.log.info(
                "Feedback for student '%s' on '%s' is released already, unchanged", student, where
            )
            return False
        if before is not None:
            self.log.warning(
                "Replacing the feedback released before for student '%s' on '%s': if "
                "they fetched it, they keep the old page until they fetch feedback again",
                student,
                where,
            )
        self.log.info(
            "Releasing feedback for student '%s' on assignment '%s' (%s)", student, where, timestamp
        )
        # beside the page and renamed over it, as nbgrader does: a learner fetching now
        # gets the old page or the new one, never half of one
        staged = os.path.join(self.dest_path, f"{name}-tmp.html")
        shutil.copy(html_file, staged)
        shutil.move(staged, released)
        self.log.info("Feedback released to: %s", released)
        return before is not None


#: The most bytes of a submission's exchange file read back on release (nbgrader's secret
#: is 128 characters, its time a few dozen).
MAX_EXCHANGE_TEXT_BYTES = 4096


def _exchange_text(folder: str, name: str) -> str | None:
    """The text of the exchange file ``name`` a learner's submission left in its feedback
    ``folder``, as written (``nbgrader fetch_feedback`` hashes the secret so); None when
    it is missing, a link, too large or not UTF-8."""
    try:
        data = safefiles.read_bytes(os.path.join(folder, name), MAX_EXCHANGE_TEXT_BYTES)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
