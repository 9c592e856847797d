"""The downloadable chapters' cells, turned from MyST into what JupyterLab 4 and Colab show."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import require_module
from hypothesis import given
from hypothesis import strategies as st

from lstm_grader.plain_markdown import plain_markdown, strip_glue

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("*.md"))

LINKS = {
    "lstm": ("Inside the LSTM", "https://course.test/book/04-lstm.html#lstm"),
    "fig-flags": ("Fig. 3", "https://course.test/book/05-return-flags.html#fig-flags"),
    "book/02-dense": ("Dense", "https://course.test/book/02-dense.html"),
}
GLUED = {"classic_params": "156", "test_accuracy": "0.953", "name": "LSTM"}
FILES = {
    "../README.md": "intro\n<!-- start -->\n## Included\n\nSee {ref}`lstm`.\n<!-- end -->\nrest\n",
}


def convert(text: str, glued: dict[str, str] | None = None) -> str:
    return plain_markdown(
        text,
        link_for=LINKS.get,
        glued=GLUED if glued is None else glued,
        include=FILES.__getitem__,
    )


# --- targets -------------------------------------------------------------------------------


def test_target_line_is_dropped() -> None:
    assert convert("(lstm)=\n# Inside the LSTM\n\nText.") == "# Inside the LSTM\n\nText."


def test_target_like_text_inside_a_line_is_kept() -> None:
    assert convert("Write (x)= to set x.") == "Write (x)= to set x."


# --- colon-fence directives ----------------------------------------------------------------


def test_admonition_with_title_becomes_a_titled_blockquote() -> None:
    text = ":::{admonition} Predict first\n:class: tip\nWhat shape?\n\nThen run it.\n:::"
    assert convert(text) == "> **Predict first**\n>\n> What shape?\n>\n> Then run it."


def test_every_option_form_after_the_opening_line_is_dropped() -> None:
    text = ":::{admonition} Title\n:class: tip\n:name: my-box\n:open:\nBody.\n:::"
    assert convert(text) == "> **Title**\n>\n> Body."


def test_admonition_body_roles_are_converted() -> None:
    text = ":::{admonition} See\nAs in {ref}`lstm`.\n:::"
    assert convert(text) == (
        "> **See**\n>\n> As in [Inside the LSTM](https://course.test/book/04-lstm.html#lstm)."
    )


def test_admonition_title_roles_are_converted_and_code_spans_kept() -> None:
    text = ":::{admonition} Why `h_t` has {glue:}`classic_params` numbers\nBody.\n:::"
    assert convert(text).splitlines()[0] == "> **Why `h_t` has 156 numbers**"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("note", "Note"),
        ("tip", "Tip"),
        ("warning", "Warning"),
        ("important", "Important"),
        ("caution", "Caution"),
        ("attention", "Attention"),
        ("danger", "Danger"),
        ("error", "Error"),
        ("hint", "Hint"),
    ],
)
def test_typed_admonition_is_titled_with_its_capitalised_name(name: str, title: str) -> None:
    assert convert(f":::{{{name}}}\nBody.\n:::") == f"> **{title}**\n>\n> Body."


def test_seealso_is_titled_as_sphinx_prints_it() -> None:
    assert convert(":::{seealso}\nBody.\n:::") == "> **See also**\n>\n> Body."


def test_typed_admonition_argument_joins_its_title() -> None:
    assert convert(":::{warning} Keras 2\nBody.\n:::") == "> **Warning: Keras 2**\n>\n> Body."


def test_dropdown_with_title_becomes_details() -> None:
    text = ":::{dropdown} Answer\nIndex **2**.\n:::"
    assert convert(text) == "<details>\n<summary>Answer</summary>\n\nIndex **2**.\n\n</details>"


def test_dropdown_without_title_is_summarised_as_show() -> None:
    assert convert(":::{dropdown}\nHidden.\n:::").startswith("<details>\n<summary>Show</summary>")


def test_dropdown_body_is_converted() -> None:
    out = convert(":::{dropdown} Answer\n(label)=\nSee {ref}`lstm`.\n:::")
    assert "(label)=" not in out
    assert "[Inside the LSTM](https://course.test/book/04-lstm.html#lstm)" in out


def test_unknown_directive_keeps_its_converted_body_as_plain_text() -> None:
    out = convert(":::{margin} Aside\n:class: x\nSee {ref}`lstm`.\n:::")
    assert out == "See [Inside the LSTM](https://course.test/book/04-lstm.html#lstm)."


def test_nested_colon_directives_become_nested_blockquotes() -> None:
    text = "::::{admonition} Outer\n:class: tip\nBefore.\n\n:::{note}\nInner.\n:::\n\nAfter.\n::::"
    assert convert(text) == (
        "> **Outer**\n>\n> Before.\n>\n> > **Note**\n> >\n> > Inner.\n>\n> After."
    )


def test_admonition_nested_in_a_dropdown_is_a_blockquote_inside_details() -> None:
    text = "::::{dropdown} Answer\n:::{tip}\nShort.\n:::\n::::"
    assert convert(text) == (
        "<details>\n<summary>Answer</summary>\n\n> **Tip**\n>\n> Short.\n\n</details>"
    )


def test_no_colon_fence_is_left_in_any_directive() -> None:
    text = ":::::{topic} T\n::::{sidebar}\n:::{figure-md}\nx\n:::\n::::\n:::::"
    assert ":::" not in convert(text)


def test_text_right_after_a_converted_directive_is_kept_out_of_it() -> None:
    # Without a blank line the paragraph would join the blockquote lazily.
    out = convert("Before.\n:::{note}\nBody.\n:::\nAfter.")
    assert out == "Before.\n\n> **Note**\n>\n> Body.\n\nAfter."


def test_directive_inside_a_list_item_keeps_its_indentation() -> None:
    out = convert("1. Item\n\n   :::{note}\n   Body.\n   :::\n")
    assert out == "1. Item\n\n   > **Note**\n   >\n   > Body.\n"


# --- backtick-fence directives -------------------------------------------------------------


def test_backtick_directive_is_converted_like_a_colon_one() -> None:
    assert convert("```{note}\n:class: x\nBody.\n```") == "> **Note**\n>\n> Body."


def test_include_with_markers_inserts_the_converted_cut() -> None:
    text = "```{include} ../README.md\n:start-after: <!-- start -->\n:end-before: <!-- end -->\n```"
    assert convert(text) == (
        "## Included\n\nSee [Inside the LSTM](https://course.test/book/04-lstm.html#lstm)."
    )


def test_include_with_a_missing_marker_fails() -> None:
    text = "```{include} ../README.md\n:start-after: <!-- nowhere -->\n```"
    with pytest.raises(ValueError, match="nowhere"):
        convert(text)


def test_code_block_directive_becomes_a_plain_fence_without_options() -> None:
    text = "```{code-block} python\n:linenos:\n:caption: ex\nx = {ref}`lstm`\n```"
    assert convert(text) == "```python\nx = {ref}`lstm`\n```"


def test_code_directive_becomes_a_plain_fence() -> None:
    assert convert("```{code} bash\nls\n```") == "```bash\nls\n```"


@pytest.mark.parametrize(
    ("fence", "close"), [("```", "```"), ("```python", "```"), ("~~~", "~~~"), ("````text", "````")]
)
def test_plain_code_fence_is_copied_verbatim(fence: str, close: str) -> None:
    text = f"{fence}\n(label)=\n:::{{note}}\nSee {{ref}}`lstm` and {{glue:}}`name`\n:::\n{close}"
    assert convert(text) == text


def test_math_directive_becomes_display_math() -> None:
    assert convert("```{math}\n:label: eq\nh_t = o_t\n```") == "$$\nh_t = o_t\n$$"


# --- roles ---------------------------------------------------------------------------------


def test_ref_with_explicit_text_links_that_text() -> None:
    assert convert("See {ref}`the LSTM chapter <lstm>`.") == (
        "See [the LSTM chapter](https://course.test/book/04-lstm.html#lstm)."
    )


def test_ref_with_a_label_only_links_the_target_title() -> None:
    assert convert("{ref}`lstm`") == "[Inside the LSTM](https://course.test/book/04-lstm.html#lstm)"


def test_numref_links_the_title() -> None:
    assert convert("In {numref}`fig-flags`,") == (
        "In [Fig. 3](https://course.test/book/05-return-flags.html#fig-flags),"
    )


@pytest.mark.parametrize("placeholder", ["%s", "{number}"])
def test_numref_placeholder_in_text_is_replaced_by_the_title(placeholder: str) -> None:
    assert convert(f"{{numref}}`See {placeholder} <fig-flags>`") == (
        "[See Fig. 3](https://course.test/book/05-return-flags.html#fig-flags)"
    )


def test_doc_role_links_the_document() -> None:
    assert convert("{doc}`book/02-dense` and {doc}`this <book/02-dense>`") == (
        "[Dense](https://course.test/book/02-dense.html) and "
        "[this](https://course.test/book/02-dense.html)"
    )


def test_unknown_label_becomes_its_plain_label() -> None:
    assert convert("See {ref}`nowhere`.") == "See nowhere."


def test_unknown_label_with_text_becomes_the_plain_text() -> None:
    assert convert("See {numref}`this figure <nowhere>`.") == "See this figure."


@pytest.mark.parametrize("role", ["glue:", "glue", "glue:any"])
def test_glue_roles_insert_the_glued_value(role: str) -> None:
    assert convert(f"It has {{{role}}}`classic_params` parameters.") == "It has 156 parameters."


def test_glue_text_applies_the_format_to_a_number() -> None:
    assert convert("Right on {glue:text}`test_accuracy:.1%` of them.") == "Right on 95.3% of them."


def test_glue_text_keeps_a_value_that_is_not_a_number() -> None:
    assert convert("{glue:text}`name:.1%`") == "LSTM"


def test_glue_text_shows_a_glued_string_without_its_quotes_as_myst_nb_does() -> None:
    """A str glued as itself has its repr as plain text: {glue:text} shows the string."""
    glued = {"shape": "'(batch, 3, 1)'", "said": '"the fifth review\'s verdict flips"'}
    text = "Shape {glue:text}`shape`; {glue:text}`said`."
    assert convert(text, glued) == "Shape (batch, 3, 1); the fifth review's verdict flips."


def test_glue_md_inserts_the_glued_markdown() -> None:
    """A value glued as Markdown (lstm_lib.prose.inline_code) is inserted as its Markdown."""
    from lstm_lib.prose import inline_code

    glued = {"shape": inline_code((None, 4)).data}
    assert convert("It returns {glue:md}`shape`.", glued) == "It returns `(None, 4)`."


def test_unknown_glue_name_becomes_inline_code() -> None:
    assert convert("It has {glue:}`missing` of them.") == "It has `missing` of them."


def test_math_role_becomes_dollar_math() -> None:
    assert convert("with {math}`h_t = o_t \\tanh(c_t)` as") == "with $h_t = o_t \\tanh(c_t)$ as"


def test_kbd_role_becomes_a_kbd_element() -> None:
    assert convert("Press {kbd}`Ctrl+C`.") == "Press <kbd>Ctrl+C</kbd>."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{term}`LSTM`", "LSTM"),
        ("{term}`cells <LSTM cell>`", "cells"),
        ("{abbr}`RNN (recurrent neural network)`", "RNN (recurrent neural network)"),
        ("{index}`gate`", "gate"),
    ],
)
def test_other_roles_become_their_text(text: str, expected: str) -> None:
    assert convert(text) == expected


@pytest.mark.parametrize(
    "text", ["Write `` {ref}`lstm` `` for a link.", "Write `{glue:}` then a name."]
)
def test_role_inside_an_inline_code_span_is_left_alone(text: str) -> None:
    assert convert(text) == text


def test_role_after_a_code_span_spanning_lines_is_still_converted() -> None:
    text = "A `code\nspan` then {ref}`lstm`."
    assert convert(text) == (
        "A `code\nspan` then [Inside the LSTM](https://course.test/book/04-lstm.html#lstm)."
    )


def test_unmatched_backtick_leaves_the_rest_of_the_line_converted() -> None:
    assert convert("a `` b {glue:}`name`") == "a `` b LSTM"


# --- everything else -----------------------------------------------------------------------


def test_plain_markdown_passes_through_byte_for_byte() -> None:
    text = (
        "# Title\n\n- a *list*\n  1. nested\n\n$$\nW_{i} x_t + b\n$$\n\n| a | b |\n|---|---|\n"
        "| 1 | 2 |\n\n[link](https://x.test) ![img](a.png) <b>html</b>\r\nline\r\n\n> quote\n"
    )
    assert convert(text) == text


_PLAIN_LINE = st.text(
    alphabet=st.sampled_from(list("abz 019#*-_>|$~`:()=[]!<>\\.,\t\r\"'")), max_size=30
).filter(lambda line: not re.fullmatch(r"[ \t]*\(.*\)=[ \t\r]*", line))


@given(st.lists(_PLAIN_LINE, max_size=12))
def test_text_without_myst_syntax_is_unchanged(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert convert(text) == text


# --- strip_glue ----------------------------------------------------------------------------


def test_strip_glue_removes_the_import_and_keeps_other_lines_byte_identical() -> None:
    source = "import numpy as np  # arrays\nfrom myst_nb import glue\n\nx = np.ones(3)  # three"
    assert strip_glue(source) == "import numpy as np  # arrays\n\nx = np.ones(3)  # three"


@pytest.mark.parametrize(
    "line", ["import myst_nb", "from myst_nb.ext.glue import glue", "import myst_nb as nb"]
)
def test_strip_glue_removes_every_form_of_myst_nb_import(line: str) -> None:
    assert strip_glue(f"{line}\nx = 1") == "x = 1"


def test_strip_glue_removes_a_multi_line_glue_call() -> None:
    source = 'x = 1\nglue(\n    "x",\n    x,\n    display=False,\n)\nprint(x)'
    assert strip_glue(source) == "x = 1\nprint(x)"


def test_strip_glue_removes_module_attribute_glue_calls() -> None:
    assert strip_glue('import myst_nb\nmyst_nb.glue("x", 1)\ny = 2') == "y = 2"


def test_strip_glue_on_a_cell_of_only_glue_lines_returns_empty() -> None:
    assert strip_glue('from myst_nb import glue\n\nglue("a", 1)\nglue("b", 2)\n') == ""


def test_strip_glue_collapses_the_blank_lines_left_behind() -> None:
    assert strip_glue('a = 1\n\nglue("a", a)\n\nb = 2') == "a = 1\n\nb = 2"


def test_strip_glue_strips_blank_lines_the_removal_left_at_the_ends() -> None:
    assert strip_glue('glue("a", 1)\n\na = 1\n\nglue("b", 2)') == "a = 1"


def test_strip_glue_keeps_blank_lines_it_did_not_touch() -> None:
    source = '\n\na = 1\n\n\nb = 2\nglue("b", b)\n'
    assert strip_glue(source) == "\n\na = 1\n\n\nb = 2\n"


def test_strip_glue_keeps_a_cell_without_glue_unchanged() -> None:
    source = "# glue( in a comment\nx = 'myst_nb'\n\n\nprint(x)\n"
    assert strip_glue(source) == source


def test_strip_glue_returns_unparsable_source_unchanged() -> None:
    source = 'from myst_nb import glue\ndef broken(:\nglue("a", 1)'
    assert strip_glue(source) == source


def test_strip_glue_leaves_pass_in_a_block_it_empties() -> None:
    out = strip_glue('if True:\n    glue("a", 1)\nx = 2')
    assert out == "if True:\n    pass\nx = 2"
    ast.parse(out)


def test_strip_glue_keeps_a_statement_sharing_the_line() -> None:
    out = strip_glue('x = 1; glue("x", x)')
    assert out == "x = 1; pass"


def test_strip_glue_keeps_other_modules_of_a_mixed_import() -> None:
    assert strip_glue("import os, myst_nb\nprint(os.sep)") == "import os\nprint(os.sep)"


def test_strip_glue_handles_a_cell_with_ipython_magics() -> None:
    source = '%matplotlib inline\nfrom myst_nb import glue\nglue("a", 1)\nx = 1'
    assert strip_glue(source) == "%matplotlib inline\nx = 1"


def test_strip_glue_keeps_an_assignment_from_glue() -> None:
    # Only expression statements go: an assignment is not the book's use and is left to fail.
    source = 'value = glue("a", 1)'
    assert strip_glue(source) == source


# --- the real chapters ---------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)


def _outside_code(markdown: str) -> str:
    kept, fence = [], None
    for line in markdown.split("\n"):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening[1]
        elif fence is not None:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = None
        else:
            kept.append(line)
    return _CODE_SPAN.sub("", "\n".join(kept))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_chapter_cells_are_left_without_myst_syntax(chapter: Path) -> None:
    jupytext = require_module("jupytext")
    notebook = jupytext.read(chapter)
    glued = {
        "classic_params": "156",
        "gru_bias_gap": "12",
        "first_good_epoch": "3",
        "test_accuracy": "0.953",
    }
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            out = plain_markdown(
                cell.source,
                link_for=lambda label: (label, "https://example.test/" + label),
                glued=glued,
                include=lambda path: (BOOK / path).read_text(encoding="utf-8"),
            )
            prose = _outside_code(out)
            for syntax in (":::", "{ref}", "{numref}", "{glue", "{doc}", "{include}"):
                assert syntax not in prose, f"{syntax} left in:\n{out}"
            assert not re.search(r"^[ \t]*\([^()\s]+\)=[ \t]*$", prose, re.MULTILINE), out
            assert not re.search(r"\{[\w:+.-]+\}`", prose), out
        elif cell.cell_type == "code":
            out = strip_glue(cell.source)
            ast.parse(out)
            assert "myst_nb" not in out
            assert "glue(" not in out
