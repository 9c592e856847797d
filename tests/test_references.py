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
