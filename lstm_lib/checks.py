"""The notebook side of the answer checks: what runs in a learner's (or instructor's) kernel.

The exercises use the checks in two places, with the same code:

* in the learner's kernel, where a question's check cell checks the *form* of an answer
  (:func:`expect_shape`, :func:`expect_int`, ...) and, where Keras may run, compares the
  prediction with the value Keras computes live (:func:`reveal`, :func:`reveal_layer`);
* in the grader's own process, outside the learner's kernel, where
  :func:`~lstm_lib.verdicts.verdict` compares the answer the kernel handed over as
  plain data (:mod:`lstm_lib.answers`) with the recorded reference.

This module holds the kernel side: :func:`reveal` (which also records reference values
when :data:`RECORD_ENV` is set), :func:`grade_answer` and :func:`keras_allowed`. It
re-exports, unchanged, the names a notebook imports from here: the form checks,
:class:`AnswerError`, :class:`Verdict` and :func:`verdict` from :mod:`lstm_lib.verdicts`,
and the wire format (:func:`to_plain`, :func:`from_plain`, :func:`parse_answer_json`,
:func:`answer_json`) from :mod:`lstm_lib.answers`.

Nothing here imports TensorFlow or matplotlib, nor NumPy until an answer needs it, so
grading stays fast. Expected values never live in this module: they are recorded from
Keras next to the instructor's material and passed in.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lstm_lib import verdicts
from lstm_lib.answers import (
    _numpy_if_imported,
    answer_json,
    from_plain,
    parse_answer_json,
    to_plain,
)
from lstm_lib.sealed import read_sealed, unseal
from lstm_lib.verdicts import (
    ARRAY_ATOL,
    ARRAY_RTOL,
    KINDS,
    AnswerError,
    Verdict,
    verdict,
)

__all__ = [
    "ARRAY_ATOL",
    "ARRAY_RTOL",
    "CHECK_MODES",
    "KINDS",
    "RECORD_ENV",
    "AnswerError",
    "AuthoringError",
    "FEEDBACK_FILE",
    "MEASURES",
    "Verdict",
    "answer_json",
    "answer_name",
    "check_mode",
    "expect_array",
    "expect_choice",
    "expect_int",
    "expect_layer_spec",
    "expect_layer_specs",
    "expect_shape",
    "expect_shapes",
    "expect_value",
    "feedback_messages",
    "from_plain",
    "grade_answer",
    "keras_allowed",
    "parse_answer_json",
    "reveal",
    "reveal_layer",
    "say_what_to_run",
    "show_answer",
    "to_plain",
    "use_mode",
    "verdict",
]

#: How a notebook's checks behave. ``"practice"``: a check says right or wrong and names
#: the mistake, and shows the Keras value only on request (:func:`show_answer`) after an
#: attempt. ``"graded"``: a check tests the answer's form only; the value and its
#: explanation come back in the feedback after grading. The instructor chooses when
#: generating the student version, whose setup cell calls :func:`use_mode`.
CHECK_MODES = ("practice", "graded")

# This kernel's check mode and the last Keras value each question's check computed.
_session: dict[str, Any] = {"mode": "practice", "attempts": {}}

_GRADED_NOTE = (
    "Whether it is right is graded after you submit; the Keras value and its "
    "explanation come back with your feedback."
)


def use_mode(mode: str) -> None:
    """Set how this notebook's checks behave: ``"practice"`` or ``"graded"``.

    The setup cell of a generated student version calls it with the mode the instructor
    chose (see :data:`CHECK_MODES`). Grading never depends on it. In an IPython kernel it
    also makes a check cell that reads an answer not yet set (``expect_int(answer_q4)``
    before its answer cell ran) say so in one line, as :func:`reveal_layer` does, instead
    of showing a ``NameError`` traceback (see :func:`_show_missing_answers_plainly`).

    Examples
    --------
    >>> use_mode("practice")
    >>> check_mode()
    'practice'
    """
    if mode not in CHECK_MODES:
        raise ValueError(f"mode must be one of {CHECK_MODES}, not {mode!r}")
    _session["mode"] = mode
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        _show_missing_answers_plainly(shell)


#: The names answers are written to (:func:`answer_name`): ``answer_q4``, ``answer_q5_h``.
_ANSWER_NAME = re.compile(r"answer_(q[0-9]+)(_[a-z0-9]+)?")


def _another_answer(key: str, name: str) -> bool:
    """Whether ``key`` is the name of another answer than ``name``, never a misspelling of
    it: another question's (answer_q3, set before answer_q4), or another part of the same
    question's (answer_q5_h beside answer_q5_c). A question's bare name (answer_q5) is one
    way to miss its parts' names (answer_q5_h, answer_q5_c)."""
    other, target = _ANSWER_NAME.fullmatch(key), _ANSWER_NAME.fullmatch(name)
    if other is None:
        return False
    if target is None or other.group(1) != target.group(1):
        return True
    return other.group(2) is not None


