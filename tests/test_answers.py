"""Does the answer wire format let only exact plain data cross from a kernel to the grader?

``lstm_lib.answers`` is the grading trust boundary: a learner's kernel encodes its answer
with ``answer_json`` (``to_plain``), and the grader decodes it with ``parse_answer_json``
(``from_plain``) in its own process. These tests ask whether anything that is not exact
plain data can get through: look-alikes, NaN, malformed or forged records. The grader loads
a private copy of ``lstm_lib/answers.py`` alone into the learner's kernel, so the module must
import nothing from ``lstm_lib``. No test here imports TensorFlow.
"""

from __future__ import annotations

import ast
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstm_lib import answers, verdicts
from lstm_lib.answers import from_plain, parse_answer_json, to_plain

# Bounded on purpose: these run in the quick suite (make check).
PROPERTY = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


# --- strategies -----------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=8)
float_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements={"allow_nan": False, "allow_infinity": False},
)
plain_values = st.recursive(
    scalars | float_arrays,
    lambda inner: (
        st.tuples(inner, inner)
        | st.lists(inner, max_size=4).map(tuple)
        | st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def same_plain(a: Any, b: Any) -> bool:
    """Equal with exact types: True is not 1, (1,) is not [1], arrays compare by value."""
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return a.shape == b.shape and bool(np.array_equal(a, b))
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(same_plain(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_plain(a[k], b[k]) for k in a)
    return a == b


def as_decoded(value: Any) -> Any:
    """What from_plain gives back for a value: arrays come back as float64, and an int
    past 64 bits as the first int past them, of its sign."""
    if type(value) is np.ndarray:
        return value.astype(np.float64)
    if type(value) is int and abs(value) > 2**63 - 1:
        return 2**63 if value > 0 else -(2**63)
    if type(value) in (tuple, list):
        return type(value)(as_decoded(item) for item in value)
    if type(value) is dict:
        return {key: as_decoded(item) for key, item in value.items()}
    return value


# --- look-alikes ----------------------------------------------------------------------


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class SneakyInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class SneakyTuple(tuple):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = tuple.__hash__


class SneakyList(list):
    pass


class SneakyDict(dict):
    pass


class SneakyStr(str):
    pass


class SneakyFloat(float):
    pass


class SneakyArray(np.ndarray):
    pass


LOOK_ALIKES = {
    "always-equal object": AlwaysEqual(),
    "int subclass": SneakyInt(32),
    "tuple subclass": SneakyTuple((None, 32)),
    "list subclass": SneakyList([1, 2]),
    "dict subclass": SneakyDict(a=1),
    "str subclass": SneakyStr("b"),
    "float subclass": SneakyFloat(1.0),
    "ndarray subclass": np.zeros(2).view(SneakyArray),
    "masked array": np.ma.masked_array([1.0, 2.0]),
    "numpy int64": np.int64(32),
    "numpy float32": np.float32(1.0),
    "numpy bool": np.bool_(True),
    "object array": np.array([1, "a"], dtype=object),
    "string array": np.array(["a"]),
    "complex array": np.zeros(2, dtype=complex),
    "dict with int keys": {1: 2},
    "set": {1, 2},
    "bytes": b"32",
    "inside a tuple": (None, np.int64(32)),
    "inside a dict": {"units": SneakyInt(8)},
}


# ===================================================================== plain data


class TestPlainData:
    @PROPERTY
    @given(plain_values)
    def test_round_trip(self, value: Any) -> None:
        """Does every accepted value survive to_plain / from_plain with its exact types?"""
        assert same_plain(from_plain(to_plain(value)), as_decoded(value))

    @PROPERTY
    @given(plain_values)
    def test_round_trip_through_json(self, value: Any) -> None:
        """Does it also survive the JSON text the grader reads from the notebook?"""
        text = json.dumps(to_plain(value), allow_nan=False)
        assert same_plain(parse_answer_json(text), as_decoded(value))

    def test_an_int_too_long_to_print_still_reaches_the_grader_as_oversized(self) -> None:
        """Does an int of more than 4,300 digits, which Python refuses to write as JSON,
        reach the grader as an oversized int (told so, never "no answer")?"""
        from lstm_lib.answers import answer_json
        from lstm_lib.judging import OVERSIZED_INT_MESSAGE
        from lstm_lib.verdicts import verdict

        for huge in (10**5000, -(10**5000)):
            decoded = parse_answer_json(answer_json(huge))
            assert decoded == (2**63 if huge > 0 else -(2**63))
            assert verdict("int", decoded, 24).message == OVERSIZED_INT_MESSAGE

    def test_examples_of_each_type(self) -> None:
        """Do the documented encodings hold, e.g. (None, 32) as a tagged tuple?"""
        assert to_plain((None, 32)) == {
            "t": "tuple",
            "v": [{"t": "none"}, {"t": "int", "v": 32}],
        }
        assert to_plain(True) == {"t": "bool", "v": True}
        assert to_plain(1.5) == {"t": "float", "v": 1.5}
        assert to_plain([1]) == {"t": "list", "v": [{"t": "int", "v": 1}]}
        encoded = to_plain(np.arange(6, dtype=np.float32).reshape(2, 3))
        assert encoded["t"] == "ndarray" and encoded["shape"] == [2, 3]
        assert encoded["dtype"] == "float32"

    def test_int_arrays_come_back_as_floats(self) -> None:
        """Does an int array decode to the same numbers, as a float array?"""
        decoded = from_plain(to_plain(np.array([[1, 2], [3, 4]])))
        assert decoded.dtype == np.float64
        np.testing.assert_array_equal(decoded, [[1.0, 2.0], [3.0, 4.0]])

    @pytest.mark.parametrize("name", sorted(LOOK_ALIKES))
    def test_look_alikes_are_refused(self, name: str) -> None:
        """Does an answer that only looks plain become 'unsupported', never itself?"""
        encoded = to_plain(LOOK_ALIKES[name])
        assert encoded["t"] == "unsupported"
        decoded = from_plain(encoded)
        assert type(decoded).__name__ == "_Unsupported"

    def test_look_alike_names_its_type(self) -> None:
        """Does the refusal keep the type's name, so feedback can say what was given?"""
        assert to_plain(SneakyInt(3)) == {"t": "unsupported", "type": "SneakyInt"}
        assert to_plain(np.int64(3))["type"] == "int64"

    def test_nesting_is_bounded(self) -> None:
        """Is a value nested deeper than 20 levels refused rather than recursed into?"""
        value: Any = 1
        for _ in range(25):
            value = [value]
        assert to_plain(value)["t"] == "unsupported"
        cyclic: list = []
        cyclic.append(cyclic)
        assert to_plain(cyclic)["t"] == "unsupported"

    def test_bool_is_not_an_int(self) -> None:
        """Does True stay a bool, so it cannot pass where an int is expected?"""
        assert type(from_plain(to_plain(True))) is bool
        assert from_plain({"t": "int", "v": 1}) == 1
        with pytest.raises(ValueError):
            from_plain({"t": "int", "v": True})
        verdict = verdicts.verdict("int", True, 1)
        assert not verdict.correct and "plain int" in verdict.message

    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_nan_and_infinity_are_refused(self, bad: float) -> None:
        """Is NaN (equal to nothing, not even itself) or infinity never decoded as an answer?"""
        with pytest.raises(ValueError, match="NaN and infinity"):
            from_plain(to_plain(bad))
        with pytest.raises(ValueError, match="finite"):
            from_plain(to_plain(np.array([1.0, bad])))
        with pytest.raises(ValueError):
            from_plain(to_plain((None, [bad])))

    @pytest.mark.parametrize(
        "text",
        [
            '{"t": "float", "v": NaN}',
            '{"t": "float", "v": Infinity}',
            '{"t": "float", "v": -Infinity}',
            '{"t": "ndarray", "dtype": "float64", "shape": [2], "v": [1.0, NaN]}',
            '{"t": "tuple", "v": [{"t": "float", "v": NaN}]}',
        ],
    )
    def test_parse_answer_json_refuses_nan(self, text: str) -> None:
        """Does the JSON reader refuse NaN and Infinity constants wherever they appear?"""
        with pytest.raises(ValueError):
            parse_answer_json(text)

    @pytest.mark.parametrize(
        "record",
        [
            None,
            [],
            "int",
            {},
            {"v": 3},
            {"t": 3, "v": 3},
            {"t": "integer", "v": 3},
            {"t": "int", "v": 3.0},
            {"t": "int", "v": "3"},
            {"t": "float", "v": "1.0"},
            {"t": "float", "v": True},
            {"t": "bool", "v": 1},
            {"t": "str", "v": 3},
            {"t": "tuple", "v": {"t": "int", "v": 1}},
            {"t": "tuple", "v": "ab"},
            {"t": "list", "v": None},
            {"t": "list", "v": [3]},
            {"t": "dict", "v": [1]},
            {"t": "dict", "v": {"a": 1}},
            {"t": "ndarray", "shape": [2], "v": {"a": 1}},
            {"t": "ndarray", "shape": [3], "v": [1.0, 2.0]},
            {"t": "ndarray", "shape": [2, 2], "v": [1.0, 2.0, 3.0]},
            {"t": "ndarray", "shape": "2", "v": [1.0, 2.0]},
            {"t": "ndarray", "shape": [-1], "v": [1.0]},
            {"t": "ndarray", "shape": [True], "v": [1.0]},
            {"t": "ndarray", "shape": [1.0], "v": [1.0]},
            {"t": "ndarray", "v": [1.0]},
            {"t": "ndarray", "shape": [2], "v": [1.0, "2"]},
            {"t": "ndarray", "shape": [2], "v": [1.0, [2.0]]},
            {"t": "ndarray", "shape": [1], "v": [True]},
            {"t": "ndarray", "shape": [1] * 70, "v": [1.0]},
            {"t": "tuple", "v": [{"t": "int", "v": 1}, {"t": "bogus"}]},
        ],
        ids=repr,
    )
    def test_malformed_records_raise_value_error(self, record: Any) -> None:
        """Is every malformed record (wrong tag, payload or array shape) a ValueError?"""
        with pytest.raises(ValueError):
            from_plain(record)

    @pytest.mark.parametrize(
        "record",
        [
            {"t": "float", "v": 10**400},
            {"t": "ndarray", "dtype": "float64", "shape": [1], "v": [10**400]},
        ],
        ids=["float", "ndarray"],
    )
    def test_huge_ints_raise_value_error(self, record: Any) -> None:
        """Is a number too large for a float refused with ValueError (which the grader
        catches), not an OverflowError that stops the grading of the whole notebook?

        A kernel is untrusted and can forge any record; the grader's preprocessor only
        catches ValueError from parse_answer_json.
        """
        with pytest.raises(ValueError):
            from_plain(record)
        with pytest.raises(ValueError):
            parse_answer_json(json.dumps(record))


class ReadCounting(list):
    """A list that counts the items read through it."""

    read = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            self.read += 1
            yield item


def test_a_claimed_shape_is_multiplied_only_as_far_as_its_data_goes() -> None:
    """Does the grader stop multiplying a forged array's shape once it passes the data?

    The kernel chooses the shape: 47,000 sizes of 2**62 beside no data, 1 MB of JSON, took
    the grader about 5 s of arithmetic per answer when multiplied whole.
    """
    shape = ReadCounting([2**62] * 47_000)
    assert answers._element_count(shape, at_most=0) == 1
    assert shape.read == 1
    with pytest.raises(ValueError, match="does not match its shape"):
        from_plain({"t": "ndarray", "shape": [2**62] * 47_000, "v": []})


@given(st.lists(st.integers(0, 2**70), max_size=8), st.integers(0, 10**6))
def test_an_element_count_is_the_product_up_to_its_bound(shape: list[int], at_most: int) -> None:
    """Is the count the shape's product wherever that is within the bound?"""
    count = answers._element_count(shape, at_most)
    product = math.prod(shape)
    assert count == (product if product <= at_most else at_most + 1)


def only_plain(value: Any) -> bool:
    """Whether a decoded value is built only of exact plain types (and refusal markers)."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is np.ndarray:
        return value.dtype == np.float64 and bool(np.all(np.isfinite(value)))
    if type(value) in (tuple, list):
        return all(only_plain(item) for item in value)
    if type(value) is dict:
        return all(type(k) is str and only_plain(v) for k, v in value.items())
    return type(value).__name__ == "_Unsupported"


TAGS = [
    "none",
    "bool",
    "int",
    "float",
    "str",
    "tuple",
    "list",
    "dict",
    "ndarray",
    "unsupported",
    "x",
]
json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["t", "v", "shape", "dtype", "type"]), inner, max_size=4)
        | st.fixed_dictionaries(
            {"t": st.sampled_from(TAGS)}, optional={"v": inner, "shape": inner, "type": inner}
        )
    ),
    max_leaves=10,
)


@PROPERTY
@given(json_data)
@example({"t": "float", "v": 10**400})
def test_from_plain_raises_only_value_error(data: Any) -> None:
    """Whatever JSON an untrusted kernel sends, does decoding either give plain data or
    raise ValueError (the one exception the grader catches)?"""
    try:
        decoded = from_plain(data)
    except ValueError:
        return
    assert only_plain(decoded)


def test_answer_json_round_trips_and_refuses_look_alikes() -> None:
    """Is the text a test cell's request asks for exactly the plain-data encoding, decoded
    back to the answer, and does a look-alike still arrive as unsupported?"""
    text = answers.answer_json((None, 8, 16))
    assert json.loads(text) == to_plain((None, 8, 16))
    assert parse_answer_json(text) == (None, 8, 16)
    assert json.loads(answers.answer_json(SneakyInt(3)))["t"] == "unsupported"
    with pytest.raises(ValueError):
        parse_answer_json(answers.answer_json(float("nan")))


def test_answers_module_imports_nothing_from_lstm_lib() -> None:
    """Does lstm_lib/answers.py import only the standard library and NumPy, so that the
    private copy the grader loads from its file into the learner's kernel stands alone?"""
    source = Path(answers.__file__).read_text(encoding="utf-8")
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import from {node.module!r}"
            imported.append(node.module or "")
    assert imported, "no imports found: is this the right file?"
    tops = {name.split(".")[0] for name in imported}
    assert "lstm_lib" not in tops, f"lstm_lib/answers.py imports {sorted(imported)}"
    allowed = {"__future__", "numpy", *sys.stdlib_module_names}
    assert tops <= allowed, f"lstm_lib/answers.py imports {sorted(tops - allowed)}"


@pytest.mark.parametrize(
    "record",
    [
        {"t": "str", "v": "\ud800"},
        {"t": "dict", "v": {"\udc00": {"t": "int", "v": 1}}},
        {"t": "tuple", "v": [{"t": "none"}, {"t": "str", "v": "a\udfff"}]},
        {"t": "unsupported", "type": "Evil\ud800"},
    ],
)
def test_a_string_no_notebook_can_hold_is_refused(record: dict) -> None:
    """A lone surrogate is valid JSON (``"\\ud800"``) but no notebook file can hold it, and
    a verdict's message may quote the answer. Is it refused where the answer is decoded,
    as the JSON text a kernel sends too, while other non-ASCII text is kept?"""
    with pytest.raises(ValueError, match="lone surrogate"):
        from_plain(record)
    with pytest.raises(ValueError, match="lone surrogate"):
        parse_answer_json(json.dumps(record))
    assert from_plain({"t": "str", "v": "Embedding → LSTM, 32 × 8"}) == "Embedding → LSTM, 32 × 8"


@pytest.mark.parametrize(
    ("value", "record"),
    [
        (
            (None, np.int64(16)),
            {"t": "unsupported", "type": "int64", "at": [["tuple", 1]], "convert": "int"},
        ),
        (
            [1.0, [2.0, np.float32(3.0)]],
            {
                "t": "unsupported",
                "type": "float32",
                "at": [["list", 1], ["list", 1]],
                "convert": "float",
            },
        ),
        (
            {"units": SneakyInt(8)},
            {"t": "unsupported", "type": "SneakyInt", "at": [["dict", "units"]]},
        ),
        (SneakyInt(8), {"t": "unsupported", "type": "SneakyInt"}),
    ],
)
def test_a_refused_item_keeps_where_it_sits(value: Any, record: dict) -> None:
    """Does the refusal of an item inside a container record where it sits (and, for a
    NumPy scalar, the plain type to convert it with), and does that survive the JSON the
    grader reads? A refusal at the top level records only the type, as before."""
    assert to_plain(value) == record
    decoded = parse_answer_json(answers.answer_json(value))
    assert type(decoded).__name__ == "_Unsupported"
    assert decoded.at == tuple(tuple(step) for step in record.get("at", ()))
    assert decoded.convert == record.get("convert")


@pytest.mark.parametrize(
    "extra",
    [
        {"at": "tuple"},
        {"at": [["tuple", -1]]},
        {"at": [["tuple", True]]},
        {"at": [["tuple", "0"]]},
        {"at": [["dict", 0]]},
        {"at": [["set", 0]]},
        {"at": [["tuple", 0, 1]]},
        {"at": [["dict", "a\ud800"]]},
        {"at": [["list", 0]] * 22},
        {"convert": "eval"},
        {"convert": 1},
    ],
)
def test_a_malformed_position_is_refused(extra: dict) -> None:
    """Is a forged position or conversion in a refusal record refused, as any malformed
    record is, so only plain, bounded data reaches a message?"""
    with pytest.raises(ValueError):
        from_plain({"t": "unsupported", "type": "int64", **extra})
