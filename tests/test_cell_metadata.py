"""lstm_grader.cell_metadata: nbgrader's metadata check, with the schema checked once.

Every case is checked against nbgrader's own ``MetadataValidator``: the same notebooks
pass, and the same ones fail with the same exception and message.
"""

from __future__ import annotations

import copy
import logging

import nbformat
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import CheckCellMetadata
from traitlets.config.loader import PyFileConfigLoader

from lstm_grader.cell_metadata import CheckCellMetadataOnce, metadata_validator

SOURCE = ROOT / "solutions" / "05-return-flags" / "05-return-flags.ipynb"
KEYS = ("grade", "solution", "locked", "task", "points", "grade_id", "schema_version",
        "cell_type", "checksum", "unknown")  # fmt: skip
VALUES = st.one_of(
    st.booleans(),
    st.integers(-2, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def _outcome(check: object, notebook: nbformat.NotebookNode) -> tuple[str, str] | None:
    try:
        check(notebook)  # type: ignore[operator]
    except Exception as error:  # the outcome compared is any error's type and message
        return type(error).__name__, str(error)
    return None


def _both(notebook: nbformat.NotebookNode) -> tuple[object, object]:
    nbgraders = _outcome(MetadataValidator().validate_nb, copy.deepcopy(notebook))
    ours = _outcome(metadata_validator().validate_nb, copy.deepcopy(notebook))
    return nbgraders, ours


def _graded_cell(metadata: dict, cell_type: str = "code") -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    return make("x = 1", metadata={"nbgrader": metadata})


VALID = {"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "q1",
         "schema_version": 3}  # fmt: skip


def test_the_course_notebooks_pass_as_they_do_in_nbgrader() -> None:
    """Does a real assignment, whose cells all carry nbgrader metadata, pass both checks?"""
    notebook = nbformat.read(SOURCE, as_version=4)
    assert sum("nbgrader" in cell.metadata for cell in notebook.cells) > 10
    assert _both(notebook) == (None, None)


@pytest.mark.parametrize(
    "change",
    [
        {"schema_version": 2},
        {"schema_version": 4},
        {"points": "one"},
        {"grade_id": ""},
        {"grade": "yes"},
        {"unknown": 1},
        {"locked": None},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
)
def test_each_corruption_fails_with_nbgraders_own_error(change: dict) -> None:
    """Does each corrupted cell fail, with exactly the error nbgrader's check raises?"""
    notebook = nbformat.v4.new_notebook(cells=[_graded_cell({**VALID, **change})])
    nbgraders, ours = _both(notebook)
    assert nbgraders is not None and ours == nbgraders


def test_notebook_wide_checks_are_nbgraders() -> None:
    """Are a duplicate grade id and a markdown grade cell without a solution refused, as
    nbgrader refuses them?"""
    twice = nbformat.v4.new_notebook(cells=[_graded_cell(VALID), _graded_cell(VALID)])
    markdown = nbformat.v4.new_notebook(cells=[_graded_cell(VALID, "markdown")])
    for notebook in (twice, markdown):
        nbgraders, ours = _both(notebook)
        assert nbgraders is not None and ours == nbgraders


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=len(KEYS)))
def test_any_metadata_gets_nbgraders_outcome(metadata: dict) -> None:
    """For any metadata a tampered submission could carry, is the outcome (passing, or
    the exception and its message) the one nbgrader's own check gives?"""
    notebook = nbformat.v4.new_notebook(cells=[_graded_cell({**VALID, **metadata})])
    nbgraders, ours = _both(notebook)
    assert ours == nbgraders


def test_the_preprocessor_logs_and_raises_like_nbgraders(caplog: pytest.LogCaptureFixture) -> None:
    """Does the preprocessor raise nbgrader's error, with its message, for a corrupted
    notebook, and hand a valid one back unchanged?"""
    bad = nbformat.v4.new_notebook(cells=[_graded_cell({**VALID, "points": "one"})])
    messages = []
    for preprocessor in (CheckCellMetadata(), CheckCellMetadataOnce()):
        with caplog.at_level(logging.ERROR), pytest.raises(ValidationError) as raised:
            preprocessor.preprocess(copy.deepcopy(bad), {})
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    good = nbformat.read(SOURCE, as_version=4)
    assert CheckCellMetadataOnce().preprocess(copy.deepcopy(good), {})[0] == good


def test_the_course_checks_metadata_with_it_everywhere_nbgrader_would() -> None:
    """Does the course's config use the checked-once preprocessor in every pipeline, and
    nbgrader's own nowhere?"""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    pipelines = [
        config.Autograde.sanitize_preprocessors,
        config.Autograde.autograde_preprocessors,
        config.GenerateAssignment.preprocessors,
    ]
    for pipeline in pipelines:
        assert CheckCellMetadataOnce in pipeline
        assert CheckCellMetadata not in pipeline


def test_the_validator_checks_its_schema_before_any_cell() -> None:
    # the grader's helper calls metadata_validator() before it forks: the schema check
    # must be done by then, or every forked child pays for it again
    assert "_schema_validator" in vars(metadata_validator())
