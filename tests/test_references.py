"""Do the committed reference values still match what the installed Keras computes?

``references/<assignment>.json`` holds the value each question is graded against, recorded
from live Keras by running the solution notebook (``python -m lstm_grader.record``). This
drift test records every assignment again and compares, so a Keras upgrade that changes a
shape, a count, an error or a number fails here instead of marking a learner wrong.

Arrays (the expected value of ``array`` questions) and every float in contexts and recorded
mistakes are compared with ``np.allclose(rtol=1e-5, atol=1e-5)``; everything else exactly,
types included (``True`` is not ``1``). Nothing is ignored. To take a new Keras on purpose,
run ``python -m lstm_grader.record`` and commit the references it writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import KERAS_POSITIONAL_ARGUMENTS, layer_call_options, read_notebook, solution_answer

from lstm_grader.record import record_assignment

ROOT = Path(__file__).resolve().parent.parent
RTOL = ATOL = 1e-5


def assignments() -> list[str]:
    """Every assignment with a solution notebook."""
    return sorted(
        p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists()
    )


def short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def differences(committed: Any, recorded: Any, path: str, tolerant: bool) -> list[str]:
    """Where two JSON documents differ, one line per difference, named by its path."""
    if type(committed) is dict and type(recorded) is dict:
        found = []
        for key in sorted(committed.keys() | recorded.keys()):
            where = f"{path}.{key}" if path else key
            if key not in recorded:
                found.append(f"{where}: committed {short(committed[key])}, not recorded any more")
            elif key not in committed:
                found.append(f"{where}: recorded {short(recorded[key])}, not committed")
            else:
                found += differences(committed[key], recorded[key], where, tolerant)
        return found
    if type(committed) is list and type(recorded) is list:
        if len(committed) != len(recorded):
            return [
                f"{path}: committed {len(committed)} items {short(committed)}, "
                f"recorded {len(recorded)} items {short(recorded)}"
            ]
        found = []
        for index, (mine, theirs) in enumerate(zip(committed, recorded, strict=True)):
            found += differences(mine, theirs, f"{path}[{index}]", tolerant)
        return found
    numbers = (int, float)
    if (
        tolerant
        and type(committed) in numbers
        and type(recorded) in numbers
        and float in (type(committed), type(recorded))
    ):
        if np.allclose(recorded, committed, rtol=RTOL, atol=ATOL):
            return []
    elif type(committed) is type(recorded) and committed == recorded:
        return []
    return [f"{path}: committed {short(committed)}, recorded {short(recorded)}"]


def compare_references(committed: dict, recorded: dict) -> list[str]:
    """Differences between a committed reference file and a fresh recording."""
    found = []
    top = (committed.keys() | recorded.keys()) - {"questions"}
    for key in sorted(top):
        found += differences(committed.get(key), recorded.get(key), key, tolerant=False)
    mine, theirs = committed.get("questions", {}), recorded.get("questions", {})
    # The file is written with sorted keys, so only the set of questions can be compared.
    if mine.keys() != theirs.keys():
        found.append(f"questions: committed {sorted(mine)}, recorded {sorted(theirs)}")
    for question in sorted(mine.keys() & theirs.keys()):
        old, new = mine[question], theirs[question]
        for key in sorted(old.keys() | new.keys()):
            # Only an array question's expected value is a float array; other expected
            # values (shapes, counts, choices, plain values) must match exactly.
            tolerant = key != "expected" or old.get("kind") == "array"
            found += differences(old.get(key), new.get(key), f"{question}.{key}", tolerant)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_references_match_live_keras(assignment: str) -> None:
    """Does recording the assignment again with the installed Keras give the committed
    references/<assignment>.json: same questions, kinds, expected values, contexts and
    recorded mistakes?"""
    path = ROOT / "references" / f"{assignment}.json"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run python -m lstm_grader.record"
    committed = json.loads(path.read_text(encoding="utf-8"))
    recorded = record_assignment(ROOT, assignment)
    found = compare_references(committed, recorded)
    assert not found, (
        f"references/{assignment}.json no longer matches what Keras computes "
        f"({len(found)} difference(s)); if the change is intended, run "
        f"`python -m lstm_grader.record {assignment}` and commit the result:\n  "
        + "\n  ".join(found)
    )


def test_compare_references_names_the_question() -> None:
    """Does the comparison pass equal documents, tolerate float noise in arrays and
    contexts, and name the question, path and both values of a real difference?"""
    base = {
        "assignment": "x",
        "keras_version": "3.15.1",
        "questions": {
            "q1": {"kind": "shape", "expected": [None, 16], "context": {"f": 0.5}, "mistakes": []},
            "q2": {"kind": "array", "expected": [[0.1, 0.2]], "context": {}, "mistakes": []},
        },
    }
    same = json.loads(json.dumps(base))
    same["questions"]["q2"]["expected"][0][0] += 1e-7
    same["questions"]["q1"]["context"]["f"] += 1e-7
    assert compare_references(base, same) == []
    changed = json.loads(json.dumps(base))
    changed["questions"]["q1"]["expected"] = [None, 8, 16]
    changed["questions"]["q2"]["expected"][0][1] = 0.3
    changed["keras_version"] = "3.16.0"
    found = compare_references(base, changed)
    assert any(line.startswith("keras_version: committed") for line in found)
    assert any(line.startswith("q1.expected: committed 2 items") for line in found)
    assert "q2.expected[0][1]: committed 0.2, recorded 0.3" in found
    exact = json.loads(json.dumps(base))
    exact["questions"]["q1"]["expected"] = [None, 16.0]
    assert compare_references(base, exact) == ["q1.expected[1]: committed 16, recorded 16.0"]
    renamed = json.loads(json.dumps(base))
    renamed["questions"]["q3"] = renamed["questions"].pop("q2")
    assert "questions: committed ['q1', 'q2'], recorded ['q1', 'q3']" in compare_references(
        base, renamed
    )


def test_a_malformed_references_file_says_where_and_what(tmp_path: Path) -> None:
    """Does a references file with a missing key, an unknown kind, bad mistakes or broken
    JSON raise an error that names the file and the question, never a bare KeyError?"""
    from lstm_grader.references import ReferenceFileError, load_references, write_references

    good = {"kind": "shape", "expected": [None, 4], "context": {}, "mistakes": []}
    write_references(tmp_path, "a1", {"questions": {"q1": good}, "keras_version": "3"})
    assert load_references(tmp_path, "a1")["q1"].expected == [None, 4]
    broken = {
        "has no 'expected'": {"kind": "shape"},
        "kind 'size' is not one of": {**good, "kind": "size"},
        "'mistakes' must be": {**good, "mistakes": ["wrong"]},
    }
    for words, entry in broken.items():
        (tmp_path / "a2.json").write_text(json.dumps({"questions": {"q7": entry}}))
        with pytest.raises(ReferenceFileError, match="'q7'") as raised:
            load_references(tmp_path, "a2")
        assert words in str(raised.value) and "a2.json" in str(raised.value)
        with pytest.raises(ReferenceFileError):
            write_references(tmp_path, "a3", {"questions": {"q7": entry}})
    (tmp_path / "a2.json").write_text("{not json")
    with pytest.raises(ReferenceFileError, match="not valid JSON"):
        load_references(tmp_path, "a2")


# ----------------------------------------------------------- recorded values and the rules
# The drift test above needs TensorFlow and runs with the slow tests. The recorded values
# are also what lstm_lib's rules compute (shapes, counts, the NumPy twins), and the messages
# a learner reads are written from those rules: where a reference and a rule part, one of
# them is wrong, and the quick tests say which question, without Keras.


def _literal(node: Any) -> Any:
    """A literal argument's value, or None for a name or an expression (``(1, 1, features)``)."""
    import ast

    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _layer_class(call: Any) -> str | None:
    """The class a call constructs, for ``keras.layers.LSTM(...)`` or ``layers.LSTM(...)``."""
    import ast

    func = call.func if isinstance(call, ast.Call) else None
    if (
        isinstance(func, ast.Attribute)
        and func.attr in KERAS_POSITIONAL_ARGUMENTS
        and isinstance(func.value, ast.Attribute | ast.Name)
        and (getattr(func.value, "attr", None) or getattr(func.value, "id", None)) == "layers"
    ):
        return func.attr
    return None


