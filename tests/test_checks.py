"""Does the notebook side of lstm_lib.checks reveal, record and grade, behind the old imports?

A learner's notebook imports its checks from ``lstm_lib.checks``; the wire format now lives
in ``lstm_lib.answers`` and the verdicts in ``lstm_lib.verdicts`` (tested in
``test_answers.py`` and ``test_verdicts.py``). These tests ask whether every name a notebook
or the grader imported from ``lstm_lib.checks`` is still there, the same object as in its
owner module, and whether the kernel-side helpers (``reveal``, recording, ``grade_answer``,
``keras_allowed``) print, store and judge as they should. No test here imports TensorFlow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_grader.references import load_references
from lstm_lib import answers, checks, verdicts
from lstm_lib.checks import AnswerError, Verdict


@pytest.fixture(autouse=True)
def _no_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test judges, unless it sets the recording variable itself."""
    monkeypatch.delenv(checks.RECORD_ENV, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    # each test starts as a fresh kernel does: practice mode, nothing attempted
    monkeypatch.setattr(checks, "_session", {"mode": "practice", "attempts": {}})


# ===================================================================== public surface

#: Every public name lstm_lib.checks had before the wire format and the verdicts moved out,
#: with the module that owns it now.
OLD_PUBLIC_NAMES = {
    "to_plain": answers,
    "from_plain": answers,
    "parse_answer_json": answers,
    "answer_json": answers,
    "ARRAY_RTOL": verdicts,
    "ARRAY_ATOL": verdicts,
    "AnswerError": verdicts,
    "Verdict": verdicts,
    "KINDS": verdicts,
    "verdict": verdicts,
    "expect_array": verdicts,
    "expect_choice": verdicts,
    "expect_int": verdicts,
    "expect_layer_specs": verdicts,
    "expect_shape": verdicts,
    "expect_shapes": verdicts,
    "RECORD_ENV": checks,
    "grade_answer": checks,
    "keras_allowed": checks,
    "reveal": checks,
}

#: Names added for the two check modes.
MODE_NAMES = ("CHECK_MODES", "check_mode", "show_answer", "use_mode")

#: Names a check cell calls before its checks, for a kernel restarted since the setup cell.
RESTART_NAMES = ("say_what_to_run",)


@pytest.mark.parametrize("name", sorted(OLD_PUBLIC_NAMES))
def test_old_public_names_are_still_importable(name: str) -> None:
    """Does ``from lstm_lib.checks import X`` still work for every public X it had, giving
    the very object its owner module defines (for a form check, the object the notebook's
    version wraps so that it speaks in graded mode), and is X listed in ``__all__``?"""
    namespace: dict[str, Any] = {}
    exec(f"from lstm_lib.checks import {name}", namespace)
    owner = OLD_PUBLIC_NAMES[name]
    imported = namespace[name]
    if name.startswith("expect_"):
        imported = imported.__wrapped__
    assert imported is getattr(owner, name)
    assert name in checks.__all__
    assert name in getattr(owner, "__all__", [name])


#: Names added for authoring questions with less boilerplate.
AUTHORING_NAMES = (
    "AuthoringError",
    "expect_layer_spec",
    "expect_value",
    "FEEDBACK_FILE",
    "MEASURES",
    "answer_name",
    "feedback_messages",
    "reveal_layer",
)


def test_all_is_accurate() -> None:
    """Does ``lstm_lib.checks.__all__`` list exactly the old public names and the authoring
    helpers, each defined?"""
    assert sorted(checks.__all__) == sorted(
        [*OLD_PUBLIC_NAMES, *AUTHORING_NAMES, *MODE_NAMES, *RESTART_NAMES]
    )
    assert len(set(checks.__all__)) == len(checks.__all__)
    for name in checks.__all__:
        assert hasattr(checks, name), name


# ===================================================================== kernel side


class TestReveal:
    def test_prints_a_right_prediction(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Does a right prediction print a tick and the verdict, and return it?"""
        result = checks.reveal("q1", (None, 16), (None, 16), kind="shape")
        assert result == Verdict(True, "Correct: (None, 16).")
        assert capsys.readouterr().out == "✔ q1: Correct: (None, 16).\n"

    def test_prints_a_wrong_prediction(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Does a wrong prediction print a cross and the named mistake, but not the value
        Keras computed, which only show_answer reveals?"""
        result = checks.reveal(
            "q2", (None, 8, 16), (None, 16), kind="shape", context={"features": 3}
        )
        assert result is not None and not result.correct
        out = capsys.readouterr().out
        assert out.startswith("✘ q2: (None, 8, 16) keeps the time axis")
        assert "(None, 16)" not in out.replace("(None, 8, 16)", "")
        assert out.endswith("run show_answer('q2').\n")
        checks.show_answer("q2")
        assert capsys.readouterr().out.startswith("q2: Keras says (None, 16)")

    def test_a_check_cell_ending_in_reveal_shows_the_verdict_once(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Most check cells end with ``reveal_layer(...)``: the notebook showed the printed
        verdict, then again as a raw ``Out[n]: Verdict(correct=..., message=...)``. Does
        a revealed verdict display nothing more, while one nobody printed still shows?"""
        from IPython.core.interactiveshell import InteractiveShell

        formatter = InteractiveShell.instance().display_formatter
        revealed = checks.reveal("q1", (None, 16), (None, 16), kind="shape")
        capsys.readouterr()
        assert formatter.format(revealed) == ({}, {})
        assert revealed == Verdict(True, "Correct: (None, 16).")
        checks.verdict("shape", (None, 16), (None, 16))._ipython_display_()
        assert "Verdict(correct=True" in capsys.readouterr().out

    def test_prints_arrays(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Does the Keras value of an array question print as an array, on request?"""
        checks.reveal("q6", np.zeros((1, 2)), np.array([[0.5, 0.25]]), kind="array")
        checks.show_answer("q6")
        assert "Keras says [[0.5  0.25]]" in capsys.readouterr().out

    def test_records_instead_of_judging(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With the recording variable set, is the Keras value stored, not judged?"""
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))

        class LSTM:  # stands for a Keras layer: only get_config() is read
            def get_config(self) -> dict[str, Any]:
                return {"units": 16, "name": "lstm"}

        mistakes = [{"value": (None, 8, 16), "message": "keeps time"}]
        assert (
            checks.reveal(
                "q1",
                "anything",
                (None, np.int64(16)),
                kind="shape",
                context={"layer": LSTM(), "input_shape": (None, 8, 3)},
                mistakes=mistakes,
            )
            is None
        )
        assert checks.reveal("q2", None, np.array([[0.5, 1.5]]), kind="array") is None
        assert capsys.readouterr().out == ""
        data = json.loads(record.read_text(encoding="utf-8"))
        q1, q2 = data["questions"]["q1"], data["questions"]["q2"]
        assert q1["kind"] == "shape" and q1["expected"] == [None, 16]
        assert q1["context"]["input_shape"] == [None, 8, 3]
        assert q1["context"]["layer"]["class_name"] == "LSTM"
        assert q1["context"]["layer"]["config"]["units"] == 16
        assert q1["context"]["layer"]["config"]["return_sequences"] is False
        assert q1["mistakes"] == [{"value": [None, 8, 16], "message": "keeps time"}]
        assert q2 == {"kind": "array", "expected": [[0.5, 1.5]], "context": {}, "mistakes": []}

    def test_keras_allowed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Does a check's Keras part stand down while nbgrader executes the notebook, and
        where Keras is not installed (a learner's bare Jupyter), instead of failing?"""
        import importlib.util

        assert checks.keras_allowed() is (importlib.util.find_spec("keras") is not None)
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "keras" else real_find_spec(name, *a),
        )
        assert checks.keras_allowed() is False
        monkeypatch.undo()
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        assert checks.keras_allowed() is False


# LSTM(16) on 3 features: 4 × (16 × (16 + 3) + 16) = 1280 (as in test_verdicts.py).
LSTM_COUNT = {"layer": {"class_name": "LSTM", "config": {"units": 16}}, "input_shape": [None, 8, 3]}
REFERENCE = {
    "assignment": "05-x",
    "questions": {
        "q1": {"kind": "shape", "expected": [None, 16], "context": {"features": 3}, "mistakes": []},
        "q2": {
            "kind": "int",
            "expected": 1280,
            "context": LSTM_COUNT,
            "mistakes": [{"value": 1, "message": "One is lonely."}],
        },
    },
}


class _KerasObject:
    """Stands for what Keras takes and no answer carries: a layer, a function, a tensor."""


#: Where a learner puts an object Keras takes in a model answer: a layer in the list, an
#: activation in a config, a wrapped layer.
_OBJECT_SLOTS = st.sampled_from(["layer", "activation", "kernel_initializer", "wrapped"])


class TestRevealJudgesWhatTheGraderJudges:
    @settings(deadline=None, max_examples=40)
    @given(slot=_OBJECT_SLOTS, position=st.integers(0, 1), units=st.integers(1, 16))
    def test_a_model_answer_holding_an_object_gets_the_graders_verdict(
        self, slot: str, position: int, units: int
    ) -> None:
        """Does the notebook's check tell an answer holding an object Keras takes (which
        the wire format refuses) what the grader tells it, not that the model does not
        build?"""
        layers: list[Any] = [
            {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}},
            {"class_name": "LSTM", "config": {"units": units}},
        ]
        if slot == "layer":
            layers[position] = _KerasObject()
        elif slot == "wrapped":
            layers[position] = {"class_name": "Bidirectional", "config": {"layer": _KerasObject()}}
        else:
            layers[position]["config"][slot] = _KerasObject()
        expected = {"output_shape": [None, 8], "params": 2080}
        context = {"input_shape": [None, 8, 3]}
        in_notebook = checks.reveal("q6", layers, expected, kind="model", context=context)
        graded = verdicts.verdict(
            "model", answers.parse_answer_json(answers.answer_json(layers)), expected, context
        )
        assert in_notebook is not None and not in_notebook.correct
        assert in_notebook.message == graded.message
        assert "does not build" not in in_notebook.message


class TensorShape:
    """Named as TensorFlow's class is: a layer's ``.shape`` under TensorFlow, which
    ``tuple(...)`` makes a shape."""


#: Answers a learner writes with an object the wire format refuses, by the form check a
#: check cell runs on them: (check, its extra arguments, the kind, the expected value).
_REFUSED_ANSWERS = [
    ("expect_shape", (), "shape", TensorShape(), [None, 16]),
    ("expect_shape", (), "shape", (None, np.int64(16)), [None, 16]),
    ("expect_shape", (), "shape", range(2), [None, 16]),
    ("expect_shapes", (), "shapes", [(None, 8), (None, np.int32(8))], [[None, 8], [None, 8]]),
    ("expect_int", (), "int", np.int32(144), 144),
    ("expect_int", (), "int", np.float64(144.0), 144),
    ("expect_array", ((2, 3),), "array", np.ones((2, 3), dtype=bool), [[0.0] * 3] * 2),
    ("expect_choice", (["TypeError", "ValueError"],), "choice", TypeError, "TypeError"),
    ("expect_layer_specs", (), "model", [_KerasObject()], {"output_shape": [None, 4]}),
    ("expect_layer_spec", (), "layer_shapes", _KerasObject(), [[None, 7]]),
    (
        "expect_layer_specs",
        (),
        "model",
        [{"class_name": "Dense", "config": {"units": np.int64(4)}}],
        {"output_shape": [None, 4]},
    ),
]


@pytest.mark.parametrize(
    ("check", "arguments", "kind", "answer", "expected"),
    _REFUSED_ANSWERS,
    ids=[f"{case[0]}-{type(case[3]).__name__}-{i}" for i, case in enumerate(_REFUSED_ANSWERS)],
)
def test_a_form_check_tells_a_refused_answer_what_the_grader_tells_it(
    check: str, arguments: tuple, kind: str, answer: Any, expected: Any
) -> None:
    """A check cell's form check runs before anything else; for an answer holding what no
    answer carries (a TensorShape, a NumPy int inside a tuple, a Keras layer in a model)
    it said one thing ("A shape is a tuple ...; got TensorShape(...)") and the grader,
    which sees the refused object, another ("write tuple(...) around it"). Do both now
    say the same?"""
    with pytest.raises(AnswerError) as raised:
        getattr(checks, check)(answer, *arguments)
    graded = verdicts.verdict(
        kind, answers.parse_answer_json(answers.answer_json(answer)), expected
    )
    assert not graded.correct
    assert str(raised.value) == graded.message


def test_a_form_slip_quotes_the_answer_as_the_grader_reads_it() -> None:
    """03 q6 answered [h_2], a list around the float32 array, was quoted by the notebook
    as [array([[-0.93931144, -0.8864971 ]], dtype=float32)] and by the grader, which reads
    arrays as float64, as [array([[-0.93931144, -0.88649708]])]. Does the form check judge
    the answer as the grader reads it, so that both quote the same?"""
    answer = [np.array([[-0.93931144, -0.8864971]], dtype=np.float32)]
    with pytest.raises(AnswerError) as raised:
        checks.expect_array(answer, (1, 2))
    graded = verdicts.verdict(
        "array", answers.parse_answer_json(answers.answer_json(answer)), [[0.0, 0.0]]
    )
    assert str(raised.value) == graded.message


@pytest.mark.parametrize(
    "answer",
    [
        [{"class_name": "SimpleRNN", "config": {"units": 7}}],
        {"units": 7},
        "SimpleRNN(7)",
        ("SimpleRNN", {"units": 7}),
    ],
)
def test_a_layer_answer_of_the_wrong_form_is_told_as_the_grader_tells_it(answer: Any) -> None:
    """03 q7, 05 q7 and 07 q9 ask for one layer dict; their check cells asserted
    ``isinstance(answer_q7, dict)``, so a layer in a list (the model questions' form)
    showed a traceback ending in "answer_q7 should be a layer dict", where the grader said
    how to write it. Does the form check say what the grader says?"""
    with pytest.raises(AnswerError) as raised:
        checks.expect_layer_spec(answer)
    graded = verdicts.verdict(
        "layer_shapes",
        answers.parse_answer_json(answers.answer_json(answer)),
        [[None, 7]],
        {"input_shape": [None, 20, 3]},
    )
    assert not graded.correct
    assert str(raised.value) == graded.message
    assert "Describe the layer as a dict" in graded.message


@pytest.mark.parametrize(
    ("answer", "expected", "example"),
    [
        ("units=128, activation='sigmoid'", {"units": 128}, {"units": 8}),
        ([("units", 128)], {"units": 128}, {"units": 8}),
        ({1: "units"}, {"units": 128}, {"units": 8}),
        (TypeError, "TypeError", "KeyError"),
        (TypeError("no output_dim"), "TypeError", "KeyError"),
        (None, "TypeError", "KeyError"),
        (("inputs", "outputs"), {"input": "inputs", "output": "outputs"}, {"input": "x"}),
    ],
)
def test_a_value_answer_of_the_wrong_type_is_told_as_the_grader_tells_it(
    answer: Any, expected: Any, example: Any
) -> None:
    """09's q1, q2 and q5 checked their answers' type with a bare ``assert``: the learner
    read a traceback ending in "answer_q2 should be a string", where the grader said what
    to write (an exception class's name in quotes). Does the form check say what the
    grader says?"""
    with pytest.raises(AnswerError) as raised:
        checks.expect_value(answer, example)
    graded = verdicts.verdict(
        "value", answers.parse_answer_json(answers.answer_json(answer)), expected
    )
    assert not graded.correct
    assert str(raised.value) == graded.message


def test_a_value_answer_of_the_right_type_passes_its_form_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Is a dict with other keys left to the verdict, which gives it its share, and in
    graded mode is the learner told the form in words ("a dict", "a string")?"""
    checks.expect_value({"inputs": "inputs", "output": "outputs"}, {"input": "x"})
    checks.expect_value("no exception", "KeyError")
    assert capsys.readouterr().out == ""
    checks.use_mode("graded")
    checks.expect_value("no exception", "KeyError")
    checks.expect_value({"input": "inputs"}, {"input": "x"})
    out = capsys.readouterr().out
    assert "The form is right (a string)" in out and "The form is right (a dict)" in out


def test_a_table_of_new_names_is_told_its_own_form(capsys: pytest.CaptureFixture[str]) -> None:
    """09 q5 asks for a dict from Model's old keywords to their Keras 3 names; an answer of
    another type was told to write "a dict of keyword arguments, from each name to its
    value, e.g. {'units': 8}", which is not q5's form and shows what q1's output_dim became.
    Is it told q5's own form, with q5's own key, alike in the notebook and from the grader?"""
    expected = _reference("09-keras2-to-keras3", "q5")["expected"]
    with pytest.raises(AnswerError) as raised:
        checks.expect_value("inputs", {"input": "..."})
    graded = verdicts.verdict("value", "inputs", expected)
    assert str(raised.value) == graded.message
    assert "from each old keyword the question names to its Keras 3 name" in graded.message
    assert "{'input': ...}" in graded.message and "units" not in graded.message
    # a dict of keyword arguments (09 q1) keeps its own form
    assert "keyword arguments" in verdicts.verdict("value", "units=8", {"units": 128}).message


def test_a_check_reads_the_answer_once_for_its_form_and_its_verdict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check cell's form check and its verdict each turned the answer into the grader's
    wire format (a model's list, an array walked twice). Is it read once in one cell, and
    read again in a later cell, where the learner may have changed it since?"""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    reads = []

    def counted(value: Any) -> Any:
        reads.append(value)
        return answers.to_plain(value)

    monkeypatch.setattr(checks, "to_plain", counted)
    check = (
        "from lstm_lib.checks import expect_shapes, reveal\n"
        "expect_shapes(answer_q3)\n"
        "reveal('q3', answer_q3, [(None, 4), (None, 4)], kind='shapes')\n"
    )
    try:
        shell.user_ns["answer_q3"] = [(None, 4)]
        shell.run_cell(check)
        assert len(reads) == 1
        assert "2 tensors" in capsys.readouterr().out  # judged: one shape too few
        shell.run_cell("answer_q3.append((None, 4))")
        shell.run_cell("from lstm_lib.checks import reveal\n" + check.splitlines()[-1])
        assert len(reads) == 2
        assert "✔ q3" in capsys.readouterr().out  # the changed list, not the first reading
    finally:
        shell.user_ns.pop("answer_q3", None)


def _reference(assignment: str, question: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    return json.loads((root / "references" / f"{assignment}.json").read_text())["questions"][
        question
    ]


def test_an_array_of_another_shape_is_told_its_slip_as_the_grader_tells_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """03 q6's check (``expect_array(answer_q6, shape=(1, 2))``) told h at every timestep,
    (1, 2, 2), only that it "should have shape (1, 2)", where the grader named the slip
    (return_sequences). Where the check goes on to judge with Keras, does the learner read
    the grader's verdict, and, where it does not (graded mode), still the shape?"""
    monkeypatch.setattr(checks, "_import_keras_quietly", lambda: None)
    entry = _reference("03-simplernn", "q6")
    context = entry["context"]
    x, kernel = np.array(context["x"]), np.array(context["kernel"])
    recurrent, bias = np.array(context["recurrent_kernel"]), np.array(context["bias"])
    h_1 = np.tanh(x[:, 0] @ kernel + bias)
    every_step = np.stack([h_1, np.tanh(x[:, 1] @ kernel + h_1 @ recurrent + bias)], axis=1)
    checks.expect_array(every_step, shape=(1, 2))
    in_notebook = checks.reveal(
        "q6", every_step, np.array(entry["expected"]), kind="array", context=context
    )
    graded = verdicts.verdict(
        "array",
        answers.parse_answer_json(answers.answer_json(every_step)),
        entry["expected"],
        context,
        entry["mistakes"],
    )
    assert in_notebook is not None and not graded.correct
    assert in_notebook.message == graded.message
    assert "every timestep" in graded.message
    checks.use_mode("graded")
    with pytest.raises(AnswerError, match=r"should have shape \(1, 2\)"):
        checks.expect_array(every_step, shape=(1, 2))


class TestGradeAnswer:
    @pytest.fixture
    def course(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        (tmp_path / "references").mkdir()
        (tmp_path / "references" / "05-x.json").write_text(json.dumps(REFERENCE))
        folder = tmp_path / "solutions" / "05-x"
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        return tmp_path

    def test_right_answer_passes(self, course: Path) -> None:
        """Does a right answer pass silently, with the reference found two folders up?"""
        checks.grade_answer("q1", (None, 16))
        checks.grade_answer("q2", 1280)

    def test_wrong_answer_raises_the_message(self, course: Path) -> None:
        """Does a wrong answer raise AnswerError carrying the question and the message?"""
        with pytest.raises(AnswerError) as info:
            checks.grade_answer("q1", (None, 8, 16))
        assert str(info.value).startswith("q1: (None, 8, 16) keeps the time axis")
        with pytest.raises(AnswerError, match=r"^q2: One is lonely\.$"):
            checks.grade_answer("q2", 1)
        with pytest.raises(AnswerError, match="the count for one block"):
            checks.grade_answer("q2", 320)

    def test_an_answer_is_graded_as_the_grader_reads_it(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A design whose units are a NumPy int (``units=np.int64(4)``, from arithmetic on
        shapes) passed ``grade_answer`` as written, where the grader, reading it from the
        wire, refuses it: a solution validated with nbgrader would fail in grading. Is it
        told what the grader tells it, and does the plain design still pass?"""
        (tmp_path / "references").mkdir()
        shutil.copy(ROOT / "references" / "02-dense.json", tmp_path / "references")
        folder = tmp_path / "solutions" / "02-dense"
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        design = [{"class_name": "Dense", "config": {"units": 4, "use_bias": False}}]
        checks.grade_answer("q7", design)
        design[0]["config"]["units"] = np.int64(4)
        reference = load_references(tmp_path / "references", "02-dense")["q7"]
        read = answers.parse_answer_json(answers.answer_json(design))
        graded = verdicts.verdict(
            "model", read, reference.expected, reference.context, reference.mistakes
        )
        with pytest.raises(AnswerError) as info:
            checks.grade_answer("q7", design)
        assert str(info.value) == f"q7: {graded.message}"
        assert "int(...)" in graded.message

    def test_no_reference(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without references above the working folder, is the learner told so?"""
        folder = tmp_path / "05-x"
        folder.mkdir()
        monkeypatch.chdir(folder)
        with pytest.raises(AnswerError, match="only available to the grader"):
            checks.grade_answer("q1", (None, 16))

    def test_recording_skips_grading(self, course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """While references are recorded, is a test cell a no-op even for a wrong answer?"""
        monkeypatch.setenv(checks.RECORD_ENV, str(course / "record.json"))
        checks.grade_answer("q1", "wrong")


# ===================================================================== authoring


def _feedback(folder: Path, entries: dict[str, dict[str, str]]) -> None:
    (folder / checks.FEEDBACK_FILE).write_text(json.dumps(entries), encoding="utf-8")


class TestFeedbackAsData:
    """Feedback text lives in feedback.json beside the notebook, not in its cells."""

    def test_named_mistakes_take_their_text_from_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Is a named mistake's value matched and its text read from feedback.json?"""
        _feedback(tmp_path, {"q1": {"drops-time": "Dense never removes an axis."}})
        monkeypatch.chdir(tmp_path)
        result = checks.reveal(
            "q1", (None, 16), (None, 10, 16), kind="shape", mistakes={"drops-time": (None, 16)}
        )
        assert result is not None and not result.correct
        assert "Dense never removes an axis." in capsys.readouterr().out

    def test_choice_explanations_come_from_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """For a multiple-choice question, is each wrong option explained from the file?"""
        _feedback(tmp_path, {"q3": {"timesteps": "Timesteps are how often it recurs."}})
        monkeypatch.chdir(tmp_path)
        context = {"options": ["timesteps", "features", "units"]}
        result = checks.reveal("q3", "timesteps", "units", kind="choice", context=context)
        assert result is not None and result.message == "Timesteps are how often it recurs."

    def test_the_right_options_text_is_recorded_as_why_never_as_why_not(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Is the text under the right option recorded as the reason given with the right
        answer (``why``, which the explanation shows), and kept out of ``why_not``, whose
        texts are sealed under the answers they explain?"""
        _feedback(
            tmp_path,
            {"q3": {"timesteps": "Timesteps are how often it recurs.", "units": "Its width."}},
        )
        monkeypatch.chdir(tmp_path)
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        context = {"options": ["timesteps", "features", "units"]}
        checks.reveal("q3", None, "units", kind="choice", context=context)
        stored = json.loads(record.read_text())["questions"]["q3"]["context"]
        assert stored["why_not"] == {"timesteps": "Timesteps are how often it recurs."}
        assert stored["why"] == "Its width."

    def test_a_choice_whose_value_is_not_a_string_is_recorded_without_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A choice whose options are not strings (a list cannot key feedback.json) is
        recorded without a reason and without a TypeError."""
        _feedback(tmp_path, {"q3": {"a": "Not a."}})
        monkeypatch.chdir(tmp_path)
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        checks.reveal("q3", None, [1, 2], kind="value", context={"options": ["a"]})
        checks.reveal("q4", None, [1, 2], kind="choice", context={"options": ["a"]})
        assert "why" not in json.loads(record.read_text())["questions"]["q4"]["context"]

    def test_recording_stores_the_text_and_refuses_a_missing_one(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When references are recorded, does the text go into the record (so the grader
        needs no feedback.json), and is a named mistake without text an authoring error?"""
        _feedback(tmp_path, {"q1": {"one-gate": "That is one gate."}})
        monkeypatch.chdir(tmp_path)
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        checks.reveal("q1", None, 1280, kind="int", mistakes={"one-gate": 320})
        stored = json.loads(record.read_text())["questions"]["q1"]
        assert stored["mistakes"] == [{"value": 320, "message": "That is one gate."}]
        with pytest.raises(checks.AuthoringError, match="'forgot-bias' has no text"):
            checks.reveal("q1", None, 1280, kind="int", mistakes={"forgot-bias": 1248})

    def test_a_learner_without_the_file_still_gets_a_verdict(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A notebook downloaded alone has no feedback.json: is the answer still judged,
        with the general rules instead of the named texts?"""
        monkeypatch.chdir(tmp_path)
        result = checks.reveal("q1", 320, 1280, kind="int", mistakes={"one-gate": 320})
        assert result is not None and not result.correct
        assert checks.feedback_messages("q1") == {}

    @pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"q1": ["a"]}'])
    def test_a_broken_file_is_ignored(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
    ) -> None:
        """Does a damaged feedback.json (a learner's copy is theirs to break) mean no texts,
        not a crash of the check?"""
        (tmp_path / checks.FEEDBACK_FILE).write_text(content, encoding="utf-8")
        assert checks.feedback_messages("q1", str(tmp_path)) == {}


class TestDerivedContext:
    @pytest.mark.parametrize(
        ("input_shape", "derived"),
        [
            ((None, 10, 8), {"timesteps": 10, "features": 8}),
            ((None, 8), {}),
            ((None,), {}),
        ],
    )
    def test_timesteps_and_features_come_from_the_input_shape(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, input_shape: tuple, derived: dict
    ) -> None:
        """Is what the input shape says filled in, so a question never types it twice?"""
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        checks.reveal("q1", None, 1, kind="int", context={"input_shape": input_shape})
        context = json.loads(record.read_text())["questions"]["q1"]["context"]
        assert context == {"input_shape": list(input_shape), **derived}

    @pytest.mark.parametrize(
        ("context", "derived"),
        [
            # an Embedding reads ids: its input's axes are batch and timesteps, never features
            (
                {
                    "layer": {
                        "class_name": "Embedding",
                        "config": {"input_dim": 50, "output_dim": 8},
                    },
                    "input_shape": (None, 30),
                },
                {},
            ),
            # a 2-D input of an unnamed layer may be ids: nothing is guessed
            ({"input_shape": (None, 30)}, {}),
            (
                {
                    "layer": {"class_name": "Dense", "config": {"units": 4}},
                    "input_shape": (None, 8),
                },
                {"features": 8},
            ),
        ],
        ids=["embedding", "unknown-2d", "dense-2d"],
    )
    def test_nothing_is_derived_where_the_input_is_not_features(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context: dict, derived: dict
    ) -> None:
        """Is ``features`` derived only where an input axis really is features, so the
        feedback never calls a sequence length or a token id the features?"""
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        checks.reveal("q1", None, 1, kind="int", context=context)
        stored = json.loads(record.read_text())["questions"]["q1"]["context"]
        assert {k: stored[k] for k in ("features", "timesteps") if k in stored} == derived

    def test_a_given_value_wins(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Does an explicit context value stay as written?"""
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        checks.reveal(
            "q1", None, 1, kind="int", context={"input_shape": (None, 4, 3), "features": 9}
        )
        assert json.loads(record.read_text())["questions"]["q1"]["context"]["features"] == 9


def _in_notebook(code: str, **answers: Any) -> Any:
    """Run ``code`` as a notebook cell would, with the learner's answers defined; return
    the value of the variable ``result``."""
    namespace: dict[str, Any] = {"reveal_layer": checks.reveal_layer, **answers}
    exec(code, namespace)
    return namespace.get("result")


class TestRevealLayer:
    def test_only_the_form_is_checked_while_nbgrader_executes(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Under nbgrader (validate or autograde) is the answer's form still checked, for
        what the question measures, with no Keras imported?"""
        import sys

        monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
        monkeypatch.setitem(sys.modules, "keras", None)  # importing it would fail
        cell = 'result = reveal_layer("q1", None, (None, 2), ask="{ask}")'
        assert _in_notebook(cell.format(ask="params"), answer_q1=32) is None
        with pytest.raises(AnswerError, match="plain int"):
            _in_notebook(cell.format(ask="params"), answer_q1=32.0)
        with pytest.raises(AnswerError, match="tuple"):
            _in_notebook(cell.format(ask="output_shape"), answer_q1=[None, 4])
        with pytest.raises(AnswerError, match="answer_q1 is not defined"):
            _in_notebook(cell.format(ask="params"))

    def test_an_unknown_measure_is_an_authoring_error(self) -> None:
        """Is a misspelt ``ask`` refused with the measures there are?"""
        with pytest.raises(checks.AuthoringError, match="output_shape"):
            _in_notebook('reveal_layer("q1", None, (None, 2), ask="shape")', answer_q1=1)

    @pytest.mark.slow
    def test_measures_a_real_layer_and_its_variants(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With live Keras, does each measure give what Keras says, and is a variant's
        measurement recorded as the named mistake with its text?"""
        from conftest import require_module

        require_module("keras", "Keras (pip install .[keras])")
        _feedback(tmp_path, {"q1": {"an-lstm": "That is an LSTM's count."}})
        monkeypatch.chdir(tmp_path)
        record = tmp_path / "record.json"
        monkeypatch.setenv(checks.RECORD_ENV, str(record))
        answers = {
            "answer_params": 1,
            "answer_outputs": [(None, 1)],
            "answer_weights": [(1, 1)],
            "answer_q1": 1,
            "answer_one": (None, 1),
            "answer_x": (None, 1),
        }
        gru = "lambda layers: layers.GRU(8, return_sequences=True, return_state=True)"
        _in_notebook(
            f'reveal_layer("params", {gru}, (None, 10, 5), ask="params")\n'
            f'reveal_layer("outputs", {gru}, (None, 10, 5), ask="output_shapes")\n'
            f'reveal_layer("weights", {gru}, (None, 10, 5), ask="weight_shapes")\n'
            'reveal_layer("q1", lambda layers: layers.GRU(8), (None, 10, 5), ask="params",\n'
            '             variants={"an-lstm": lambda layers: layers.LSTM(8)})\n'
            'reveal_layer("one", lambda layers: layers.Dense(3), (None, 4, 2),\n'
            '             ask="output_shape")\n',
            **answers,
        )
        stored = json.loads(record.read_text())["questions"]
        assert stored["params"]["expected"] == 3 * (8 * (8 + 5) + 2 * 8)
        assert stored["outputs"]["expected"] == [[None, 10, 8], [None, 8]]
        assert stored["weights"]["expected"] == [[5, 24], [8, 24], [2, 24]]
        assert stored["one"]["expected"] == [None, 4, 3]
        assert stored["q1"]["mistakes"] == [
            {"value": 4 * (8 * (8 + 5) + 8), "message": "That is an LSTM's count."}
        ]
        assert stored["q1"]["context"]["layer"]["class_name"] == "GRU"
        assert stored["q1"]["context"]["features"] == 5
        with pytest.raises(checks.AuthoringError, match="output_shapes"):
            _in_notebook(f'reveal_layer("x", {gru}, (None, 10, 5), ask="output_shape")', **answers)


class TestGradeAnswerByName:
    def test_one_argument_grades_the_answer_named_after_the_question(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Does ``grade_answer("q2")`` grade the caller's ``answer_q2``, and say so plainly
        when it is not defined?"""
        (tmp_path / "references").mkdir()
        (tmp_path / "references" / "05-x.json").write_text(json.dumps(REFERENCE))
        folder = tmp_path / "05-x"
        folder.mkdir()
        monkeypatch.chdir(folder)
        namespace = {"grade_answer": checks.grade_answer, "answer_q2": 1280}
        exec('grade_answer("q2")', namespace)
        namespace["answer_q2"] = 1
        with pytest.raises(AnswerError, match="lonely"):
            exec('grade_answer("q2")', namespace)
        with pytest.raises(AnswerError, match="answer_q1 is not defined"):
            exec('grade_answer("q1")', {"grade_answer": checks.grade_answer})


# ===================================================================== the two modes


class TestModes:
    def test_graded_mode_checks_the_form_and_reveals_nothing(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In graded mode, does a check say its form is right and that grading comes after
        submission, run no Keras, judge nothing and show no value on request?"""
        import sys

        checks.use_mode("graded")
        monkeypatch.setitem(sys.modules, "keras", None)  # importing it would fail
        assert checks.keras_allowed() is False
        checks.expect_shape((None, 16))
        out = capsys.readouterr().out
        assert "form is right" in out and "graded after you submit" in out
        assert checks.reveal("q1", (None, 8), (None, 16), kind="shape") is None
        checks.show_answer("q1")
        out = capsys.readouterr().out
        assert "(None, 16)" not in out and "feedback" in out
        result = _in_notebook(
            'result = reveal_layer("q1", None, (None, 4, 2), ask="params")', answer_q1=32
        )
        assert result is None and "form is right" in capsys.readouterr().out

    def test_a_form_slip_still_raises_in_graded_mode(self) -> None:
        """Is a malformed answer refused in graded mode as in practice mode?"""
        checks.use_mode("graded")
        with pytest.raises(AnswerError, match="tuple"):
            checks.expect_shape([None, 16])

    def test_practice_mode_says_nothing_about_form_alone(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In practice mode, is a right form silent (the Keras comparison speaks next)?"""
        checks.expect_shape((None, 16))
        assert capsys.readouterr().out == ""

    def test_show_answer_waits_for_an_attempt(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Before any attempt, does show_answer ask for a prediction instead of a value?"""
        checks.show_answer("q4")
        out = capsys.readouterr().out
        assert "answer_q4" in out and "Keras says" not in out

    def test_validate_and_autograde_never_import_keras(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Under nbgrader, in either mode, is Keras out of reach?"""
        import sys

        monkeypatch.setitem(sys.modules, "keras", None)
        for mode in checks.CHECK_MODES:
            checks.use_mode(mode)
            for execution in ("validate", "autograde"):
                monkeypatch.setenv("NBGRADER_EXECUTION", execution)
                assert checks.keras_allowed() is False

    def test_a_check_reading_an_answer_not_yet_set_says_so_in_one_line(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Most check cells read their answer directly (``expect_int(answer_q4)``), so an
        untouched notebook showed a NameError traceback through the check cell's code.
        Once the setup cell has chosen the mode, does such a cell say in one line what to
        do, still fail (so Validate reports it), and does any other NameError keep its
        traceback?"""
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        try:
            checks.use_mode("practice")
            shell.user_ns["expect_int"] = checks.expect_int
            capsys.readouterr()
            result = shell.run_cell("expect_int(answer_q4)")
            out = capsys.readouterr().out
            assert isinstance(result.error_in_exec, NameError)
            assert "answer_q4 is not defined: set it in its answer cell" in out
            assert "NotImplementedError" in out
            assert "Traceback" not in out and len(out.strip().splitlines()) == 1
            result = shell.run_cell("expect_int(anwser_q4)")
            out = capsys.readouterr().out
            assert isinstance(result.error_in_exec, NameError)
            assert "Traceback" in out and "name 'anwser_q4' is not defined" in out
            assert "set it in its answer cell" not in out
        finally:
            shell.set_custom_exc((), None)
            shell.user_ns.pop("expect_int", None)

    def test_the_hosts_own_error_handler_keeps_its_errors(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Colab holds IPython's one custom-exception handler already, to add a note on
        installing a package under a failed import; the setup cell's hook replaced it, so
        a learner's own failed import lost that note. With the host's handler in place and
        the setup cell run twice, does a failed import still get the host's note, a
        missing answer the one line, and an unrelated NameError its traceback?"""
        from IPython.core.interactiveshell import InteractiveShell

        def host_handler(shell, etype, value, tb, tb_offset=None):
            print("HOST NOTE:", etype.__name__)

        shell = InteractiveShell.instance()
        try:
            shell.set_custom_exc((ImportError,), host_handler)
            checks.use_mode("practice")
            checks.use_mode("practice")  # the setup cell run again
            shell.user_ns["expect_int"] = checks.expect_int
            capsys.readouterr()
            result = shell.run_cell("import a_package_this_kernel_lacks")
            assert isinstance(result.error_in_exec, ImportError)
            assert capsys.readouterr().out.count("HOST NOTE: ModuleNotFoundError") == 1
            shell.run_cell("expect_int(answer_q4)")
            out = capsys.readouterr().out
            assert "answer_q4 is not defined: set it in its answer cell" in out
            assert "HOST NOTE" not in out and "Traceback" not in out
            shell.run_cell("anwser_q4")
            out = capsys.readouterr().out
            assert "name 'anwser_q4' is not defined" in out and "HOST NOTE" not in out
        finally:
            shell.set_custom_exc((), None)
            shell.user_ns.pop("expect_int", None)

    def test_a_check_missing_a_misspelt_answer_or_its_data_says_which(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A learner who wrote ``answer_4 = 128`` was told to set answer_q4 in its answer
        cell, which they believe they did; one who restarted the kernel and skipped a data
        cell got a traceback on ``given_q6``. Is each told what to do, without mistaking
        another question's answer (``answer_q3``) for a misspelling?"""
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        try:
            checks.use_mode("practice")
            shell.user_ns.update(expect_int=checks.expect_int, answer_q3=1, answer_4=128)
            capsys.readouterr()
            shell.run_cell("expect_int(answer_q4)")
            out = capsys.readouterr().out
            assert "your cells set answer_4, but the check reads answer_q4" in out
            shell.run_cell("dict(**given_q6)")
            out = capsys.readouterr().out
            assert "given_q6 is not defined: run this question's data cell" in out
            assert "Traceback" not in out
            del shell.user_ns["answer_4"]
            shell.run_cell("expect_int(answer_q4)")
            out = capsys.readouterr().out
            assert "set it in its answer cell" in out and "answer_q3" not in out
            # 04's q5 has two parts: one is no misspelling of the other, the bare name is
            shell.user_ns.update(answer_q5_h=1)
            shell.run_cell("expect_int(answer_q5_c)")
            assert "set it in its answer cell" in capsys.readouterr().out
            shell.user_ns.update(answer_q5=(1, 2))
            shell.run_cell("expect_int(answer_q5_c)")
            assert "your cells set answer_q5, but the check reads" in capsys.readouterr().out
        finally:
            shell.set_custom_exc((), None)
            for name in ("expect_int", "answer_q3", "answer_4", "answer_q5", "answer_q5_h"):
                shell.user_ns.pop(name, None)

    def test_a_check_run_before_the_setup_cell_says_to_run_it(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After a kernel restart, a check cell run before the setup cell showed
        ``NameError: name 'expect_int' is not defined``, a traceback through the check's
        code, since the setup cell's hook was not in place. Does a check cell that opens
        with ``say_what_to_run()`` say in one line to run the setup cell, for a check
        (``expect_int``, ``reveal_layer``) or ``model_reference`` alike, while still failing?"""
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        guard = "from lstm_lib.checks import say_what_to_run\nsay_what_to_run()\n"
        try:
            shell.set_custom_exc((), None)  # a fresh kernel: the setup cell has not run
            for use in (
                "expect_int(answer_q4)",
                "reveal_layer('q1', None, (None, 2))",
                "model_reference(None)",
            ):
                capsys.readouterr()
                result = shell.run_cell(guard + use)
                out = capsys.readouterr().out
                name = use.split("(")[0]
                assert isinstance(result.error_in_exec, NameError)
                assert f"{name} is not defined: run the setup cell first" in out
                assert "Traceback" not in out and len(out.strip().splitlines()) == 1
        finally:
            shell.set_custom_exc((), None)
            shell.user_ns.pop("say_what_to_run", None)

    def test_reveal_layer_names_a_misspelt_answer(self) -> None:
        """Does a check built on ``reveal_layer`` name a near spelling of its answer too?"""
        with pytest.raises(AnswerError, match="your cells set Answer_q1, but the check reads"):
            _in_notebook('reveal_layer("q1", None, (None, 2), ask="params")', Answer_q1=32)

    def test_a_check_keeps_tensorflows_retracing_warning_out(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """09's q8 check runs predict on a model it builds anew each time: a learner who
        ran it a few times read TensorFlow's ten-line warning that a tf.function was traced
        again. Once a check may run Keras, is that warning dropped, and only that one?"""
        import logging

        monkeypatch.setattr(checks, "_import_keras_quietly", lambda: None)
        logger = logging.getLogger("tensorflow")
        monkeypatch.setattr(logger, "filters", [])
        assert checks.keras_allowed() is True
        assert checks.keras_allowed() is True  # a second check adds no second filter
        assert len(logger.filters) == 1
        with caplog.at_level(logging.WARNING, logger="tensorflow"):
            logger.warning(
                "5 out of the last 9 calls to <function f> triggered tf.function retracing."
            )
            logger.warning("Another warning from TensorFlow.")
        assert [record.getMessage() for record in caplog.records] == [
            "Another warning from TensorFlow."
        ]

    def test_an_unknown_mode_is_refused(self) -> None:
        """Does a mistyped mode fail loudly rather than fall back silently?"""
        with pytest.raises(ValueError, match="practice"):
            checks.use_mode("exam")

    def test_a_sealed_explanation_opens_for_its_own_answer_only(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """In a student folder (no feedback.json, a sealed file), does the check name the
        mistake whose explanation is sealed under the learner's answer, and only that?"""
        from lstm_lib.sealed import SEALED_FILE, seal

        sealed = seal(
            [
                ("q2", (None, 8, 16), "SEALED: that keeps the time axis"),
                ("q2", (None, 3), "SEALED: that is the features"),
            ]
        )
        (tmp_path / SEALED_FILE).write_text(json.dumps(sealed))
        monkeypatch.chdir(tmp_path)
        checks.reveal("q2", (None, 8, 16), (None, 16), kind="shape")
        out = capsys.readouterr().out
        assert "SEALED: that keeps the time axis" in out
        assert "features" not in out
        checks.reveal("q2", (None, 7), (None, 16), kind="shape")
        assert "SEALED" not in capsys.readouterr().out

    def test_a_form_slip_never_opens_a_seal(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Is a list where a tuple belongs told about the form, not given the explanation
        sealed under the tuple?"""
        from lstm_lib.sealed import SEALED_FILE, seal

        sealed = seal([("q2", (None, 8, 16), "SEALED: that keeps the time axis")])
        (tmp_path / SEALED_FILE).write_text(json.dumps(sealed))
        monkeypatch.chdir(tmp_path)
        checks.reveal("q2", [None, 8, 16], (None, 16), kind="shape")
        out = capsys.readouterr().out
        assert "SEALED" not in out and "tuple" in out


@pytest.mark.slow
def test_keras_starts_without_log_lines_in_a_kernel(tmp_path: Path) -> None:
    """In a real Jupyter kernel, does the first check that uses Keras print nothing on
    stderr (no TensorFlow or CUDA start-up lines)?"""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from lstm_lib.checks import keras_allowed\n"
            "if keras_allowed():\n"
            "    import keras\n"
            "    print(keras.layers.LSTM(3)(keras.Input((2, 4))).shape)"
        )
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    outputs = notebook.cells[0].outputs
    assert [o.get("name") for o in outputs] == ["stdout"], outputs
    assert "(None, 3)" in outputs[0]["text"]


@pytest.mark.parametrize(
    ("kind", "answer", "expected"),
    [
        ("value", {"units": float("nan")}, {"units": 8}),
        ("array", np.array([[0.5, float("inf")]]), [[0.5, 0.5]]),
        (
            "model",
            [{"class_name": "Dense", "config": {"units": 2, "bias_constraint": float("nan")}}],
            {"output_shape": [None, 2], "params": 8},
        ),
    ],
)
def test_an_answer_holding_nan_is_told_what_the_grader_tells_it(
    kind: str, answer: Any, expected: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NaN or an infinity cannot cross the wire, so the grader reads no answer: does a
    practice check whose form check let it through say the grader's words, on one ✘ line,
    instead of stopping on a ValueError traceback?"""
    with pytest.raises(ValueError) as refused:
        answers.parse_answer_json(answers.answer_json(answer))
    told = checks.reveal("q1", answer, expected, kind=kind, context={"input_shape": [None, 3]})
    assert told is not None and not told.correct
    assert told.message == verdicts.unreadable_answer(refused.value).message
    assert f"✘ q1: {told.message}" in capsys.readouterr().out
