"""Does lstm_lib.prose set values as the book's prose shows them?"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lstm_lib.prose import inline_code


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1))
def test_inline_code_is_one_code_span_holding_the_text(text: str) -> None:
    """Is any text set between backticks, two where it holds one, and nothing lost?"""
    markdown = inline_code(text).data
    if "`" in text:
        assert markdown == f"`` {text} ``"
    else:
        assert markdown == f"`{text}`"


def test_a_shape_is_written_as_python_prints_it() -> None:
    assert inline_code((None, 5, 4)).data == "`(None, 5, 4)`"
    assert inline_code([(3, 8), (2, 8)]).data == "`[(3, 8), (2, 8)]`"
