"""Does grading leave a learner the names a practice run's check cells imported?

The names are read from the check cell's source here, and bound by the hand-over's code in
a fresh interpreter, as the grading kernel runs it: lazily for a module not yet imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_grader.check_imports import binding_source, imported_names

CHECK_CELL = '''\
"""Is answer_q3 what LSTM(16, return_state=True) returns?"""
expect_shapes(answer_q3, 3)
if keras_allowed():
    import keras
    import numpy as np
    from lstm_lib.shapes import layer_spec
    try:
        import itertools as tools
    except ImportError:
        pass
    def helper():
        import json
    class Helper:
        import csv
    from . import relative
    from os import *
'''


def test_a_check_cells_imports_are_read_outside_functions_and_classes() -> None:
    """Are imports inside if and try blocks read, and those in function and class bodies,
    relative and star imports left out?"""
    assert imported_names(CHECK_CELL) == [
        ("keras", "keras", None),
        ("np", "numpy", None),
        ("layer_spec", "lstm_lib.shapes", "layer_spec"),
        ("tools", "itertools", None),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import keras.layers", [("keras", "keras", None)]),
        ("import keras.layers as kl", [("kl", "keras.layers", None)]),
        ("import numpy as np\nimport math as np", [("np", "math", None)]),
        ("%matplotlib inline\nimport keras", []),
        ("x = (", []),
        ("", []),
    ],
)
def test_what_each_import_binds(source: str, expected: list) -> None:
    """Does a dotted import bind its package, an alias its module, the last import of a
    name win, and source that does not parse (a magic) bind nothing?"""
    assert imported_names(source) == expected


PROBE = """
import json, sys
namespace = {"mine": "kept", "np": "the learner's own"}
exec(%r, namespace)
facts = {
    "bound": sorted(name for name in namespace if name != "__builtins__"),
    "np": namespace["np"],
    "tomllib": hasattr(namespace["tomllib"], "loads"),
    "layer_spec": callable(namespace["layer_spec"]),
    "ran_before_use": getattr(sys, "lazy_probe_ran", False),
}
facts["value"] = namespace["lazy"].VALUE
facts["ran_after_use"] = getattr(sys, "lazy_probe_ran", False)
print(json.dumps(facts))
"""


def test_the_hand_over_binds_only_missing_names_and_loads_modules_when_used(
    tmp_path: Path,
) -> None:
    """In a namespace holding the learner's own names, does the hand-over's code leave
    those alone; bind the rest: a standard module at once, another module only when it is
    first used, a name from lstm_lib; skip what cannot be imported, or would import a
    package at once; and leave no name of its own behind?"""
    (tmp_path / "lazy_probe.py").write_text("import sys\nsys.lazy_probe_ran = True\nVALUE = 42\n")
    source = binding_source(
        [
            ("np", "numpy", None),
            ("tomllib", "tomllib", None),
            ("lazy", "lazy_probe", None),
            ("layer_spec", "lstm_lib.shapes", "layer_spec"),
            ("missing", "no_such_module_anywhere", None),
            ("absent", "lstm_lib.shapes", "no_such_name"),
            ("layers", "keras", "layers"),
            ("keras_layers", "keras.layers", None),
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE % source],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "bound": ["layer_spec", "lazy", "mine", "np", "tomllib"],
        "np": "the learner's own",
        "tomllib": True,
        "layer_spec": True,
        "ran_before_use": False,
        "value": 42,
        "ran_after_use": True,
    }
