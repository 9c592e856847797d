"""Values the book's chapters glue into their prose, written as the prose shows them.

A chapter computes a number or a shape and glues it into a sentence with myst-nb
(``glue(name, value)`` in a cell, ``{glue:md}`name``` in the text), so that nothing the
prose states is typed by hand. Shapes and formulas are set as inline code in the prose,
which a glued string cannot be; :func:`inline_code` makes the Markdown for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.display import Markdown

__all__ = ["inline_code"]


def inline_code(value: object) -> Markdown:
    """``value`` as inline code, for myst-nb's ``{glue:md}`` role.

    Parameters
    ----------
    value : object
        What to show; its ``str``, e.g. a shape ``(None, 5, 4)`` or a formula.

    Returns
    -------
    IPython.display.Markdown
        The text between backticks (two where the text holds one).

    Examples
    --------
    >>> inline_code((None, 4)).data
    '`(None, 4)`'
    >>> inline_code("a`b").data
    '`` a`b ``'
    """
    from IPython.display import Markdown

    text = str(value)
    if "`" in text:
        return Markdown(f"`` {text} ``")
    return Markdown(f"`{text}`")
