"""The suite's own shared fixtures (``tests/conftest.py``): what they share between tests
still behaves as what they stand in for."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def test_a_gradebook_made_without_alembic_on_path_still_fails_as_in_nbgrader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alembic head is asked once per test run; does a gradebook made where no
    ``alembic`` command is on ``PATH`` still fail as nbgrader's does, after one was made
    where it is?"""
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with Gradebook(f"sqlite:///{tmp_path / 'found.db'}"):
        pass
    monkeypatch.setenv("PATH", str(tmp_path / "no-scripts-here"))
    with pytest.raises(FileNotFoundError, match="alembic"):
        Gradebook(f"sqlite:///{tmp_path / 'not-found.db'}")
