"""Values the book's chapters glue into their prose, written as the prose shows them.

A chapter computes a number or a shape and glues it into a sentence with myst-nb
(``glue(name, value)`` in a cell, ``{glue:md}`name``` in the text), so that nothing the
prose states is typed by hand. Shapes and formulas are set as inline code in the prose,
which a glued string cannot be; :func:`inline_code` makes the Markdown for them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.display import Markdown

__all__ = ["code_span", "inline_code"]


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds.

    The fence is one backtick longer than the longest run inside, with a space on each
    side where the text starts or ends with a backtick (CommonMark strips one).

    Examples
    --------
    >>> code_span("(None, 4)")
    '`(None, 4)`'
    >>> code_span("a``b")
    '```a``b```'
    >>> code_span("`x")
    '`` `x ``'
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def inline_code(value: object) -> Markdown:
    """``value`` as inline code, for myst-nb's ``{glue:md}`` role.

    Parameters
    ----------
    value : object
        What to show; its ``str``, e.g. a shape ``(None, 5, 4)`` or a formula.

    Returns
    -------
    IPython.display.Markdown
        One code span holding the text (see :func:`code_span`).

    Examples
    --------
    >>> inline_code((None, 4)).data
    '`(None, 4)`'
    """
    from IPython.display import Markdown

    return Markdown(code_span(str(value)))
