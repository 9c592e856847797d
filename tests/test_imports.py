"""Is importing lstm_lib cheap and free of side effects, and is its public API documented?

A grading kernel imports ``lstm_lib.checks`` for every notebook it runs, so importing it must
never load TensorFlow, Keras or matplotlib. Each import is tried in a fresh interpreter
(``sys.modules`` of this test process already holds whatever other tests imported), in an
empty working folder that is listed afterwards.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("tensorflow", "keras", "matplotlib")
#: Modules that may import Keras when imported: ``explain(model)`` works on a Keras model.
KERAS_MODULES = ("lstm_lib.explaining",)
#: Every other module of the package, found by walking it, so a new module is held to the
#: rule without anyone remembering to list it.
LIGHT_MODULES = ["lstm_lib"] + sorted(
    info.name
    for info in pkgutil.walk_packages([str(ROOT / "lstm_lib")], prefix="lstm_lib.")
    if info.name not in KERAS_MODULES
)
PUBLIC_MODULES = [*LIGHT_MODULES, *KERAS_MODULES]

PROBE = """
import json, os, sys
{statements}
print(json.dumps({{
    "heavy": sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r}),
    "cwd": sorted(os.listdir(".")),
    "result": result,
}}))
"""


def run_fresh(statements: str, cwd: Path) -> dict:
    """Run statements (which set ``result``) in a new interpreter; return what it saw."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "MPLBACKEND")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    code = PROBE.format(statements=statements, heavy=HEAVY)
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_import_is_light_and_has_no_side_effects(module: str, tmp_path: Path) -> None:
    """Does importing the module load neither TensorFlow, Keras nor matplotlib, and leave
    the working folder as empty as it found it?"""
    seen = run_fresh(f"import {module}\nresult = None", tmp_path)
    assert seen["heavy"] == [], f"import {module} loaded {seen['heavy']}"
    assert seen["cwd"] == [], f"import {module} created {seen['cwd']} in the working folder"
    assert list(tmp_path.iterdir()) == []


def test_submodules_are_lazy_attributes(tmp_path: Path) -> None:
    """Does ``import lstm_lib`` load no submodule, yet reach each one as an attribute,
    with ``explain`` a plain function and an unknown name an AttributeError?"""
    statements = """
import inspect
import lstm_lib
before = sorted(m for m in sys.modules if m.startswith("lstm_lib."))
kinds = {name: type(getattr(lstm_lib, name)).__name__
         for name in ("answers", "verdicts", "checks", "shapes", "reference", "plots")}
try:
    lstm_lib.no_such_name
    unknown = "no error"
except AttributeError:
    unknown = "AttributeError"
result = {
    "before": before,
    "kinds": kinds,
    "same": lstm_lib.checks is sys.modules["lstm_lib.checks"],
    "explain": inspect.isfunction(lstm_lib.explain),
    "unknown": unknown,
    "all": sorted(lstm_lib.__all__),
}
"""
    seen = run_fresh(statements, tmp_path)["result"]
    assert seen["before"] == [], f"import lstm_lib eagerly loaded {seen['before']}"
    assert set(seen["kinds"].values()) == {"module"}
    assert seen["same"] is True
    assert seen["explain"] is True
    assert seen["unknown"] == "AttributeError"
    assert seen["all"] == [
        "answers",
        "checks",
        "explain",
        "plots",
        "reference",
        "shapes",
        "verdicts",
    ]


def test_a_notebook_without_arrays_never_imports_numpy(tmp_path: Path) -> None:
    """Does a grading kernel's work on a notebook without arrays (importing the checks,
    the form checks, encoding answers for the grader) leave NumPy unimported, while an
    array answer is still encoded and decoded as one?"""
    statements = """
from lstm_lib.checks import (answer_json, expect_choice, expect_int, expect_layer_specs,
                             expect_shape, expect_shapes, parse_answer_json)
expect_shape((None, 8, 16)); expect_shapes([(None, 16), (None, 16)]); expect_int(132)
expect_choice("h-c", ["output-h", "h-c"])
expect_layer_specs([{"class_name": "LSTM", "config": {"units": 8}}])
text = answer_json({"q1": (None, 16), "q2": [(None, 8, 16)], "q5": "h-c"})
without = "numpy" in sys.modules
import numpy as np
array = parse_answer_json(answer_json(np.arange(6.0).reshape(2, 3)))
result = {"numpy_before_arrays": without, "array": [type(array).__name__, list(array.shape)]}
"""
    seen = run_fresh(statements, tmp_path)["result"]
    assert seen == {"numpy_before_arrays": False, "array": ["ndarray", [2, 3]]}


def test_plots_imports_matplotlib_only_when_drawing(tmp_path: Path) -> None:
    """Is matplotlib left for the first figure: absent after the import, present after a
    call, and TensorFlow never?"""
    statements = """
import lstm_lib.plots as plots
after_import = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")
import matplotlib
matplotlib.use("Agg")
plots.unrolled_rnn(2)
result = {"after_import": after_import,
          "tf": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))}
"""
    seen = run_fresh(statements, tmp_path)["result"]
    assert seen["after_import"] == []
    assert seen["tf"] == []


def public_callables() -> list[tuple[str, str]]:
    """(module, name) for every public callable: ``__all__``, or what the module defines."""
    found = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                name
                for name, obj in vars(module).items()
                if not name.startswith("_") and getattr(obj, "__module__", None) == module_name
            ]
        for name in names:
            obj = getattr(module, name)
            if callable(obj) and not inspect.ismodule(obj):
                found.append((module_name, name))
    return found


@pytest.mark.parametrize(("module_name", "name"), public_callables())
def test_public_callables_have_docstrings(module_name: str, name: str) -> None:
    """Does every public function and class say, in its own docstring, what it is for?"""
    obj = getattr(importlib.import_module(module_name), name)
    doc = obj.__doc__
    if inspect.isclass(obj) and doc == inspect.getdoc(obj.__mro__[1]):
        doc = None  # inherited from the base class, not written for this one
    assert doc and doc.strip(), f"{module_name}.{name} has no docstring"
    assert len(doc.strip().splitlines()[0]) > 10, f"{module_name}.{name}: a one-word docstring"


def test_every_module_has_a_docstring() -> None:
    """Does each module open with a docstring, as pooch's modules do?"""
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert module.__doc__ and module.__doc__.strip(), module_name