def _spec(call: Any) -> dict:
    """A layer dict from the call that constructs the layer in a check cell."""
    import ast

    def value(node: Any) -> Any:
        return _spec(node) if _layer_class(node) else ast.literal_eval(node)

    return {"class_name": _layer_class(call), "config": layer_call_options(call, value)}


def _check_cell_shapes(
    assignment: str, question: str
) -> tuple[list[list[tuple]], list[list[list[tuple]]]]:
    """What lstm_lib.shapes gives for the layers a question's check cell builds with Keras,
    on each input the cell gives (keras.Input, build, reveal_layer's shape): the shapes each
    layer returns alone, and those of each layer stacked in the order the cell applies them."""
    import ast

    from lstm_lib import shapes

    notebook = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == question
    ]
    layers: list[dict] = []
    inputs: list[tuple] = []

    def visit(node: Any) -> None:
        if _layer_class(node):  # a layer built (with the layers it wraps): one spec
            layers.append(_spec(node))
            return
        if not isinstance(node, ast.Call):
            for child in ast.iter_child_nodes(node):
                visit(child)
            return
        # arguments before the call that uses them, as Python applies nested calls:
        # LSTM(16)(Embedding(1000, 32)(inputs)) builds the Embedding's output first
        for argument in [*node.args, *(word.value for word in node.keywords)]:
            visit(argument)
        visit(node.func)
        words = {word.arg: word.value for word in node.keywords}
        name = getattr(node.func, "attr", None)
        given = None
        if name == "Input" and "shape" in words and _literal(words["shape"]) is not None:
            given = (None, *_literal(words["shape"]))
        elif name == "Input" and "batch_shape" in words:
            given = _literal(words["batch_shape"])
        elif name == "build" and node.args:
            given = _literal(node.args[0])
        elif getattr(node.func, "id", None) == "reveal_layer" and len(node.args) > 2:
            given = _literal(node.args[2])
        if given is not None:
            inputs.append(tuple(given))

    visit(ast.parse(cell.source))
    alone, chains = [], []
    for shape in inputs:
        for layer in layers:
            try:
                alone.append([tuple(s) for s in shapes.output_shapes(layer, shape)])
            except (ValueError, TypeError, KeyError):
                pass
        try:
            rows = shapes.stack_shapes(layers, shape)
        except (ValueError, TypeError, KeyError):
            continue
        chains.append([[tuple(s) for s in row.output_shapes] for row in rows])
    return alone, chains