def _missing_answer_message(name: str, namespace: Mapping[str, Any] | None = None) -> str:
    """What a check says when the answer it reads, ``name``, is not set yet.

    A name in ``namespace`` that looks like it (``answer_4``, ``Answer_q4``) is named too:
    a learner who set it believes the answer is given.

    Examples
    --------
    >>> print(_missing_answer_message("answer_q4"))  # doctest: +NORMALIZE_WHITESPACE
    answer_q4 is not defined: set it in its answer cell (in place of
    `raise NotImplementedError()`) and run that cell first.
    >>> print(_missing_answer_message("answer_q4", {"answer_4": 128}))
    ... # doctest: +NORMALIZE_WHITESPACE
    answer_q4 is not defined: your cells set answer_4, but the check reads answer_q4.
    """
    spelt_otherwise = [
        key
        for key in namespace or {}
        if key.lower().startswith("ans") and not _another_answer(key, name)
    ]
    near = difflib.get_close_matches(name, spelt_otherwise, n=1, cutoff=0.8)
    if near:
        return f"{name} is not defined: your cells set {near[0]}, but the check reads {name}."
    return (
        f"{name} is not defined: set it in its answer cell (in place of "
        "`raise NotImplementedError()`) and run that cell first."
    )


#: The prefix of the copies a question's data cell keeps for its check (``given_q6``).
_GIVEN_PREFIX = "given_"


#: The modules whose names a notebook's setup cell imports (``expect_int``,
#: ``reveal_layer``, ``model_reference``): unbound until that cell has run.
_SETUP_MODULES = ("lstm_lib.checks", "lstm_lib.model_verdicts")


def _setup_binds(name: str) -> bool:
    """Whether ``name`` is one a notebook's setup cell imports from the course's checks."""
    # imported here only for a NameError: model_verdicts reads NumPy, which a check spares
    return any(name in importlib.import_module(module).__all__ for module in _SETUP_MODULES)


def _not_defined_message(name: str, namespace: Mapping[str, Any]) -> str | None:
    """What to do about a check's ``NameError`` on ``name``, if it is a name the course
    asks the learner to set (an answer) or to run a cell for (a data cell's copies, the
    setup cell's checks).

    Examples
    --------
    >>> print(_not_defined_message("expect_int", {}))  # doctest: +NORMALIZE_WHITESPACE
    expect_int is not defined: run the setup cell first (the locked cell near the top that
    runs `from lstm_lib.checks import ...`), then this check again.
    >>> _not_defined_message("my_helper", {}) is None
    True
    """
    if name.startswith(answer_name("")):
        return _missing_answer_message(name, namespace)
    if _setup_binds(name):
        # after a kernel restart a check run first meets its checks unbound
        return (
            f"{name} is not defined: run the setup cell first (the locked cell near the top "
            "that runs `from lstm_lib.checks import ...`), then this check again."
        )
    if name.startswith(_GIVEN_PREFIX):
        return (
            f"{name} is not defined: run this question's data cell (the locked cell that "
            "sets its inputs, above the question) first, then this check again."
        )
    return None


