"""Feedback pages: verdicts titled, escaped and styled, links that work, a page that fits.

Fast tests run :class:`~lstm_grader.feedback.PresentVerdicts` and the feedback template on a
small hand-built autograded notebook. The slow test grades a real submission with nbgrader
(autograde, then generate_feedback) in a throwaway course and opens the page in headless
Chromium at phone and desktop widths.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    classic_mistakes,
    make_course,
    require_or_skip,
)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from lstm_grader.course import load_config
from lstm_grader.feedback import (
    CELL_KEY,
    OUTPUT_KEY,
    FeedbackExporter,
    PresentVerdicts,
    inline_html,
    question_text,
)
from lstm_grader.preprocessors import SanitizeLearnerHTML

ASSIGNMENT = "05-return-flags"
STUDENT = "ada"
#: A learner's own HTML output dressed as a verdict.
FORGED = '<div class="lstm-verdict lstm-verdict-correct">✔ q9: Correct.</div>'
#: What a learner can make a verdict quote: their own answer, verbatim.
LEARNER_SCRIPT = "<script>window.__pwned = 1</script>"


# --------------------------------------------------------------------------- a notebook
def _grading(grade_id: str, **meta) -> dict:
    base = {"grade": False, "solution": False, "locked": False, "task": False}
    return {"nbgrader": {**base, "grade_id": grade_id, "schema_version": 3, **meta}}


def _test_cell(grade_id: str, source: str, outputs: list, score: float, points: float = 1):
    cell = new_code_cell(source, metadata=_grading(grade_id, grade=True, locked=True))
    cell.metadata.nbgrader.update(points=points, score=score)  # as GetGrades leaves it
    cell.outputs = outputs
    return cell


def _stream(text: str):
    return new_output("stream", name="stdout", text=text)


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[evalue])


def autograded_notebook(intro: str | None = None) -> nbformat.NotebookNode:
    """An autograded notebook as JudgeAnswers and GetGrades leave it: one question right,
    one wrong (backticks, and the learner's own markup quoted), one with no answer, one
    cell asking two questions, and a learner's cell posing as a verdict."""
    intro = intro or (
        "# The return flags\n\nChapter: [The return flags](../../book/05-return-flags.md#flags)"
        ", see also [Keras](https://keras.io/api/layers/recurrent_layers/lstm/) and "
        "[the notes](../../README.md)."
    )
    wrong = (
        "q2: (None, 8, 16) keeps the time axis: that is the shape with "
        f"`return_sequences=True`; you wrote '{LEARNER_SCRIPT}'."
    )
    return new_notebook(
        cells=[
            new_markdown_cell(intro, metadata=_grading("intro", locked=True)),
            new_code_cell("answer_q1 = (None, 16)", metadata=_grading("q1-answer", solution=True)),
            _test_cell(
                "q1",
                '"""q1: is answer_q1 the output shape of `LSTM(16)`?"""\nexpect_shape(answer_q1)',
                [_stream("✔ q1: Correct: (None, 16).\n")],
                score=1,
            ),
            _test_cell(
                "q2",
                '"""Is answer_q2 the output shape with both flags?"""\nexpect_shape(answer_q2)',
                [_error("WrongAnswer", wrong)],
                score=0,
            ),
            _test_cell(
                "q3",
                '"""Does answer_q3 name the gate?"""',
                [_error("NoAnswer", "This test cell declares no graded answer.")],
                score=0,
            ),
            _test_cell(
                "q4",
                '"""Are answer_q4_h and answer_q4_c the states?"""\nexpect_array(answer_q4_h)',
                [_stream("✔ q4_h: Correct.\n"), _error("WrongAnswer", "q4_c: That is `h`.")],
                score=0,
                points=2,
            ),
            new_code_cell(
                "display(HTML('<b>forged</b>'), metadata=...)",
                outputs=[
                    new_output(
                        "display_data",
                        data={"text/html": FORGED},
                        metadata={OUTPUT_KEY: {"outcome": "correct", "question": "q9"}},
                    )
                ],
                metadata={CELL_KEY: {"outcome": "correct", "label": "<i>forged</i>"}},
            ),
        ]
    )


def _config(root: Path, mode: str | None = None, **present_verdicts) -> Config:
    config = Config()
    config.CourseDirectory.root = str(root)
    if mode is not None:
        config.CourseLayout.check_mode = mode
    for name, value in present_verdicts.items():
        setattr(config.PresentVerdicts, name, value)
    return config


def _resources() -> dict:
    return {"nbgrader": {"student": STUDENT, "assignment": ASSIGNMENT, "notebook": ASSIGNMENT}}


def present(root: Path, nb=None, **traits) -> tuple[nbformat.NotebookNode, dict]:
    """PresentVerdicts, then the sanitizer that follows it in the feedback pipeline."""
    config = _config(root, **traits)
    nb, resources = PresentVerdicts(config=config).preprocess(
        nb or autograded_notebook(), _resources()
    )
    return nb, resources


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# --------------------------------------------------------------------------- fast: text
def test_messages_become_escaped_html_with_code_spans() -> None:
    """Are backticks code, *word* emphasis, and everything else, markup included, text?"""
    assert inline_html("use `return_sequences=True` & go") == (
        "use <code>return_sequences=True</code> &amp; go"
    )
    assert inline_html("``a`b`` then `x`") == "<code>a`b</code> then <code>x</code>"
    assert inline_html(f"got '{LEARNER_SCRIPT}'") == (
        "got &#x27;&lt;script&gt;window.__pwned = 1&lt;/script&gt;&#x27;"
    )
    assert inline_html("`<img src=x onerror=alert(1)>`") == (
        "<code>&lt;img src=x onerror=alert(1)&gt;</code>"
    )
    assert inline_html("one ` alone, h = o * tanh(c), 2*3*4") == (
        "one ` alone, h = o * tanh(c), 2*3*4"
    )
    assert inline_html("the last *sample*") == "the last <em>sample</em>"


def test_the_question_is_the_test_cells_docstring() -> None:
    """Is the docstring the question, with the 'q3:' it may start with left out?"""
    assert question_text('"""q3: is it (None, 16)?"""\nexpect_shape(answer_q3)') == (
        "is it (None, 16)?"
    )
    assert question_text('"""Is answer_q3\n   the shape?"""\nif keras_allowed():\n    x') == (
        "Is answer_q3 the shape?"
    )
    assert question_text("expect_shape(answer_q3)") == ""
    assert question_text('"""Broken?"""\n%%magic') == "Broken?"


# --------------------------------------------------------------------------- fast: verdicts
def test_each_test_cell_gets_its_question_outcome_and_verdict_block(tmp_path: Path) -> None:
    """Does each test cell get a title (grade_id, question ids, question text), an outcome,
    and one verdict output per question that keeps the message, with code spans?"""
    nb, _ = present(tmp_path)

    meta = {gid: _cell(nb, gid).metadata[CELL_KEY] for gid in ("q1", "q2", "q3", "q4")}
    assert {gid: m["outcome"] for gid, m in meta.items()} == {
        "q1": "correct",
        "q2": "wrong",
        "q3": "no-answer",
        "q4": "wrong",
    }
    assert meta["q1"]["question"] == "is answer_q1 the output shape of `LSTM(16)`?"
    assert meta["q2"]["question"] == "Is answer_q2 the output shape with both flags?"
    assert meta["q4"]["label"] == "q4 (q4_h, q4_c)"
    assert meta["q4"]["outcome_label"] == "Partly wrong"
    assert meta["q2"]["anchor"] == "question-q2"

    q2 = _cell(nb, "q2").outputs
    assert [o.output_type for o in q2] == ["display_data"]
    assert q2[0].metadata[OUTPUT_KEY] == {"outcome": "wrong", "question": "q2"}
    html = q2[0].data["text/html"]
    assert html.startswith("<strong>✘ q2</strong> (None, 8, 16) keeps the time axis")
    assert "<code>return_sequences=True</code>" in html
    assert "&lt;script&gt;window.__pwned" in html and "<script" not in html
    assert "keeps the time axis" in q2[0].data["text/plain"]

    q4 = _cell(nb, "q4").outputs
    assert [o.metadata[OUTPUT_KEY]["outcome"] for o in q4] == ["correct", "wrong"]
    assert "<code>h</code>" in q4[1].data["text/html"]
    assert _cell(nb, "q3").outputs[0].metadata[OUTPUT_KEY]["outcome"] == "no-answer"


def test_only_test_cells_carry_verdicts(tmp_path: Path) -> None:
    """Is verdict metadata a learner's cell arrived with dropped, so nothing but a test cell
    is drawn as a verdict?"""
    nb, _ = present(tmp_path)
    forged = nb.cells[-1]
    assert CELL_KEY not in forged.metadata
    assert OUTPUT_KEY not in forged.outputs[0].metadata


def test_the_sanitizer_after_it_keeps_every_verdict_whole(tmp_path: Path) -> None:
    """Does SanitizeLearnerHTML, which runs next, leave the verdict HTML exactly as it is
    (its tags are ones bleach keeps), while still cleaning a learner's HTML output?"""
    nb, resources = present(tmp_path)
    before = {
        gid: [o.data["text/html"] for o in _cell(nb, gid).outputs]
        for gid in ("q1", "q2", "q3", "q4")
    }
    nb, _ = SanitizeLearnerHTML(config=_config(tmp_path)).preprocess(nb, resources)
    after = {gid: [o.data["text/html"] for o in _cell(nb, gid).outputs] for gid in before}
    assert after == before
    assert "<div" not in nb.cells[-1].outputs[0].data["text/html"]  # bleach escaped it


# --------------------------------------------------------------------------- fast: links
def test_chapter_links_point_at_the_built_book_by_default(tmp_path: Path) -> None:
    """With no book_url, does the chapter link lead from feedback/<student>/<assignment>/ to
    _build/html/book/<chapter>.html, anchor kept, other links left or unlinked, no .md?"""
    nb, _ = present(tmp_path)
    intro = nb.cells[0].source
    assert "[The return flags](../../../_build/html/book/05-return-flags.html#flags)" in intro
    assert "(https://keras.io/api/layers/recurrent_layers/lstm/)" in intro
    assert "the notes." in intro  # the README is not in the book: the words stay, unlinked
    assert ".md" not in intro


def test_chapter_links_follow_the_configured_feedback_folder(tmp_path: Path) -> None:
    """Is the relative link computed from where nbgrader writes feedback, not assumed?"""
    config = _config(tmp_path)
    config.CourseDirectory.feedback_directory = "returned/feedback"
    nb, _ = PresentVerdicts(config=config).preprocess(autograded_notebook(), _resources())
    assert "(../../../../_build/html/book/05-return-flags.html#flags)" in nb.cells[0].source


def test_chapter_links_point_at_the_published_book_when_configured(tmp_path: Path) -> None:
    """With book_url set, does every chapter link become <book_url>/book/<chapter>.html, in
    markdown links, reference definitions and HTML alike?"""
    intro = (
        "[Flags](../../book/05-return-flags.md) [LSTM][lstm] "
        '<a href="../../book/04-lstm.md#gates">gates</a>\n\n[lstm]: ../../book/04-lstm.md\n'
    )
    nb, _ = present(
        tmp_path, autograded_notebook(intro), book_url="https://example.org/keras-course/"
    )
    source = nb.cells[0].source
    assert "[Flags](https://example.org/keras-course/book/05-return-flags.html)" in source
    assert 'href="https://example.org/keras-course/book/04-lstm.html#gates"' in source
    assert "[lstm]: https://example.org/keras-course/book/04-lstm.html" in source
    assert ".md" not in source


# --------------------------------------------------------------------------- fast: the page
def render(root: Path, nb=None, **traits) -> BeautifulSoup:
    """The feedback page as GenerateFeedback builds it (GetGrades's scores are preset)."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    config = _config(root, **traits)
    config.GenerateFeedback.exporter_class = FeedbackExporter
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in (PresentVerdicts, CSSHTMLHeaderPreprocessor, SanitizeLearnerHTML):
        exporter.register_preprocessor(preprocessor)
    resources = _resources()
    resources["nbgrader"].update(score=3, max_score=5, late_penalty=0)
    page, _ = exporter.from_notebook_node(nb or autograded_notebook(), resources=resources)
    return BeautifulSoup(page, "html.parser")


def test_the_page_lists_each_question_with_its_outcome(tmp_path: Path) -> None:
    """Does the page open with a contents list linking each question, its outcome and score,
    and title each test cell with its question instead of nbgrader's 'Test cell'?"""
    soup = render(tmp_path)
    items = soup.select("#toc li.lstm-toc-item")
    assert [li.a["href"] for li in items] == [f"#question-q{n}" for n in (1, 2, 3, 4)]
    assert [li["class"][-1] for li in items] == [
        "lstm-toc-correct",
        "lstm-toc-wrong",
        "lstm-toc-no-answer",
        "lstm-toc-wrong",
    ]
    assert "Partly wrong" in items[3].get_text(" ", strip=True)
    for li in items:
        section = soup.select_one(li.a["href"])
        assert section is not None and section.name == "section"
    title = soup.select_one("#question-q1 .lstm-question-title")
    assert title.get_text(" ", strip=True) == "q1 is answer_q1 the output shape of LSTM(16) ?"
    assert title.code.get_text() == "LSTM(16)"
    assert "Test cell" not in soup.get_text()
    assert len(soup.find_all("body")) == 1
    assert soup.find("meta", attrs={"name": "viewport"}) is not None


def test_the_page_styles_verdicts_by_outcome_and_runs_nothing(tmp_path: Path) -> None:
    """Is each verdict a block with its outcome's class, code spans as <code>, the learner's
    markup as text, and the page free of scripts (no MathJax without math)?"""
    soup = render(tmp_path)
    wrong = soup.select_one("#question-q2 .lstm-verdict")
    assert wrong["class"] == ["lstm-verdict", "lstm-verdict-wrong"]
    assert wrong.code.get_text() == "return_sequences=True"
    assert LEARNER_SCRIPT in wrong.get_text()
    assert soup.select_one("#question-q1 .lstm-verdict")["class"][-1] == "lstm-verdict-correct"
    assert soup.select_one("#question-q3 .lstm-verdict")["class"][-1] == "lstm-verdict-no-answer"
    assert soup.select_one("#question-q2")["class"][-1] == "lstm-question-wrong"
    assert soup.find_all("script") == []
    assert len(soup.select(".lstm-verdict")) == 5  # q1, q2, q3, q4 twice; not the forged one
    assert "forged" not in str(soup.select_one("#toc"))
    assert not any(a["href"].split("#")[0].endswith(".md") for a in soup.select("a[href]"))
    css = "\n".join(style.get_text() for style in soup.find_all("style"))
    assert ".lstm-verdict {" in css and "overflow-wrap: anywhere" in css


def test_a_score_given_by_hand_is_shown_as_such(tmp_path: Path) -> None:
    """When the formgrader's score disagrees with the verdict (full marks for a wrong answer),
    does the page say the instructor set it, and only there?"""
    nb = autograded_notebook()
    _cell(nb, "q2").metadata.nbgrader.score = 1
    soup = render(tmp_path, nb)
    assert "(set by the instructor)" in soup.select_one("#question-q2 .lstm-points").get_text()
    assert "(set by the instructor)" not in soup.select_one("#question-q1 .lstm-points").get_text()
    assert "(set by the instructor)" not in soup.select_one("#question-q4 .lstm-points").get_text()


def test_mathjax_is_loaded_only_for_notebooks_with_math(tmp_path: Path) -> None:
    """A notebook with $...$ gets MathJax; the others ask no server for anything."""
    soup = render(tmp_path, autograded_notebook("The gate is $\\sigma(x)$."))
    assert any("mathjax" in (s.get("src") or "").lower() for s in soup.find_all("script"))


def test_a_course_that_names_its_own_template_keeps_it(tmp_path: Path) -> None:
    """Is an explicitly configured HTMLExporter.template_name left alone?"""
    config = _config(tmp_path)
    config.HTMLExporter.template_name = "classic"
    assert FeedbackExporter(config=config).template_name == "classic"


def test_the_course_config_wires_feedback_in_order() -> None:
    """Does nbgrader_config.py run PresentVerdicts after GetGrades and before the sanitizer,
    with the course's exporter?"""
    config = load_config(ROOT)
    names = [p.__name__ for p in config.GenerateFeedback.preprocessors]
    assert names.index("GetGrades") < names.index("PresentVerdicts")
    assert names.index("PresentVerdicts") < names.index("SanitizeLearnerHTML")
    assert config.GenerateFeedback.exporter_class is FeedbackExporter
    from traitlets.utils.importstring import import_item

    from lstm_grader.feedback import ReleaseFeedbackSayingReplaced

    assert import_item(config.ExchangeFactory.release_feedback) is ReleaseFeedbackSayingReplaced


# --------------------------------------------------------------------------- fast: graded mode
LSTM16 = {"class_name": "LSTM", "config": {"units": 16}}


def write_references(root: Path, **extra) -> None:
    """references/<assignment>.json for the fixture's questions (and ``extra`` ones)."""
    from lstm_grader.references import write_references as write

    questions = {
        "q1": {
            "kind": "shape",
            "expected": [None, 16],
            "context": {"layer": LSTM16, "input_shape": [None, 8, 3]},
        },
        "q2": {"kind": "shape", "expected": [None, 8, 16], "context": {"timesteps": 8}},
        "q4_h": {"kind": "array", "expected": [[0.25, -0.5]], "context": {}},
        "q4_c": {"kind": "array", "expected": [[1.5, -2.0]], "context": {}},
        **extra,
    }
    write(root / "references", ASSIGNMENT, {"questions": questions})


def _answers(nb, grade_id: str) -> list:
    return [
        o
        for o in _cell(nb, grade_id).outputs
        if o.metadata.get(OUTPUT_KEY, {}).get("part") == "answer"
    ]


def test_graded_mode_gives_each_question_its_value_and_why(tmp_path: Path) -> None:
    """In graded mode, does each judged question, right or wrong, get the expected value
    as Python prints it and the explanation, right after its verdict?"""
    write_references(tmp_path)
    nb, resources = present(tmp_path, mode="graded")
    assert resources["lstm_feedback"]["mode"] == "graded"

    q1 = _cell(nb, "q1").outputs
    assert [o.metadata[OUTPUT_KEY].get("part", "verdict") for o in q1] == ["verdict", "answer"]
    assert q1[1].metadata[OUTPUT_KEY] == {"outcome": "correct", "question": "q1", "part": "answer"}
    page = q1[1].data["text/html"]
    assert page.startswith("<strong>Answer to q1:</strong> <code>(None, 16)</code> ")
    assert "(batch, units) = (None, 16): <code>return_sequences=False</code>" in page
    assert "(None, 16)" in q1[1].data["text/plain"]

    (q2,) = _answers(nb, "q2")  # wrong, and shown all the same
    assert q2.metadata[OUTPUT_KEY]["outcome"] == "wrong"
    assert "<code>(None, 8, 16)</code>" in q2.data["text/html"]
    assert "8 timesteps are kept" in q2.data["text/html"]
    assert [a.metadata[OUTPUT_KEY]["question"] for a in _answers(nb, "q4")] == ["q4_h", "q4_c"]
    assert "<code>[[ 0.25, -0.5 ]]</code>" in _answers(nb, "q4")[0].data["text/html"]
    assert _answers(nb, "q3") == []  # no question reached the grader: nothing to show

    soup = render(tmp_path, mode="graded")
    shown = soup.select_one("#question-q2 .lstm-answer")
    assert shown is not None and shown.code.get_text() == "(None, 8, 16)"
    assert shown.find_previous_sibling("div")["class"] == ["lstm-verdict", "lstm-verdict-wrong"]
    assert len(soup.select(".lstm-answer")) == 4 and len(soup.select(".lstm-verdict")) == 5


def test_practice_mode_shows_no_value(tmp_path: Path) -> None:
    """In practice mode (the default) the learner reveals values in the notebook: does the
    page show none, even with references at hand?"""
    write_references(tmp_path)
    nb, resources = present(tmp_path)
    assert resources["lstm_feedback"]["mode"] == "practice"
    assert all(_answers(nb, gid) == [] for gid in ("q1", "q2", "q3", "q4"))
    soup = render(tmp_path)
    assert soup.select(".lstm-answer") == []
    assert "Answer to" not in soup.get_text()


def test_the_mode_is_chosen_per_assignment(tmp_path: Path) -> None:
    """Does CourseLayout.check_modes decide for this assignment, over check_mode?"""
    write_references(tmp_path)
    config = _config(tmp_path, mode="practice")
    config.CourseLayout.check_modes = {ASSIGNMENT: "graded"}
    nb, _ = PresentVerdicts(config=config).preprocess(autograded_notebook(), _resources())
    assert len(_answers(nb, "q1")) == 1
    config.CourseLayout.check_modes = {"other": "graded"}
    nb, _ = PresentVerdicts(config=config).preprocess(autograded_notebook(), _resources())
    assert _answers(nb, "q1") == []


def test_graded_mode_without_references_still_gives_the_verdicts(tmp_path: Path) -> None:
    """No references file: the page keeps its verdicts and shows no value, no error."""
    nb, _ = present(tmp_path, mode="graded")
    assert _answers(nb, "q1") == []
    assert _cell(nb, "q2").metadata[CELL_KEY]["outcome"] == "wrong"


def test_values_and_contexts_with_markup_stay_text(tmp_path: Path) -> None:
    """A reference whose value or context holds markup: escaped in the answer, left whole
    by the sanitizer, and never a script or a handler on the page."""
    evil = "<script>window.__pwned = 1</script>"
    write_references(
        tmp_path,
        q1={"kind": "value", "expected": evil, "context": {}},
        q2={
            "kind": "choice",
            "expected": "b",
            "context": {"options": ["a", "b"], "why": {"b": '<img src=x onerror="x()"> `<b>`'}},
        },
    )
    nb, resources = present(tmp_path, mode="graded")
    q1, q2 = _answers(nb, "q1")[0].data["text/html"], _answers(nb, "q2")[0].data["text/html"]
    assert "<script" not in q1 and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in q1
    assert "<img" not in q2 and "&lt;img src=x" in q2 and "<code>&lt;b&gt;</code>" in q2
    before = {gid: _answers(nb, gid)[0].data["text/html"] for gid in ("q1", "q2")}
    nb, _ = SanitizeLearnerHTML(config=_config(tmp_path)).preprocess(nb, resources)
    assert {gid: _answers(nb, gid)[0].data["text/html"] for gid in before} == before

    soup = render(tmp_path, mode="graded")
    assert soup.find_all("script") == []
    assert not soup.find_all(attrs={"onerror": True})
    assert evil in soup.select_one("#question-q1 .lstm-answer").get_text()


# --------------------------------------------------------------------------- fast: partial credit
def partial_notebook(earned: str = "1.0", score: float = 1) -> nbformat.NotebookNode:
    """The fixture with a cell that earns partial credit, as JudgeAnswers writes it: one
    stream per part, then the points earned as the cell's result."""
    nb = autograded_notebook()
    cell = _test_cell(
        "q5",
        '"""Are answer_q5_h and answer_q5_c the states after one step?"""\nexpect_array(x)',
        [
            _stream(
                "✔ q5_h: Correct, within the tolerance (1e-5 + 1e-5 × |Keras value| per entry).\n"
            ),
            _stream("✘ q5_c: That is `h`, not `c`.\n"),
            new_output("execute_result", data={"text/plain": earned}, execution_count=1),
        ],
        score=score,
        points=2,
    )
    nb.cells.insert(-1, cell)
    return nb


def test_a_partly_right_cell_shows_its_parts_and_points(tmp_path: Path) -> None:
    """Is a cell with a right and a wrong part labelled with the points it earned, each
    part shown with its own verdict, and the points result not shown as a note?"""
    nb, _ = present(tmp_path, partial_notebook())
    meta = _cell(nb, "q5").metadata[CELL_KEY]
    assert meta["outcome"] == "partial"
    assert meta["outcome_label"] == "Partly right (1 of 2 points)"
    assert meta["label"] == "q5 (q5_h, q5_c)"
    assert meta["parts"] == [
        {"question": "q5_h", "outcome": "correct", "mark": "✔"},
        {"question": "q5_c", "outcome": "wrong", "mark": "✘"},
    ]
    assert meta["regraded"] is False
    outputs = _cell(nb, "q5").outputs
    assert [o.metadata[OUTPUT_KEY]["outcome"] for o in outputs] == ["correct", "wrong"]
    assert (
        outputs[1].data["text/html"]
        == "<strong>✘ q5_c</strong> That is <code>h</code>, not <code>c</code>."
    )

    soup = render(tmp_path, partial_notebook())
    item = soup.select_one('#toc li.lstm-toc-item a[href="#question-q5"]').parent
    assert item["class"][-1] == "lstm-toc-partial"
    assert "Partly right (1 of 2 points)" in item.get_text(" ", strip=True)
    parts = [p.get_text(" ", strip=True) for p in item.select(".lstm-toc-part")]
    assert parts == ["✔ q5_h", "✘ q5_c"]
    assert [p["class"][-1] for p in item.select(".lstm-toc-part")] == [
        "lstm-toc-part-correct",
        "lstm-toc-part-wrong",
    ]
    section = soup.select_one("#question-q5")
    assert section["class"][-1] == "lstm-question-partial"
    assert [v["class"][-1] for v in section.select(".lstm-verdict")] == [
        "lstm-verdict-correct",
        "lstm-verdict-wrong",
    ]
    assert "Partly right (1 of 2 points)" in section.select_one(".lstm-badge").get_text()
    assert "(set by the instructor)" not in section.select_one(".lstm-points").get_text()
    assert "1.0" not in section.select_one(".lstm-verdicts").get_text()


def test_partial_points_are_labelled_as_earned(tmp_path: Path) -> None:
    """Fractions read as people write them; none or all of the points are no 'partly';
    a score changed by hand is marked."""
    nb, _ = present(tmp_path, partial_notebook("0.6666666666666666", score=2 / 3))
    assert _cell(nb, "q5").metadata[CELL_KEY]["outcome_label"] == (
        "Partly right (0.67 of 2 points)"
    )
    nb, _ = present(tmp_path, partial_notebook("0.0", score=0))
    assert _cell(nb, "q5").metadata[CELL_KEY]["outcome"] == "wrong"
    nb, _ = present(tmp_path, partial_notebook("1.0", score=2))
    assert _cell(nb, "q5").metadata[CELL_KEY]["regraded"] is True


def test_graded_mode_explains_each_part_of_a_partly_right_cell(tmp_path: Path) -> None:
    """Does each part get its own value, under its own verdict?"""
    write_references(
        tmp_path,
        q5_h={"kind": "array", "expected": [[0.5, 0.25]], "context": {}},
        q5_c={"kind": "array", "expected": [[1.0, 2.0]], "context": {}},
    )
    soup = render(tmp_path, partial_notebook(), mode="graded")
    blocks = soup.select("#question-q5 .lstm-verdicts > div")
    assert [b["class"][0] for b in blocks] == [
        "lstm-verdict",
        "lstm-answer",
        "lstm-verdict",
        "lstm-answer",
    ]
    assert blocks[3].get_text().startswith("Answer to q5_c: [[1., 2.]]")


# --------------------------------------------------------------------------- slow: for real
VIEWPORTS = {"phone": (375, 800), "desktop": (1280, 800)}
#: Page facts gathered in the browser: the width of the page and of each verdict, what
#: each question's title shows, and every link.
LAYOUT_JS = """() => {
  const width = window.innerWidth;
  const box = (el) => el.getBoundingClientRect();
  return {
    width,
    pageWidth: document.documentElement.scrollWidth,
    verdicts: [...document.querySelectorAll('.lstm-verdict')].map((el) => ({
      left: box(el).left, right: box(el).right,
      scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
      classes: [...el.classList], codes: [...el.querySelectorAll('code')].map((c) => c.textContent),
      scripts: el.querySelectorAll('script').length, text: el.textContent,
      question: el.closest('section').id,
    })),
    titles: [...document.querySelectorAll('section.lstm-question')].map((section) => {
      const title = section.querySelector('.lstm-question-title');
      return {id: section.id, text: title ? title.textContent : '',
              left: title ? box(title).left : -1, right: title ? box(title).right : 1e9};
    }),
    links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
    pwned: window.__pwned === 1,
  };
}"""


def _browser_ready() -> None:
    require_or_skip(
        importlib.util.find_spec("playwright") is not None, "the playwright Python package"
    )
    require_or_skip(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")


@pytest.mark.slow
def test_real_feedback_reads_well_on_a_phone_and_a_desktop(tmp_path: Path) -> None:
    """Grade one submission with right and wrong answers (classic mistakes, and a learner's
    <script> quoted back) through nbgrader's autograde and generate_feedback, then open the
    page in Chromium at 375 and 1280 px: is every question titled and visible, no verdict
    (nor the page) wider than the screen, a wrong verdict marked wrong, backticks shown as
    <code>, no link to a .md file, nothing run, and no console error?"""
    from lstm_grader.sandbox import bwrap_path
    from lstm_grader.synthetic import answered

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    _browser_ready()
    (tmp_path / "course").mkdir()
    course = make_course(tmp_path / "course", [ASSIGNMENT])
    mistakes = classic_mistakes(ASSIGNMENT)
    overrides = {mistakes[q]["cell"]: mistakes[q]["code"] for q in ("q1", "q3", "q8")}
    # the learner's markup, and a word longer than a phone is wide, quoted back by the grader
    overrides[mistakes["q5"]["cell"]] = f"answer_q5 = {LEARNER_SCRIPT + 'y' * 200!r}"
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit(STUDENT, ASSIGNMENT, answered(release, source, overrides))
    course.run("nbgrader", "autograde", ASSIGNMENT)
    course.run("nbgrader", "generate_feedback", ASSIGNMENT)

    graded = nbformat.read(
        course.layout.autograded(STUDENT, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    tests = [
        c
        for c in graded.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata.nbgrader.get("solution")
    ]
    wrong = {
        o.evalue.split(":", 1)[0]: o.evalue
        for c in tests
        for o in c.outputs
        if o.get("ename") == "WrongAnswer"
    }
    assert {"q1", "q3", "q5", "q8"} <= set(wrong), f"the mistakes were not all wrong: {wrong}"
    with_code = {q: m for q, m in wrong.items() if m.count("`") >= 2}
    assert with_code, "no wrong verdict quotes code in backticks: nothing to check"
    page = course.layout.feedback(STUDENT, ASSIGNMENT) / f"{ASSIGNMENT}.html"
    assert page.exists()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, (width, height) in VIEWPORTS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                tab = context.new_page()
                problems: list[str] = []
                tab.on(
                    "console",
                    lambda m, p=problems: (
                        p.append(f"console {m.type}: {m.text}") if m.type == "error" else None
                    ),
                )
                tab.on("pageerror", lambda e, p=problems: p.append(f"page error: {e}"))
                tab.on("requestfailed", lambda r, p=problems: p.append(f"failed: {r.url}"))
                tab.goto(page.as_uri(), wait_until="load", timeout=30_000)
                facts = tab.evaluate(LAYOUT_JS)
                _check_layout(name, facts, tests, wrong, with_code, page)
                for test in tests:
                    title = tab.locator(f"#question-{test.metadata.nbgrader.grade_id} h2")
                    assert title.is_visible(), f"{name}: {test.metadata.nbgrader.grade_id}"
                first_wrong = tab.locator("#toc li.lstm-toc-wrong a").first
                first_wrong.click()
                target = first_wrong.get_attribute("href")
                tab.wait_for_function(f"location.hash === {target!r}")
                top = tab.locator(target).evaluate("el => el.getBoundingClientRect().top")
                assert 0 <= top < height, f"{name}: the contents link did not reach {target}"
                assert problems == [], f"{name}: {problems}"
                context.close()
        finally:
            browser.close()


def _check_layout(name, facts, tests, wrong, with_code, page: Path) -> None:
    width = facts["width"]
    assert facts["pageWidth"] <= width, f"{name}: the page scrolls sideways"
    assert not facts["pwned"], f"{name}: the learner's script ran"
    ids = [t.metadata.nbgrader.grade_id for t in tests]
    titles = {t["id"]: t for t in facts["titles"]}
    assert list(titles) == [f"question-{gid}" for gid in ids]
    for gid in ids:
        title = titles[f"question-{gid}"]
        assert title["text"].startswith(gid), f"{name}: {gid} is titled {title['text']!r}"
        assert len(title["text"]) > len(gid) + 5, f"{name}: {gid} has no question text"
        assert 0 <= title["left"] and title["right"] <= width, f"{name}: {gid}'s title is cut"
    verdicts = facts["verdicts"]
    assert verdicts, f"{name}: no verdicts on the page"
    for verdict in verdicts:
        where = f"{name}: the verdict of {verdict['question']}"
        assert verdict["left"] >= 0 and verdict["right"] <= width, f"{where} leaves the screen"
        assert verdict["scrollWidth"] <= verdict["clientWidth"], f"{where} scrolls sideways"
        assert verdict["scripts"] == 0, f"{where} holds a script element"
    by_question = {v["question"]: v for v in verdicts}
    for question in wrong:
        verdict = by_question[f"question-{question}"]
        assert "lstm-verdict-wrong" in verdict["classes"], f"{name}: {question} not marked wrong"
    for question, message in with_code.items():
        spans = message.split("`")[1::2]
        codes = by_question[f"question-{question}"]["codes"]
        assert spans[0] in codes, f"{name}: {question}'s `{spans[0]}` is not <code>"
        assert "`" + spans[0] + "`" not in by_question[f"question-{question}"]["text"]
    if LEARNER_SCRIPT in wrong.get("q5", ""):
        shown = by_question["question-q5"]["text"]
        assert LEARNER_SCRIPT in shown, f"{name}: the quoted answer is not shown as text"
    for href in facts["links"]:
        parts = urlsplit(href)
        assert not unquote(parts.path).endswith(".md"), f"{name}: a link to {href}"
    chapter = [h for h in facts["links"] if "05-return-flags.html" in h]
    assert chapter, f"{name}: the chapter link is gone"
    resolved = os.path.normpath(page.parent / unquote(urlsplit(chapter[0]).path))
    course_root = page.parents[3]
    expected = course_root / "_build" / "html" / "book" / f"{ASSIGNMENT}.html"
    assert resolved == str(expected), f"{name}: the chapter link leads to {resolved}"


def test_a_learners_edited_cell_shown_to_the_instructor_stays_text(tmp_path: Path) -> None:
    """A learner edits a locked cell to hold markup; the grader shows their version under
    the restored cell. Does it reach the page as text, never as a script or a handler?"""
    from lstm_grader.preprocessors import _review_note

    evil = '</pre></div><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    report = {
        "flags": ["cell 'q2' was edited although it is locked"],
        "tampered_cells": ["q2"],
        "learner_versions": {"q2": evil},
    }
    nb = autograded_notebook()
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q2")
    cell.outputs.append(_stream(_review_note(report, "q2")))
    soup = render(tmp_path, nb)
    assert not [s for s in soup.find_all("script") if "pwned" in s.get_text()]
    assert not soup.find_all(attrs={"onerror": True})
    assert "Flagged for the instructor" in soup.get_text()
    assert "window.pwned=1" in soup.get_text(), "the learner's version is not shown as text"


# --------------------------------------------------------------------------- fast: stale pages
def _graded_submission(root: Path) -> str:
    """A course at ``root`` whose gradebook holds alice's graded a1 (one cell, q1), with
    her autograded notebook and a feedback page made from it; the gradebook's URL."""
    from nbgrader.api import Gradebook

    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("a1")
        gradebook.add_notebook("a1", "a1")
        gradebook.add_grade_cell("q1", "a1", "a1", max_score=1, cell_type="code")
        gradebook.add_solution_cell("q1-answer", "a1", "a1")
        gradebook.add_student("alice")
        gradebook.add_submission("a1", "alice")
    nbformat.write(new_notebook(), root / "autograded" / "alice" / "a1" / "a1.ipynb")
    return url


def _feedback_converter(root: Path, url: str, force: bool = False):
    from nbgrader.converters.generate_feedback import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = url
    config.CourseDirectory.assignment_id = "a1"
    config.BaseConverter.force = force
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    converter.notebooks = [str(root / "autograded" / "alice" / "a1" / "a1.ipynb")]
    return converter


def test_feedback_made_before_a_manual_score_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbgrader keeps a feedback page unless the submission is newer, and a score given in
    the formgrader changes only the gradebook. Is a page made before the gradebook's
    latest scores or comments made again without --force, one made from them kept, and
    is nothing but the feedback folder touched?"""
    from nbgrader.api import Gradebook

    from lstm_grader import feedback

    # nbgrader runs alembic by name to make a gradebook
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "autograded" / "alice" / "a1").mkdir(parents=True)
    url = _graded_submission(tmp_path)
    from nbgrader.converters.generate_feedback import GenerateFeedback

    page = tmp_path / "feedback" / "alice" / "a1" / "a1.html"
    # unpatched again after the test
    monkeypatch.setattr(GenerateFeedback, "init_destination", GenerateFeedback.init_destination)
    feedback.regenerate_stale_feedback()
    feedback.regenerate_stale_feedback()  # a second call adds no second check

    def made_again() -> bool:
        page.parent.mkdir(parents=True, exist_ok=True)  # as generate_feedback leaves it
        page.write_text("the page")
        proceed = _feedback_converter(tmp_path, url).init_destination("a1", "alice")
        return proceed and not page.exists()

    assert made_again(), "a page made before this check (no record of its grades) is kept"
    assert not made_again(), "a page made from the gradebook's grades is made again"
    assert page.read_text() == "the page"
    with Gradebook(url) as gradebook:  # the formgrader's score box
        grade = gradebook.find_grade("q1", "a1", "a1", "alice")
        grade.manual_score = 1
        gradebook.db.commit()
    assert made_again(), "the page from before the manual score is kept"
    assert not made_again()
    with Gradebook(url) as gradebook:  # the formgrader's comment box
        comment = gradebook.find_comment("q1-answer", "a1", "a1", "alice")
        comment.manual_comment = "see chapter 5"
        gradebook.db.commit()
    with Gradebook(url) as gradebook:
        gradebook.find_grade("q1", "a1", "a1", "alice").manual_score = 0
        gradebook.db.commit()
    converter = _feedback_converter(tmp_path, url)
    converter.coursedir.student_id_exclude = "bob,alice"
    page.write_text("the page")
    assert not converter.init_destination("a1", "alice")
    assert page.exists(), "the page of a learner left out of the run was removed"
    assert made_again(), "the page from before the comment is kept"
    assert (tmp_path / "autograded" / "alice" / "a1" / "a1.ipynb").exists()
    record = tmp_path / "grading_reports" / "alice" / "a1" / feedback.FEEDBACK_GRADES_FILE
    assert record.exists()


def test_the_gradebook_is_opened_once_for_every_learners_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """generate_feedback's check of each page's grades opened the gradebook once per
    learner. Does one command open it once for all of an assignment's learners, while each
    learner's record still holds their own grades, and a learner the gradebook does not
    hold gets none?"""
    import json

    from nbgrader.api import Gradebook
    from nbgrader.converters.generate_feedback import GenerateFeedback

    from lstm_grader import feedback

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    students = ["alice", "bob", "carol"]
    for student in students + ["dave"]:
        (tmp_path / "autograded" / student / "a1").mkdir(parents=True)
    url = _graded_submission(tmp_path)
    for student in students[1:]:
        with Gradebook(url) as gradebook:
            gradebook.add_student(student)
            gradebook.add_submission("a1", student)
    with Gradebook(url) as gradebook:  # the formgrader's score boxes
        for score, student in enumerate(students[1:], start=1):
            gradebook.find_grade("q1", "a1", "a1", student).manual_score = score
        gradebook.db.commit()
    monkeypatch.setattr(GenerateFeedback, "init_destination", GenerateFeedback.init_destination)
    feedback.regenerate_stale_feedback()
    opened: list[str] = []
    original = Gradebook.__init__

    def counted(self, db_url, *args, **kwargs) -> None:
        opened.append(db_url)
        original(self, db_url, *args, **kwargs)

    monkeypatch.setattr(Gradebook, "__init__", counted)
    converter = _feedback_converter(tmp_path, url)
    for student in students + ["dave"]:
        converter.notebooks = [str(tmp_path / "autograded" / student / "a1" / "a1.ipynb")]
        assert converter.init_destination("a1", student)
    assert len(opened) == 1, f"the gradebook was opened {len(opened)} times"
    for score, student in enumerate(students):
        record = tmp_path / "grading_reports" / student / "a1" / feedback.FEEDBACK_GRADES_FILE
        grades = json.loads(record.read_text(encoding="utf-8"))["a1"]["grades"]
        assert grades == [["q1", None, score or None, None]]
    record = tmp_path / "grading_reports" / "dave" / "a1" / feedback.FEEDBACK_GRADES_FILE
    assert json.loads(record.read_text(encoding="utf-8")) == {"a1": None}


@pytest.mark.slow
def test_a_manual_score_reaches_the_feedback_without_force(tmp_path: Path) -> None:
    """Graded, its feedback made, then q1 given full marks by hand in the formgrader: does
    plain ``nbgrader generate_feedback`` (no --force) make the page again with the manual
    score, where nbgrader kept the page from before it?"""
    from nbgrader.api import Gradebook

    from lstm_grader.sandbox import bwrap_path
    from lstm_grader.synthetic import answered

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    (tmp_path / "course").mkdir()
    course = make_course(tmp_path / "course", [ASSIGNMENT])
    mistake = classic_mistakes(ASSIGNMENT)["q1"]
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit(
        STUDENT, ASSIGNMENT, answered(release, source, {mistake["cell"]: mistake["code"]})
    )
    course.run("nbgrader", "autograde", ASSIGNMENT)
    course.run("nbgrader", "generate_feedback", ASSIGNMENT)
    page = course.layout.feedback(STUDENT, ASSIGNMENT) / f"{ASSIGNMENT}.html"
    before = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert "(set by the instructor)" not in before.select_one("#question-q1").get_text()

    with Gradebook(course.layout.db_url) as gradebook:  # the formgrader's score box
        grade = gradebook.find_grade("q1", ASSIGNMENT, ASSIGNMENT, STUDENT)
        grade.manual_score = grade.max_score
        gradebook.db.commit()
    run = course.run("nbgrader", "generate_feedback", ASSIGNMENT)
    assert "Updating feedback made before the latest grades" in run.stderr
    after = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert "(set by the instructor)" in after.select_one("#question-q1 .lstm-points").get_text()
    run = course.run("nbgrader", "generate_feedback", ASSIGNMENT)
    assert "Skipping existing assignment" in run.stderr, "an unchanged page was made again"


def _release_feedback(root: Path, exchange: Path, caplog: pytest.LogCaptureFixture) -> str:
    """Run the course's release_feedback in-process for assignment a1; return its log."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    from lstm_grader.feedback import ReleaseFeedbackSayingReplaced

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "c1"
    config.CourseDirectory.assignment_id = "a1"
    config.Exchange.root = str(exchange)
    release = ReleaseFeedbackSayingReplaced(
        coursedir=CourseDirectory(config=config),
        authenticator=Authenticator(config=config),
        config=config,
    )
    caplog.clear()
    caplog.set_level(logging.INFO, logger=release.log.name)
    release.log.addHandler(caplog.handler)
    try:
        release.start()
    finally:
        release.log.removeHandler(caplog.handler)
    return caplog.text


def test_release_feedback_names_the_pages_it_replaces(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """nbgrader's release_feedback replaced a page released before without a word, and a
    learner who fetched it keeps the old one. Is a replaced page released and named with
    its learner, in a warning and in a last line naming who to ask to fetch again, is a
    page the same as the one released left alone, and does a first release say nothing of
    the kind?"""
    from nbgrader.utils import notebook_hash

    root, exchange = tmp_path / "course", tmp_path / "exchange"
    (exchange / "c1").mkdir(parents=True)
    pages = {}
    for student in ("ada", "bob"):
        folder = root / "feedback" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-01-30 12:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(f"secret of {student}")
        pages[student] = folder / "a1.html"
        pages[student].write_text(f"<p>{student}: 1 point</p>")
    released = {
        s: exchange
        / "c1"
        / "feedback"
        / f"{notebook_hash(secret=f'secret of {s}', notebook_id='a1')}.html"
        for s in pages
    }

    first = _release_feedback(root, exchange, caplog)
    assert all(released[s].read_text() == f"<p>{s}: 1 point</p>" for s in pages)
    assert "Replacing" not in first and "replaced" not in first

    fetched = released["ada"].read_bytes()  # what ada fetched, before the regrade
    pages["ada"].write_text("<p>ada: 2 points, given by hand</p>")
    os.utime(released["bob"], (0, 0))
    again = _release_feedback(root, exchange, caplog)
    assert released["ada"].read_text() == "<p>ada: 2 points, given by hand</p>"
    assert released["ada"].read_bytes() != fetched
    assert "Replacing the feedback released before for student 'ada' on 'c1/a1/a1'" in again
    assert "1 released feedback page(s) were replaced: ada (a1/a1)" in again
    assert "nbgrader fetch_feedback" in again.splitlines()[-1]
    assert "student 'bob' on 'c1/a1/a1' is released already, unchanged" in again
    assert released["bob"].stat().st_mtime == 0, "an unchanged page was written again"
    assert "bob (" not in again


#: What a learner may leave as ``submission_secret.txt`` in their exchange submission, which
#: nbgrader's ``release_feedback`` reads for the page's name; each stopped the release there
#: for every learner after them (an assertion, a decoding error, a missing file).
UNUSABLE_SECRETS = {
    "ada": b"",
    "bob": b"\xff\xfe not UTF-8",
    "cy": None,  # deleted, or too large for autograde to copy
}


def test_one_learners_secret_stops_no_other_learners_feedback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A learner writes their exchange submission by hand: an empty, undecodable or missing
    ``submission_secret.txt``, or a classmate's secret, whose page name is the classmate's.
    Is every other learner's page released, is none of theirs (a shared secret would have
    put one learner's page, grades and code where the other fetches theirs), and does the
    release name each and end with status 1?"""
    from nbgrader.exchange import ExchangeError
    from nbgrader.utils import notebook_hash

    root, exchange = tmp_path / "course", tmp_path / "exchange"
    (exchange / "c1").mkdir(parents=True)
    secrets = {**UNUSABLE_SECRETS, "dan": b"shared", "eve": b"shared", "zoe": b"secret of zoe"}
    for student, secret in secrets.items():
        folder = root / "feedback" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-01-30 12:00:00.000000 UTC")
        if secret is not None:
            (folder / "submission_secret.txt").write_bytes(secret)
        (folder / "a1.html").write_text(f"<p>{student}: 1 point</p>")

    with pytest.raises(ExchangeError) as stopped:
        _release_feedback(root, exchange, caplog)
    released = exchange / "c1" / "feedback"
    zoe = released / f"{notebook_hash(secret='secret of zoe', notebook_id='a1')}.html"
    assert zoe.read_text() == "<p>zoe: 1 point</p>", "an honest learner got no feedback"
    assert [p.name for p in released.iterdir()] == [zoe.name]
    for student in ("ada", "bob", "cy", "dan", "eve"):
        assert f"'{student}'" in caplog.text, f"{student} is not named"
    assert "ada, bob, cy, dan, eve" in str(stopped.value)


def test_feedback_not_released_for_a_zip_download_says_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A class collected from a learning-management system's zip download has no
    ``submission_secret.txt``: the exchange cannot hand its pages back. Does the release
    say so, and point the instructor at the pages in ``feedback/`` to upload, rather than
    only at a new exchange submission the learners never made?"""
    from nbgrader.exchange import ExchangeError

    root, exchange = tmp_path / "course", tmp_path / "exchange"
    (exchange / "c1").mkdir(parents=True)
    for student in ("ada", "bob"):
        folder = root / "feedback" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-01-30 12:00:00")
        (folder / "a1.html").write_text(f"<p>{student}: 1 point</p>")

    with pytest.raises(ExchangeError) as stopped:
        _release_feedback(root, exchange, caplog)
    assert "zip_collect" in caplog.text, "the usual reason for a missing secret is not named"
    last_line = str(stopped.value)
    assert "ada, bob" in last_line
    assert "feedback/" in last_line and "learning-management system" in last_line
