"""The names a check cell's own imports bind, bound again while grading.

In a practice run a check cell runs ``import keras`` or ``import numpy as np``, and a
learner's later cells may use those names without importing them: the notebook runs whole
on the learner's machine. Grading runs a hand-over in place of each check cell, so such a
notebook lost its later answers to a ``NameError``. The hand-over therefore binds each
name its check cell imports, unless the learner's namespace already holds it:

* a module of the standard library, or one the kernel already imported, at once;
* any other module lazily (:class:`importlib.util.LazyLoader`): it is imported the first
  time the learner's code uses it, so grading pays for TensorFlow only where a learner's
  own cell uses Keras;
* a name from a module (``from lstm_lib.designs import find_design``) when that module is
  the course's own ``lstm_lib``, which imports no TensorFlow, or is already imported.

Nothing here can cost the learner a point: a binding that fails is left out, as if the
check cell's import had not run.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from typing import Any

__all__ = ["Binding", "bind_missing", "binding_source", "imported_names"]

#: ``(name, module, attribute)``: ``name`` is bound to ``module`` itself, or to its
#: ``attribute`` (a ``from ... import``).
Binding = tuple[str, str, str | None]

#: The name the hand-over gives :func:`bind_missing` in the kernel, deleted after the call.
_KERNEL_NAME = "_lstm_course_bind_missing"


def imported_names(source: str) -> list[Binding]:
    """What ``source``'s imports bind, outside function and class bodies (inside ``if``,
    ``try``, ``with`` and loops too), in order, the last binding of a name winning.

    Relative imports and ``*`` bind nothing here; source that does not parse binds nothing.

    Examples
    --------
    >>> imported_names("import numpy as np\\nif ok():\\n    import keras.layers\\n")
    [('np', 'numpy', None), ('keras', 'keras', None)]
    >>> imported_names("from lstm_lib.designs import find_design as find")
    [('find', 'lstm_lib.designs', 'find_design')]
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: dict[str, Binding] = {}

    def visit(statements: list[ast.stmt] | list[ast.excepthandler]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        found.pop(alias.asname, None)
                        found[alias.asname] = (alias.asname, alias.name, None)
                    else:
                        top = alias.name.partition(".")[0]
                        found.pop(top, None)
                        found[top] = (top, top, None)
            elif isinstance(node, ast.ImportFrom):
                if node.level or not node.module:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        name = alias.asname or alias.name
                        found.pop(name, None)
                        found[name] = (name, node.module, alias.name)
            elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for field in ("body", "orelse", "handlers", "finalbody"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit(inner)

    visit(tree.body)
    return list(found.values())


# the annotations are quoted: the kernel runs this source without this module's imports
def bind_missing(namespace: "dict[str, Any]", bindings: "list[Binding]") -> None:  # noqa: UP037
    """Bind in ``namespace`` each of ``bindings`` (:func:`imported_names`) it lacks.

    Runs in the grading kernel (its source is copied into the hand-over, so it uses only
    the standard library). A binding that cannot be made is left out.
    """
    import importlib
    import importlib.util
    import sys

    for name, module_name, attribute in bindings:
        if name in namespace:
            continue
        try:
            module = sys.modules.get(module_name)
            top = module_name.partition(".")[0]
            if attribute is not None:
                if module is None and top == "lstm_lib":
                    module = importlib.import_module(module_name)
                if module is not None and hasattr(module, attribute):
                    namespace[name] = getattr(module, attribute)
                continue
            if module is None and top in sys.stdlib_module_names:
                module = importlib.import_module(module_name)
            elif module is None and top == module_name:
                # a submodule's spec would import its package at once
                spec = importlib.util.find_spec(module_name)
                if spec is None or spec.loader is None:
                    continue
                loader = importlib.util.LazyLoader(spec.loader)
                spec.loader = loader
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                loader.exec_module(module)
            if module is not None:
                namespace[name] = module
        except Exception:  # the check cell's own import would have failed too
            continue


def binding_source(bindings: list[Binding]) -> str:
    """Python source, for a hand-over cell, that binds ``bindings`` the learner's namespace
    lacks (:func:`bind_missing`) and leaves no name of its own behind; ``""`` for none.

    Examples
    --------
    >>> binding_source([])
    ''
    >>> "('np', 'numpy', None)" in binding_source([("np", "numpy", None)])
    True
    """
    if not bindings:
        return ""
    return (
        f"{_kernel_source()}\n{_KERNEL_NAME}(globals(), {list(bindings)!r})\ndel {_KERNEL_NAME}\n"
    )


@functools.cache
def _kernel_source() -> str:
    # read once per process, not at every check cell
    source = textwrap.dedent(inspect.getsource(bind_missing))
    return source.replace("def bind_missing(", f"def {_KERNEL_NAME}(", 1)
