"""Check cells whose names a learner's later cell uses, run again while grading.

In a practice run a check cell builds what it compares with (``model = ...``,
``layer = ...``), and a learner's later cell may use it (``answer_q3 =
model.count_params()``): the notebook runs whole on the learner's machine. Grading runs a
hand-over in place of each check cell, so such an answer was lost to a ``NameError``.

:func:`cells_to_replay` finds, without running anything, each check cell that last
bound a name some later learner's cell reads, and the hand-over of such a cell first runs
the check cell's visible code as a practice run would (:func:`replay_source`): Keras is
then imported in the kernel, which only a learner's reliance on it pays for. Whatever the
replay prints is replaced by the verdicts, and an error in it is swallowed (the answers
are judged by the grader, from the hand-over, whatever the replay did): it can cost no
point and earn none that the learner's own Keras calls could not.
"""

from __future__ import annotations

import ast
import re
import warnings

__all__ = ["assigned_names", "cells_to_replay", "replay_source"]

#: Lines IPython reads as magics or shell commands, which Python cannot parse. The indent
#: is spaces and tabs only: ``\s*`` would run across newlines, and a learner's cell of
#: blank lines would then take the grader time that grows with the square of its length.
_MAGIC_LINE = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)

#: How many characters of learner code :func:`cells_to_replay` parses in a notebook. Python's
#: syntax tree takes about a kilobyte per character of a cell such as ``a\na\n...``, in the
#: grader's own process: a learner's cells past this budget are not parsed but taken to read
#: every name, so each check cell before them is replayed (which costs time, never a point).
MAX_ANALYSED_CHARS = 100_000


def _parsed(source: str) -> ast.Module | None:
    """The cell's syntax tree, or None for a cell that cannot run: a learner's cell may be
    nested past the parser's depth (``1+1+...`` 20,000 terms long, or, before Python
    3.13, ``a.a.a...`` 5,000 deep), which it refuses with a RecursionError or a
    MemoryError, as it would refuse to run the cell. What the parser
    warns of (an invalid escape, on Python 3.12 and later a warning per line and per
    parse) is the learner's to see in their own run, never the grading log's."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(_MAGIC_LINE.sub("", source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def assigned_names(source: str) -> set[str]:
    """The names ``source`` binds at its top level, inside ``if``, ``for``, ``with`` and
    ``try`` blocks too (not in function and class bodies), imports left out.

    Examples
    --------
    >>> cell = "import keras\\nif ok():\\n    model, n = build(), 3\\ndef f(): y = 1"
    >>> sorted(assigned_names(cell))
    ['f', 'model', 'n']
    """
    tree = _parsed(source)
    if tree is None:
        return set()
    found: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        pending.extend(
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.Lambda | ast.comprehension)
        )
    return found


def _names(node: ast.AST | None, context: type) -> set[str]:
    """The names ``node`` reads (``ast.Load``) or binds (``ast.Store``), anywhere in it."""
    if node is None:
        return set()
    return {
        found.id
        for found in ast.walk(node)
        if isinstance(found, ast.Name) and isinstance(found.ctx, context)
    }


def _steps(body: list[ast.stmt]) -> list[tuple[set[str], set[str]]]:
    """``(names read, names bound)`` for each step of ``body``, in the order they run: a
    compound statement's header, then each statement of its blocks."""
    steps: list[tuple[set[str], set[str]]] = []
    for node in body:
        if isinstance(node, ast.If | ast.While):
            steps.append((_names(node.test, ast.Load), set()))
            steps += _steps(node.body) + _steps(node.orelse)
        elif isinstance(node, ast.For | ast.AsyncFor):
            steps.append((_names(node.iter, ast.Load), _names(node.target, ast.Store)))
            steps += _steps(node.body) + _steps(node.orelse)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                steps.append(
                    (_names(item.context_expr, ast.Load), _names(item.optional_vars, ast.Store))
                )
            steps += _steps(node.body)
        elif isinstance(node, ast.Try | ast.TryStar):
            steps += _steps(node.body)
            for handler in node.handlers:
                steps.append((_names(handler.type, ast.Load), {handler.name} - {None}))
                steps += _steps(handler.body)
            steps += _steps(node.orelse) + _steps(node.finalbody)
        else:
            bound = _names(node, ast.Store)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound = {node.name}
            elif isinstance(node, ast.Import | ast.ImportFrom):
                bound = {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
            steps.append((_names(node, ast.Load), bound))
    return steps


def cells_to_replay(cells: list[tuple[bool, str]]) -> set[int]:
    """The indexes of the check cells to run again while grading.

    Parameters
    ----------
    cells : list of (bool, str)
        A notebook's code cells in order: whether each is a check cell, and its source
        (a check cell's visible part).

    Returns
    -------
    set of int
        Each check cell that last bound a name (imports aside) some later cell that is
        no check cell reads, before that cell or an earlier one bound it again. The
        steps of a cell are followed in order (a statement reading a name it binds itself
        counts as reading the earlier one): running a check cell again costs time, never
        a point. The learner's cells past :data:`MAX_ANALYSED_CHARS` in all are not
        parsed, and read every name.

    Examples
    --------
    >>> cells_to_replay([
    ...     (True, "model = build()"),
    ...     (False, "answer_q2 = model.count_params()"),
    ...     (True, "layer = build()"),
    ...     (False, "layer = mine()\\nanswer_q3 = layer.units"),
    ... ])
    {0}
    """
    bound_by: dict[str, int | None] = {}
    replay: set[int] = set()
    budget = MAX_ANALYSED_CHARS
    for index, (is_check, source) in enumerate(cells):
        if is_check:
            for name in assigned_names(source):
                bound_by[name] = index
            continue
        budget -= len(source)
        if budget < 0:
            replay.update(check for check in bound_by.values() if check is not None)
            continue
        tree = _parsed(source)
        for reads, binds in _steps(tree.body) if tree is not None else []:
            for name in reads:
                if (check := bound_by.get(name)) is not None:
                    replay.add(check)
            for name in binds:
                bound_by[name] = None
    return replay


def replay_source(visible: str) -> str:
    """Python source, for a hand-over cell, that runs a check cell's visible code as a
    practice run would (the kernel then may use Keras), swallowing its errors, and leaves
    no name of its own behind.

    Examples
    --------
    >>> "exec(compile('model = 1', " in replay_source("model = 1")
    True
    """
    return "\n".join(
        [
            "def _lstm_course_replay(namespace):",
            "    import os",
            "    grading = os.environ.pop('NBGRADER_EXECUTION', None)",
            "    try:",
            f"        exec(compile({visible!r}, '<check cell, run again>', 'exec'), namespace)",
            "    except Exception:",
            "        pass",
            "    finally:",
            "        if grading is not None:",
            "            os.environ['NBGRADER_EXECUTION'] = grading",
            "_lstm_course_replay(globals())",
            "del _lstm_course_replay",
        ]
    )
