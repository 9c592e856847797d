"""Does lstm_lib.prose set values as the book's prose shows them?"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lstm_lib.prose import code_span, inline_code, spoken_list

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


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=4), max_size=6))
def test_a_spoken_list_names_every_item_in_order_with_and_before_the_last(
    items: list[str],
) -> None:
    """Does the list read back as its items, commas between them and "and" before the
    last (none for one item, nothing for none)?"""
    spoken = spoken_list(items)
    if len(items) <= 1:
        assert spoken == "".join(items)
        return
    head, last = spoken.rsplit(" and ", 1)
    assert head.split(", ") + [last] == items
