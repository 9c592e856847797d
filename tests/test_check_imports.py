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
        ("match mode:\n    case 'fast':\n        import json as codec", [("codec", "json", None)]),
        (
            "import numpy as np\nimport math\nimport numpy as np",
            [("math", "math", None), ("np", "numpy", None)],
        ),
        ("x = (", []),
        ("", []),
    ],
)
def test_what_each_import_binds(source: str, expected: list) -> None:
    """Does a dotted import bind its package, an alias its module, an import inside a
    ``match`` case count, the last import of a name win (and move to the end), and source
    that does not parse (a magic) bind nothing?"""
    assert imported_names(source) == expected


PROBE = """
import inspect, json, sys, traceback
namespace = {"mine": "kept", "np": "the learner's own"}
exec(%r, namespace)
try:  # IPython's traceback scans sys.modules (inspect.getmodule): that must load nothing
    raise ValueError("a learner's error")
except ValueError:
    traceback.format_exc()
    inspect.getmodule(compile("1", "<cell>", "eval"))
facts = {
    "bound": sorted(name for name in namespace if name != "__builtins__"),
    "np": namespace["np"],
    "tomllib": namespace["tomllib"] is sys.modules["tomllib"],
    "dumps": namespace["dumps"] is json.dumps,
    "ran_before_use": getattr(sys, "lazy_probe_ran", False),
    "listed_before_use": "lazy_probe" in sys.modules,
}
facts["value"] = namespace["lazy"].VALUE
facts["double"] = namespace["double"](21)
facts["ran_after_use"] = getattr(sys, "lazy_probe_ran", False)
facts["replaced"] = [type(namespace[name]).__name__ for name in ("lazy", "double")]
print(json.dumps(facts))
"""


def test_the_hand_over_binds_only_missing_names_and_loads_modules_when_used(
    tmp_path: Path,
) -> None:
    """In a namespace holding the learner's own names, does the hand-over's code leave
    those alone; bind the rest: a standard module or a name from one at once, another
    module or a name from one only when first used (an attribute, a call), then in its
    own place; skip what cannot be imported; load nothing when a traceback scans the
    modules; and leave no name of its own behind?"""
    (tmp_path / "lazy_probe.py").write_text(
        "import sys\nsys.lazy_probe_ran = True\nVALUE = 42\n\ndef double(x):\n    return 2 * x\n"
    )
    source = binding_source(
        [
            ("np", "numpy", None),
            ("tomllib", "tomllib", None),
            ("dumps", "json", "dumps"),
            ("lazy", "lazy_probe", None),
            ("double", "lazy_probe", "double"),
            ("missing", "no_such_module_anywhere", None),
            ("missing_too", "no_such_module_anywhere.part", "name"),
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
        "bound": ["double", "dumps", "lazy", "mine", "np", "tomllib"],
        "np": "the learner's own",
        "tomllib": True,
        "dumps": True,
        "ran_before_use": False,
        "listed_before_use": False,
        "value": 42,
        "double": 42,
        "ran_after_use": True,
        "replaced": ["module", "function"],
    }


def test_source_nested_past_the_parsers_depth_imports_nothing() -> None:
    """Is a cell the parser refuses for its depth read as importing nothing, not as an
    error of the grader?"""
    assert imported_names("x = a" + ".a" * 5000) == []
    assert imported_names("x = " + "-" * 20000 + "1") == []