def _check_cell_counts(assignment: str, question: str) -> set[int]:
    """The counts lstm_lib.shapes gives for the layers a check cell builds, on its inputs."""
    import ast

    from lstm_lib import shapes

    notebook = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == question
    ]
    tree = ast.parse(cell.source)
    layers = [_spec(node) for node in ast.walk(tree) if _layer_class(node)]
    given = [
        (None, *_literal(word.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Input"
        for word in node.keywords
        if word.arg == "shape" and _literal(word.value) is not None
    ] + [
        _literal(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "build"
    ]
    inputs = [tuple(shape) for shape in given if shape is not None]
    return {shapes.count_params(layer, shape) for layer in layers for shape in inputs}


def _among(expected: Any, computed: tuple, kind: str, states: bool = False) -> bool:
    """Whether a recorded shape (or list) is what the check cell's layers return
    (:func:`_check_cell_shapes`): a shape one of their tensors, a list all the tensors of
    one (its states only, for a question that asks for ``states``) or the outputs of layers
    stacked one on the next. A batch the cell's data fixes (predict on 16 reviews) stands
    for the open batch of the layers' shapes."""
    alone, chains = computed
    found = alone + [row for chain in chains for row in chain]

    def same(mine: tuple, theirs: tuple) -> bool:
        return mine == theirs or (
            len(mine) == len(theirs) and theirs[0] is None and mine[1:] == theirs[1:]
        )

    if kind == "shape":
        return any(same(tuple(expected), shape) for shapes_ in found for shape in shapes_)
    wanted = [tuple(shape) for shape in expected]
    return any((shapes_[1:] if states else shapes_) == wanted for shapes_ in found) or any(
        [row[0] for row in chain][i : i + len(wanted)] == wanted
        for chain in chains
        for i in range(len(chain))
    )


def _named_axes(shape: list, context: dict, role: str | None = None) -> list[tuple[int, str, Any]]:
    """The axes of a recorded shape whose size the context names: (position, name, size)."""
    from lstm_lib import mistakes

    f = mistakes.facts(context, shape)
    names = mistakes._axis_names(tuple(shape), f, role)
    sizes = {"timesteps": f.timesteps, "features": f.features}
    return [
        (i, name, sizes[name])
        for i, name in enumerate(names)
        if sizes.get(name) is not None and len(names) == len(shape)
    ]


def _rule_values(assignment: str, question: str, entry: dict) -> list[tuple[str, Any, Any]]:
    """What the rules compute for a recorded question: (what, recorded, computed) for each
    value the context lets them compute."""
    from lstm_lib import mistakes, reference, shapes

    kind, expected, context = entry["kind"], entry["expected"], entry["context"]
    input_shape = tuple(context["input_shape"]) if "input_shape" in context else None
    found: list[tuple[str, Any, Any]] = []
    if kind == "int" and context.get("solve_for") == "units":
        layer = {**context["layer"], "config": {**context["layer"]["config"], "units": expected}}
        found.append(
            (
                "the count with those units",
                context["params"],
                shapes.count_params(layer, input_shape),
            )
        )
    elif kind == "int" and context.get("solve_for") == "input_dim":
        # ids 0 to input_dim - 1 have a row each
        found.append(("the largest id with a row", context["largest_id"], expected - 1))
    elif kind == "int" and "model" in context:
        rows = shapes.stack_shapes(context["model"], input_shape)
        frozen = bool(context.get("trainable_only"))
        total = sum(row.params - (row.non_trainable_params if frozen else 0) for row in rows)
        found.append(("the model's count", expected, total))
    elif kind == "int":
        found.append(("the count", expected, shapes.count_params(context["layer"], input_shape)))
    elif kind == "shape" and context.get("role") == "input":
        # the shape a layer reads: it must build on it, the sizes the context names in place
        found.append(
            (
                "the layer builds on it",
                True,
                bool(shapes.output_shapes(context["layer"], tuple(expected))),
            )
        )
        found += [
            (f"the {name} axis", size, expected[i])
            for i, name, size in _named_axes(expected, context, "input")
        ]
    elif kind in ("shape", "shapes") and "layer" in context and input_shape is not None:
        outputs = [list(shape) for shape in shapes.output_shapes(context["layer"], input_shape)]
        found.append(("the output", expected, outputs[0] if kind == "shape" else outputs))
    elif kind == "shapes" and all(
        any(w in str(r) for w in ("kernel", "bias")) for r in context.get("roles") or [None]
    ):
        # weights: together as many numbers as the check cell's layer counts
        layer_counts = _check_cell_counts(assignment, question)
        total = sum(int(np.prod(shape)) for shape in expected)
        found.append(
            ("the weights' numbers, a count of the check cell's layer", True, total in layer_counts)
        )
    elif kind in ("shape", "shapes"):
        roles = context.get("roles") or []
        found.append(
            (
                "among the shapes the check cell's layers return",
                True,
                _among(
                    expected,
                    _check_cell_shapes(assignment, question),
                    kind,
                    states=bool(roles) and all(mistakes._names_a_state(role) for role in roles),
                ),
            )
        )
    elif kind == "layer_shapes":
        answer = solution_answer(assignment, question)
        outputs = [list(shape) for shape in shapes.output_shapes(answer, input_shape)]
        found.append(("the shapes of the instructor's layer", expected, outputs))
    elif kind == "model":
        rows = shapes.stack_shapes(solution_answer(assignment, question), input_shape)
        found.append(
            (
                "the instructor's model's output",
                expected["output_shape"],
                list(rows[-1].output_shapes[0]),
            )
        )
        found.append(
            ("the instructor's model's count", expected["params"], sum(row.params for row in rows))
        )
    elif kind == "array":
        arrays = {
            key: np.asarray(value, dtype=float)
            for key, value in context.items()
            if isinstance(value, list)
        }
        twin = context["twin"]
        if twin == "dense":
            computed = reference.dense(
                arrays["x"],
                arrays["kernel"],
                arrays.get("bias"),
                context.get("activation") or "linear",
            )
        elif twin == "simple_rnn":
            computed = reference.simple_rnn(
                arrays["x"], [arrays["kernel"], arrays["recurrent_kernel"], arrays["bias"]]
            )
        elif twin == "lstm_step":
            step = reference.lstm_step(
                arrays["x_t"],
                arrays["h_prev"],
                arrays["c_prev"],
                arrays["kernel"],
                arrays["recurrent_kernel"],
                arrays["bias"],
            )
            computed = getattr(step, context.get("output") or "h")
        else:
            computed = reference.embedding(np.asarray(context["ids"]), arrays["table"])
        close = np.asarray(computed).shape == np.asarray(expected).shape and np.allclose(
            computed, expected, rtol=RTOL, atol=ATOL
        )
        found.append((f"the {twin} twin's array", True, bool(close)))
    return found


def _recorded(kinds: tuple[str, ...]) -> list[tuple[str, str, dict]]:
    found = []
    for assignment in assignments():
        path = ROOT / "references" / f"{assignment}.json"
        for question, entry in json.loads(path.read_text(encoding="utf-8"))["questions"].items():
            if entry["kind"] in kinds:
                found.append((assignment, question, entry))
    return found


_RULED = _recorded(("int", "shape", "shapes", "layer_shapes", "model", "array"))


@pytest.mark.parametrize(
    ("assignment", "question", "entry"), _RULED, ids=[f"{a}-{q}" for a, q, _ in _RULED]
)
def test_recorded_values_are_what_the_rules_compute(
    assignment: str, question: str, entry: dict
) -> None:
    """Is every recorded count, shape, list of shapes, inverse layer, model and array what
    lstm_lib computes from the question's context without Keras (shapes.count_params,
    output_shapes, stack_shapes on the layer or the instructor's answer, the NumPy twins)?
    Where the context does not hold the layer (a shape about a model the prompt shows), the
    shape must be one the rules give for the layers its check cell builds with Keras; a list
    of weights, as many numbers as the rules count for that layer."""
    found = _rule_values(assignment, question, entry)
    assert found, f"{assignment} {question}: nothing in its context lets a rule check it"
    differ = [
        (what, recorded, computed) for what, recorded, computed in found if recorded != computed
    ]
    assert not differ, f"{assignment} {question}: " + "; ".join(
        f"{what}: recorded {recorded!r}, the rules give {computed!r}"
        for what, recorded, computed in differ
    )
