"""Which grading code a course grades with (lstm_grader.grading_code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_grader import grading_code


def test_the_code_version_ignores_where_the_code_is_installed(tmp_path: Path) -> None:
    """Two hosts with the same code installed in different places agree on the version (a
    Dask worker and the course host); a course copy holding its own grading code does
    not, and the local fingerprint still changes with the location."""
    assert grading_code.grading_code_version(tmp_path) == grading_code.grading_code_version()
    copy = tmp_path / "lstm_grader"
    copy.mkdir()
    (copy / "__init__.py").write_text("")
    assert grading_code.grading_code_version(tmp_path) != grading_code.grading_code_version()
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    assert grading_code.grading_code_digest(moved) == grading_code.grading_code_digest(None)
    assert grading_code.grading_code_digest(tmp_path) != grading_code.grading_code_digest(None)


@pytest.mark.parametrize("distribution", ["keras", "tensorflow"])
def test_a_host_without_keras_grades_with_other_code(
    monkeypatch: pytest.MonkeyPatch, distribution: str
) -> None:
    """A learner's cells may use Keras, so a grading host without it scores them lower.
    Does a host lacking Keras or TensorFlow have another code version, so that a Dask worker
    installed without them refuses to grade instead of grading differently?"""
    from importlib import metadata

    installed = grading_code.grading_code_version()
    version = metadata.version

    def without(name: str) -> str:
        if name == distribution:
            raise metadata.PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(metadata, "version", without)
    assert grading_code.grading_code_version() != installed
