"""The names a check cell's own imports bind, bound again while grading.

In a practice run a check cell runs ``import keras`` or ``import numpy as np``, and a
learner's later cells may use those names without importing them: the notebook runs whole
on the learner's machine. Grading runs a hand-over in place of each check cell, so such a
notebook lost its later answers to a ``NameError``. The hand-over therefore binds each
name its check cell imports, unless the learner's namespace already holds it:

* a module of the standard library or one the kernel already imported, or a name from
  one (``from lstm_lib.designs import find_design``), at once;
* any other module, or a name from one, deferred: a stand-in that imports it the first
  time the learner's code uses it (an attribute, a call), so grading pays for TensorFlow
  only where a learner's own cell uses Keras.

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
    ``try``, ``with``, ``match`` and loops too), in order, the last binding of a name winning.

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
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a cell that cannot run
        return []
    found: dict[str, Binding] = {}

    def bind(name: str, module: str, attribute: str | None) -> None:
        # a later binding of a name moves it to the end, as the later import runs last
        found.pop(name, None)
        found[name] = (name, module, attribute)

    def visit(statements: list[ast.stmt] | list[ast.excepthandler] | list[ast.match_case]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bind(alias.asname, alias.name, None)
                    else:
                        top = alias.name.partition(".")[0]
                        bind(top, top, None)
            elif isinstance(node, ast.ImportFrom):
                if node.level or not node.module:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        bind(alias.asname or alias.name, node.module, alias.name)
            elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for field in ("body", "orelse", "handlers", "finalbody", "cases"):
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
    import types

    class Deferred(types.ModuleType):
        """Stands for a module or a name from one until first used: then it imports it,
        takes its place in the namespace and hands the use on. It is never put in
        ``sys.modules``, where whatever scans the modules (``inspect.getmodule``, which
        IPython's traceback calls) would load it."""

        def __init__(self, binding: "Binding") -> None:  # noqa: UP037
            name, module_name, attribute = binding
            super().__init__(module_name if attribute is None else f"{module_name}.{attribute}")
            self.__dict__["_binding"] = binding

        def _resolve(self) -> object:
            name, module_name, attribute = self.__dict__["_binding"]
            value = importlib.import_module(module_name)
            if attribute is not None:
                value = getattr(value, attribute)
            if namespace.get(name) is self:
                namespace[name] = value
            return value

        def __getattr__(self, attribute: str) -> object:
            return getattr(self._resolve(), attribute)

        def __call__(self, *args: object, **kwargs: object) -> object:
            return self._resolve()(*args, **kwargs)

        def __dir__(self) -> "list[str]":  # noqa: UP037
            return dir(self._resolve())

    for name, module_name, attribute in bindings:
        if name in namespace:
            continue
        try:
            top = module_name.partition(".")[0]
            module = sys.modules.get(module_name)
            if module is None and top in sys.stdlib_module_names:
                module = importlib.import_module(module_name)
            if module is not None:
                namespace[name] = module if attribute is None else getattr(module, attribute)
            elif importlib.util.find_spec(top) is not None:  # a package's own: never imported
                namespace[name] = Deferred((name, module_name, attribute))
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