def _show_missing_answers_plainly(shell: Any) -> None:
    """Make ``shell`` show a ``NameError`` on an answer's name as one line saying what to do.

    Most check cells read their answer directly (``expect_int(answer_q4)``), so in an
    untouched notebook, or one whose answer cell failed, Python raises ``NameError``
    before any course code runs, and a learner saw a traceback through the check cell's
    hidden source. The same holds for a data cell's copies (``given_q6``) after a restart
    that skipped the data cell, and for the checks themselves (``expect_int``) after a
    restart that skipped the setup cell (:func:`say_what_to_run`). Only those names are
    shown this way; any other error keeps IPython's own traceback. The error itself is
    unchanged: the cell still fails, so nbgrader's Validate still reports the missing
    answer.

    IPython keeps one handler for custom exceptions, and the notebook's host may hold it
    already: Colab's adds a note on how to install a package under a failed import. That
    handler keeps the errors it was given (and a ``NameError`` this one does not word); a
    second call, as from a setup cell run again, puts this one in place once, not over
    itself.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The kernel's shell (``get_ipython()``).
    """

    def show(
        shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
    ) -> list[str] | None:
        name = getattr(value, "name", None)
        is_name_error = isinstance(value, NameError)
        told = _not_defined_message(name, shell.user_ns) if is_name_error and name else None
        if told:
            # IPython's hook for how an exception is displayed, as AnswerError uses it
            value._render_traceback_ = lambda: [  # type: ignore[attr-defined]
                f"\x1b[31mAnswerError\x1b[0m: {told}"
            ]
        elif kept_types and issubclass(etype, kept_types):
            return kept_handler(etype, value, tb, tb_offset=tb_offset)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None

    ours = getattr(shell, _HOOK_KEPT, None)
    if ours is not None and shell.custom_exceptions is ours[0]:
        # in place already: the handler it keeps is the host's, not an earlier copy of it
        kept_types, kept_handler = ours[1], ours[2]
    else:
        kept_types, kept_handler = tuple(shell.custom_exceptions), shell.CustomTB
    shell.set_custom_exc((NameError, *kept_types), show)
    setattr(shell, _HOOK_KEPT, (shell.custom_exceptions, kept_types, kept_handler))


#: Where :func:`_show_missing_answers_plainly` notes, on the shell, the exceptions it
#: handles and the handler (with its exceptions) that was in place before it.
_HOOK_KEPT = "_lstm_lib_kept_custom_exc"


def say_what_to_run() -> None:
    """Make a check run out of order say in one line which cell to run first.

    A check cell's first line calls it. After a kernel restart, a check run before the
    setup cell met its checks unbound (``expect_int``) and showed a ``NameError``
    traceback a learner cannot read; the setup cell's own hook (:func:`use_mode`) was not
    in place yet. This puts that hook in place, in an IPython kernel, so the check's
    ``NameError`` on a checks' name, an answer or a data cell's copy (``given_q6``) reads
    as one line saying which cell to run; the error itself, and so nbgrader's Validate,
    is unchanged. Elsewhere it does nothing.

    Examples
    --------
    >>> say_what_to_run()  # outside IPython: nothing to do
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        _show_missing_answers_plainly(shell)


def check_mode() -> str:
    """This notebook's check mode (see :func:`use_mode`)."""
    return str(_session["mode"])


def _interactive() -> bool:
    """Whether a learner runs the notebook (not nbgrader validating or grading it)."""
    return not os.environ.get("NBGRADER_EXECUTION")


def _form_check(
    check: Callable[..., None], what: str | Callable[..., str], kind: str
) -> Callable[..., None]:
    """A form check that judges the answer as the grader reads it (an answer the wire
    format refuses is told what the grader tells it) and, in graded mode, also tells the
    learner what it did and did not check.

    ``what`` names the form checked, in words ("a plain int"), or is a function of the
    check's arguments that names it, for a check whose form depends on them (a value
    question's example: a dict, a string).
    """

    @functools.wraps(check)
    def checked(value: Any, *args: Any, **kwargs: Any) -> None:
        # a value question's message reads its example, the one argument of its check
        example = kwargs.get("example", args[0] if args else None) if kind == "value" else None
        check(_as_the_grader_reads(kind, value, example), *args, **kwargs)
        if check_mode() == "graded" and _interactive():
            said = what(value, *args, **kwargs) if callable(what) else what
            print(f"✔ The form is right ({said}). {_GRADED_NOTE}")

    return checked


