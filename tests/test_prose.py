"""Does lstm_lib.prose set values as the book's prose shows them?"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lstm_lib.prose import code_span, inline_code

TEXT = st.text(alphabet=st.sampled_from("ab `()"), min_size=1, max_size=12).filter(
    lambda text: text.strip(" ") == text and text.strip()
)


@given(TEXT)
def test_a_code_span_renders_as_exactly_its_text(text: str) -> None:
    """Does CommonMark read back one code span holding the text, backticks and all?"""
    rendered = MarkdownIt("commonmark").renderInline(code_span(text))
    found = re.fullmatch(r"<code>(.*)</code>", rendered, re.S)
    assert found, rendered
    assert found.group(1).replace("&quot;", '"') == text


def test_a_shape_is_written_as_python_prints_it() -> None:
    assert inline_code((None, 5, 4)).data == "`(None, 5, 4)`"
    assert inline_code([(3, 8), (2, 8)]).data == "`[(3, 8), (2, 8)]`"
