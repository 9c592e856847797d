"""Do verdicts stay readable and honest whatever a learner's answer holds?"""

from __future__ import annotations

import json

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from lstm_lib import verdicts
from lstm_lib.judging import MAX_MESSAGE_CHARS, Verdict, printable


@given(st.text())
def test_every_message_is_printable_and_bounded(text: str) -> None:
    """Whatever a message quotes, is each character of it printable (no control character,
    line break or bidirectional override) and the whole within the length cap?"""
    message = Verdict(False, text).message
    assert message.isprintable()
    assert len(message) <= MAX_MESSAGE_CHARS + 50


@given(st.text())
def test_printable_text_is_kept_as_written(text: str) -> None:
    """Is text that is already printable (Greek letters, ×, dashes) left as it is, and is
    making text printable done once for all (a message quoted twice is not escaped twice)?"""
    if text.isprintable():
        assert printable(text) == text
    assert printable(printable(text)) == printable(text)


def test_a_class_name_that_imitates_a_verdict_is_shown_escaped() -> None:
    """05 q7 with a class name holding a right-to-left override, a line break and a
    terminal colour code, written to look like a second, green "Correct" line: is it shown
    escaped, on one line?"""
    question = json.loads((ROOT / "references" / "05-return-flags.json").read_text())["questions"][
        "q7"
    ]
    answer = {"class_name": "\u202eMTSL\n\x1b[32mCorrect: all right", "config": {"units": 4}}
    result = verdicts.verdict(question["kind"], answer, question["expected"], question["context"])
    assert not result.correct
    assert "\\u202eMTSL\\n\\x1b[32mCorrect" in result.message, result.message
    assert result.message.isprintable()