def _as_the_grader_reads(kind: str, value: Any, expected: Any = None) -> Any:
    """The answer as the grader reads it, or the grader's message for one it cannot read.

    The grader judges what the wire format hands it: the same data, but a float32 array
    as float64 (whose repr, quoted in a message, differs), and no answer holding what no
    answer carries (a ``TensorShape``, a NumPy int inside a tuple, a Keras layer in a
    model's list, a ``range``), which it gets as a refused object and tells what to write
    instead (``tuple(...)``, ``int(...)``, ``keras.layers.serialize``). Judged as written,
    such answers read one message in the notebook and another in the feedback.

    Raises
    ------
    AnswerError
        With the grader's message, for an answer the wire format refuses.
    """
    record = to_plain(value)
    if record["t"] != "unsupported":
        read = from_plain(record)
        _session["read"] = (value, read, _running_cell())
        return read
    # a choice's expected value is always a string, which the message may use (an exception
    # class written where its name belongs); a value question's check gives an example of
    # its type; no other kind's message reads it
    if kind == "choice":
        expected = ""
    raise AnswerError(verdict(kind, from_plain(record), expected).message)


#: How many cells the kernel has started running, counted by an IPython ``pre_run_cell``
#: hook, and the shells that hook is registered with. The execution count would not do:
#: a cell run without storing history (a silent request) does not advance it.
_cell_clock: dict[str, Any] = {"started": 0, "shells": set()}


def _cell_started(*_info: Any) -> None:
    _cell_clock["started"] += 1


