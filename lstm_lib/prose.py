"""Values the book's chapters glue into their prose, written as the prose shows them.

A chapter computes a number or a shape and glues it into a sentence with myst-nb
(``glue(name, value)`` in a cell, ``{glue:md}`name``` in the text), so that nothing the
prose states is typed by hand. Shapes and formulas are set as inline code in the prose,
which a glued string cannot be; :func:`inline_code` makes the Markdown for them.
:func:`spoken_list` writes several items as a sentence lists them ("0, 1 and 2"), for the
prose and for the messages a learner reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.display import Markdown

__all__ = ["code_span", "inline_code", "spoken_list"]


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


def spoken_list(items: Iterable[object]) -> str:
    """``items`` as a sentence lists them: commas, and "and" before the last.

    Parameters
    ----------
    items : iterable
        What to list, each shown as its ``str``, in the order given.

    Returns
    -------
    str
        ``"a, b and c"``; one item alone, and an empty string for none.

    Examples
    --------
    >>> spoken_list([0, 1, 2])
    '0, 1 and 2'
    >>> spoken_list(["units"])
    'units'
    >>> spoken_list([])
    ''
    """
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