def _running_cell() -> int | None:
    """A number that tells the cell the kernel is running from every other, or None
    outside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    if id(shell) not in _cell_clock["shells"]:
        shell.events.register("pre_run_cell", _cell_started)
        _cell_clock["shells"].add(id(shell))
    return int(_cell_clock["started"])


def _read_for_verdict(prediction: Any) -> Any:
    """The answer as the grader reads it, for :func:`reveal`'s verdict.

    A check cell's form check has just read the same object (``expect_int(answer_q3)``,
    then ``reveal("q3", answer_q3, ...)``): that reading is reused, since the wire format's
    conversion walks the whole answer and a model's list or an array is not small. Only
    within one cell: a later cell may have changed the object (``answer_q7.append(...)``)
    since, and outside IPython no cell tells two runs apart, so there it is read again.
    """
    cached = _session.get("read")
    running = _running_cell()
    if cached is not None and running is not None:
        value, read, cell = cached
        if value is prediction and cell == running:
            return read
    # the grader judges what the wire format hands it, which refuses what is no plain data
    # (a function as an activation, a layer object): judge that here too, so the notebook
    # never tells a learner "it does not build" where the grader says "write plain data"
    return from_plain(to_plain(prediction))


def _wire_refusal(prediction: Any) -> ValueError | None:
    """Why the grader cannot read ``prediction`` from the text a kernel hands over, in its
    words (the JSON text's ``NaN`` is refused before any record is), or None."""
    try:
        parse_answer_json(answer_json(prediction))
    except ValueError as exc:
        return exc
    return None


def _value_form_said(value: Any, example: Any) -> str:
    """The form a value question's check checks, in words, after the type of its example."""
    return {dict: "a dict", str: "a string"}.get(type(example), "the asked type")


expect_value = _form_check(verdicts.expect_value, _value_form_said, "value")


#: What the form check of each kind of answer checks, as a check cell in graded mode says it.
_FORM_SAID = {
    "int": "a plain int",
    "shape": "a shape",
    "shapes": "a list of shapes",
    "array": "a NumPy array",
    "model": "a list of layer dicts",
}

#: The form check of each kind of answer that has one, as a check cell runs it (in graded
#: mode it says what it checked): the grader's own silent checks, each wrapped once here,
#: so a kind's check is written once, in :mod:`lstm_lib.verdicts`, and a new kind adds
#: here only what its check says.
_FORM_CHECKS = {
    kind: _form_check(check, _FORM_SAID[kind], kind)
    for kind, check in verdicts._FORM_CHECKS.items()
}

_expect_array = _FORM_CHECKS["array"]


@functools.wraps(verdicts.expect_array)
def expect_array(value: Any, shape: tuple[int, ...] | None = None) -> None:
    if shape is not None and _verdict_follows():
        # the verdict, as the grader gives it, names the slip behind a wrong shape (h at
        # every timestep, a flattened table); "should have shape (1, 2)" named none, and
        # told the learner one thing where the feedback tells another
        shape = None
    _expect_array(value, shape)


def _verdict_follows() -> bool:
    """Whether the check cell goes on to judge the answer against Keras (practice mode,
    with Keras): otherwise its form check is all the learner is told before grading."""
    return check_mode() == "practice" and keras_allowed()


expect_choice = _form_check(verdicts.expect_choice, "one of the options", "choice")
expect_int = _FORM_CHECKS["int"]
expect_layer_spec = _form_check(verdicts.expect_layer_spec, "a layer dict", "layer_shapes")
expect_layer_specs = _FORM_CHECKS["model"]
expect_shape = _FORM_CHECKS["shape"]
expect_shapes = _FORM_CHECKS["shapes"]

#: When set to a file path, :func:`reveal` appends what Keras computed to that file
#: instead of judging the prediction: this is how reference values are recorded.
RECORD_ENV = "LSTM_COURSE_RECORD"


def keras_allowed() -> bool:
    """Whether a check's Keras part should run: Keras is installed, the notebook is in
    practice mode, and nbgrader is not executing it.

    nbgrader sets ``NBGRADER_EXECUTION`` when it autogrades or validates a notebook;
    grading must never pay for importing TensorFlow. Without Keras, a check still checks
    the answer's form and says nothing more, instead of failing on the import. In graded
    mode (:func:`use_mode`) a check never shows what Keras computes.

    When it returns True, Keras is already imported, without the start-up log lines
    TensorFlow's C++ runtime writes (CUDA probing, CPU features), so the check cell's
    own ``import keras`` prints nothing a learner could take for an error.

    Examples
    --------
    >>> isinstance(keras_allowed(), bool)
    True
    """
    if not _interactive() or check_mode() == "graded":
        return False
    if importlib.util.find_spec("keras") is None:
        return False
    _import_keras_quietly()
    _drop_retracing_warnings()
    return True


class _RetracingWarnings(logging.Filter):
    """Drops TensorFlow's warning that a ``tf.function`` was traced again."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "tf.function retracing" not in record.getMessage()


def _drop_retracing_warnings() -> None:
    """Keep TensorFlow's retracing warning out of the learner's notebook.

    A check builds its model anew each time it runs, and one that calls ``predict`` or
    ``fit`` (09's q3, q4 and q8) makes TensorFlow trace a new function each time: a
    learner who ran such a check a few times read "WARNING:tensorflow:5 out of the last 9
    calls to <function ...> triggered tf.function retracing", ten lines about their code
    that are about the check's. Every other TensorFlow message stays.
    """
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(existing, _RetracingWarnings) for existing in logger.filters):
        logger.addFilter(_RetracingWarnings())


def _import_keras_quietly() -> None:
    if "keras" in sys.modules:
        return
    # TensorFlow's C++ logging reads this once, at import; an explicit setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Some lines (CUDA stubs) are written to file descriptor 2 before that logging is set
    # up; Jupyter forwards that descriptor into the notebook, so hide it for the import.
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


#: The file, beside an assignment's notebook, that holds its feedback text:
#: ``{question: {name: message}}``. A name is a mistake's name (see :func:`reveal`) or, for
#: a multiple-choice question, an option (the right one's text is the reason it is right).
#: It stays out of the student version and of grading (``CourseDirectory.ignore`` in
#: ``nbgrader_config.py``): the recorded references carry its texts.
FEEDBACK_FILE = "feedback.json"

#: What :func:`reveal_layer` can measure, and the checker each is compared with.
MEASURES = {
    "params": "int",
    "output_shape": "shape",
    "output_shapes": "shapes",
    "weight_shapes": "shapes",
}


class AuthoringError(RuntimeError):
    """A question's own material is inconsistent (for example a mistake with no text)."""


def feedback_messages(question: str, folder: str | None = None) -> dict[str, str]:
    """The feedback text written for ``question``, by mistake name or wrong option.

    Parameters
    ----------
    question : str
        The question id, e.g. ``"q3"``.
    folder : str, optional
        Where :data:`FEEDBACK_FILE` is (default: the working folder, which is the
        notebook's folder in Jupyter and when references are recorded).

    Returns
    -------
    dict
        ``{name: message}``; empty when the file or the question is absent.
    """
    path = os.path.join(folder or os.getcwd(), FEEDBACK_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle).get(question, {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in entries.items()} if isinstance(entries, dict) else {}


def _named_mistakes(
    question: str,
    kind: str,
    context: dict[str, Any],
    mistakes: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    recording: bool,
    actual: Any = None,
) -> list[dict[str, Any]]:
    """Resolve named mistakes (and a choice question's options) to their text: each wrong
    option's to ``why_not``, the right one's (``actual``) to ``why``."""
    messages = feedback_messages(question)
    if kind == "choice" and "options" in context and "why_not" not in context:
        context["why_not"] = {
            o: messages[o] for o in context["options"] if o in messages and o != actual
        }
        if isinstance(actual, str) and actual in messages and "why" not in context:
            context["why"] = messages[actual]
    if not isinstance(mistakes, Mapping):
        return [dict(m) for m in mistakes]
    resolved = []
    for name, value in mistakes.items():
        if name in messages:
            resolved.append({"value": value, "message": messages[name]})
        elif recording:
            raise AuthoringError(
                f"{question}: the mistake {name!r} has no text in {FEEDBACK_FILE} "
                f"(add it under {question!r})"
            )
    return resolved


def reveal(
    question: str,
    prediction: Any,
    actual: Any,
    *,
    kind: str,
    context: Mapping[str, Any] | None = None,
    mistakes: Sequence[Mapping[str, Any]] | Mapping[str, Any] = (),
) -> Verdict | None:
    """Compare a prediction with the value Keras just computed, and print the verdict.

    Used by a question's check after the learner has written a prediction.
    When the environment variable :data:`RECORD_ENV` names a file, nothing is judged:
    the Keras value, the kind, the context and the mistakes are recorded there as the
    question's reference (this is how ``references/*.json`` is made).

    Parameters
    ----------
    question : str
        The question id, e.g. ``"q3"``.
    prediction : Any
        The learner's answer.
    actual : Any
        What Keras produced, as plain Python data (a shape tuple, an int, an array...).
    kind : str
        As for :func:`verdict`.
    context : mapping, optional
        As for :func:`verdict`. A Keras layer in ``context["layer"]`` is stored as its
        spec; ``timesteps`` and ``features`` are derived from ``input_shape``
        ``(batch, timesteps, features)`` when not given. For a ``"choice"`` question
        without ``why_not``, the wrong options' explanations come from
        :data:`FEEDBACK_FILE`, and the right option's entry there, if any, becomes
        ``why``, the reason given with the right answer after grading.
    mistakes : mapping or sequence of mappings, optional
        Classic wrong answers: ``{name: value}``, whose text is the question's entry
        ``name`` in :data:`FEEDBACK_FILE` (so the text stays out of the notebook), or
        ``[{"value": ..., "message": ...}]``.

    Returns
    -------
    Verdict or None
        None when recording.

    Raises
    ------
    AuthoringError
        When recording, if a named mistake has no text in :data:`FEEDBACK_FILE`.
    """
    record_path = os.environ.get(RECORD_ENV)
    context = _plain_context(context or {})
    resolved = _named_mistakes(question, kind, context, mistakes, bool(record_path), actual)
    if record_path:
        _append_record(record_path, question, kind, actual, context, resolved)
        return None
    if check_mode() == "graded":
        print(f"✔ {question}: your answer is recorded. {_GRADED_NOTE}")
        return None
    try:
        prediction = _read_for_verdict(prediction)
    except ValueError:  # a NaN or an infinity, which the grader cannot read either
        result = verdicts.unreadable_answer(_wire_refusal(prediction))
    else:
        # a student version carries its explanations sealed under the answers they explain,
        # opened where the grader would name them, and told as the grader tells them
        sealed = read_sealed()
        result = verdict(
            kind,
            prediction,
            actual,
            context,
            resolved,
            explain=(lambda answer: unseal(sealed, question, answer, kind)) if sealed else None,
        )
    _session["attempts"][question] = {"actual": actual, "kind": kind, "context": context}
    mark = "✔" if result.correct else "✘"
    print(f"{mark} {question}: {result.message}")
    if not result.correct:
        print(f"  To see what Keras computes, run show_answer({question!r}).")
    return dataclasses.replace(result, printed=True)


def show_answer(question: str) -> None:
    """Print what Keras computed for ``question``, after its check has judged an attempt.

    In practice mode the check cell names a mistake without giving the value away; this
    reveals it, on request, once the learner has tried. In graded mode it says where the
    value will come from.

    Parameters
    ----------
    question : str
        The question id, e.g. ``"q3"``.
    """
    if check_mode() == "graded":
        print(
            f"{question}: this notebook is graded; the Keras value comes back with your feedback."
        )
        return
    attempt = _session["attempts"].get(question)
    if attempt is None:
        print(
            f"{question}: write your prediction in {answer_name(question)} and run its check "
            f"first; then show_answer({question!r}) shows what Keras computes."
        )
        return
    print(f"{question}: Keras says {_show(attempt['actual'])}")
    explanation = _explanation(attempt["kind"], attempt["actual"], attempt["context"])
    if explanation:
        print(f"  {explanation}")


def _explanation(kind: str, expected: Any, context: Mapping[str, Any]) -> str | None:
    from lstm_lib.explanations import explain_answer  # a sibling module, NumPy only

    try:
        return explain_answer(kind, _jsonable(expected), _jsonable(dict(context)))
    except Exception:  # an explanation is a courtesy: never let it break the check
        return None


def _measure(layer: Any, outputs: Any, ask: str) -> Any:
    if ask == "params":
        return int(layer.count_params())
    if ask == "weight_shapes":
        return [tuple(weight.shape) for weight in layer.weights]
    tensors = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    if ask == "output_shape":
        if len(tensors) != 1:
            raise AuthoringError(
                f"the layer returns {len(tensors)} tensors: ask for 'output_shapes'"
            )
        return tuple(tensors[0].shape)
    return [tuple(tensor.shape) for tensor in tensors]


def reveal_layer(
    question: str,
    build: Any,
    input_shape: Sequence[int | None],
    *,
    ask: str,
    variants: Mapping[str, Any] | None = None,
    mistakes: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Verdict | None:
    """Check the form of a layer question's answer, then compare it with Keras.

    The common question's whole check, in one call. The answer is the notebook's variable
    named after the question (``answer_q3``, :func:`answer_name`); its form is checked for
    what ``ask`` measures (an int, a shape, a list of shapes) always, so nbgrader's
    Validate reports a missing or malformed answer. Then, unless nbgrader is executing the
    notebook (:func:`keras_allowed`, so grading never imports TensorFlow), the layer is
    built on the input in Keras, measured, and the prediction revealed against it.

    Parameters
    ----------
    question : str
        The question id, e.g. ``"q3"``.
    build : callable
        ``build(keras.layers)`` returns the layer, e.g. ``lambda layers: layers.GRU(8)``.
    input_shape : tuple
        ``(batch, timesteps, features)`` (or ``(batch, features)``), batch usually ``None``.
    ask : str
        What to measure, one of :data:`MEASURES`: ``"params"`` (``count_params()``),
        ``"output_shape"`` (one returned tensor), ``"output_shapes"`` (every returned
        tensor, in order) or ``"weight_shapes"`` (the layer's weights, in order).
    variants : mapping, optional
        ``{name: build}``: layers a learner confuses this one with; each is measured the
        same way, and its value is the mistake ``name`` (its text in
        :data:`FEEDBACK_FILE`).
    mistakes : mapping, optional
        More named classic wrong answers, ``{name: value}``.
    context : mapping, optional
        More context for the verdict (the layer and the input shape are added).

    Returns
    -------
    Verdict or None
        None when recording, or when Keras must not run.
    """
    if ask not in MEASURES:
        raise AuthoringError(f"ask must be one of {sorted(MEASURES)}, not {ask!r}")
    name = answer_name(question)
    namespace = sys._getframe(1).f_globals
    if name not in namespace:
        raise AnswerError(_missing_answer_message(name, namespace))
    prediction = namespace[name]
    _FORM_CHECKS[MEASURES[ask]](prediction)
    if not keras_allowed():
        return None
    import keras

    inputs = keras.Input(batch_shape=tuple(input_shape))

    def measured(builder: Any) -> tuple[Any, Any]:
        layer = builder(keras.layers)
        return layer, _measure(layer, layer(inputs), ask)

    layer, actual = measured(build)
    named = {name: measured(builder)[1] for name, builder in (variants or {}).items()}
    named.update(mistakes or {})
    return reveal(
        question,
        prediction,
        actual,
        kind=MEASURES[ask],
        context={"layer": layer, "input_shape": tuple(input_shape), **(context or {})},
        mistakes=named,
    )


def _show(value: Any) -> str:
    numpy = _numpy_if_imported()
    if numpy is not None and isinstance(value, numpy.ndarray):
        return numpy.array2string(value, precision=6)
    return repr(value)


def _plain_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as plain data, with what the input shape already says filled in."""
    plain = dict(context)
    layer = plain.get("layer")
    if layer is not None and not isinstance(layer, dict):
        from lstm_lib import shapes

        plain["layer"] = shapes.layer_spec(layer)
    shape = plain.get("input_shape")
    if shape is not None:
        plain["input_shape"] = list(shape)
        layer_class = (plain.get("layer") or {}).get("class_name")
        # An Embedding reads token ids, (batch, timesteps): no axis of its input is features.
        # A 2-D input is (batch, features) only for a layer known to read vectors.
        if layer_class != "Embedding":
            if len(shape) == 3:
                plain.setdefault("timesteps", shape[1])
                plain.setdefault("features", shape[-1])
            elif len(shape) == 2 and layer_class is not None:
                plain.setdefault("features", shape[-1])
    return plain


def _jsonable(value: Any) -> Any:
    numpy = _numpy_if_imported()
    if numpy is not None and isinstance(value, numpy.ndarray | numpy.generic):
        return value.tolist() if isinstance(value, numpy.ndarray) else value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def _append_record(
    path: str,
    question: str,
    kind: str,
    actual: Any,
    context: Mapping[str, Any],
    mistakes: Sequence[Mapping[str, Any]],
) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        data = {"questions": {}}
    data["questions"][question] = {
        "kind": kind,
        "expected": _jsonable(actual),
        "context": _jsonable(dict(context)),
        "mistakes": _jsonable([dict(m) for m in mistakes]),
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")


#: Stands for "the answer named after the question" in :func:`grade_answer`.
_BY_NAME: Any = object()


def answer_name(question: str) -> str:
    """The variable a question's answer is written to.

    Examples
    --------
    >>> answer_name("q5_h")
    'answer_q5_h'
    """
    return f"answer_{question}"


def grade_answer(question: str, value: Any = _BY_NAME) -> None:
    """Judge an answer against its recorded reference, in an instructor's own kernel.

    This is the line a hidden test region holds: ``grade_answer("q3")`` grades the
    notebook's ``answer_q3``; ``grade_answer("q3", expression)`` grades any other
    expression. The course's grader never runs it in a
    learner's kernel: it reads the line as a declaration and judges the answer in its
    own process. Run directly (``nbgrader validate`` on a notebook in ``solutions/``),
    it looks for ``references/<assignment>.json`` above the working folder, where
    ``<assignment>`` is the folder's name, and judges the answer as the grader reads it
    from the wire format (:mod:`lstm_lib.answers`).

    Raises
    ------
    AnswerError
        If the answer is wrong, or no reference can be found.
    """
    if os.environ.get(RECORD_ENV):
        return  # the references are being recorded: there is nothing to compare with yet
    if value is _BY_NAME:
        name = answer_name(question)
        namespace = sys._getframe(1).f_globals
        if name not in namespace:
            raise AnswerError(f"{question}: {name} is not defined; run its answer cell first.")
        value = namespace[name]
    here = os.path.abspath(os.getcwd())
    assignment = os.path.basename(here)
    folder = here
    while True:
        candidate = os.path.join(folder, "references", f"{assignment}.json")
        if os.path.exists(candidate):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            raise AnswerError("reference values are only available to the grader")
        folder = parent
    with open(candidate, encoding="utf-8") as handle:
        entry = json.load(handle)["questions"][question]
    # judged as the grader reads it from the wire: a NumPy int in a layer's config, which
    # the grader refuses, passed here as written, so a solution validated that the grader fails
    result = verdict(
        entry["kind"],
        from_plain(to_plain(value)),
        entry["expected"],
        entry.get("context"),
        entry.get("mistakes", ()),
    )
    if not result.correct:
        raise AnswerError(f"{question}: {result.message}")
