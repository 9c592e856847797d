"""Rules the test suite keeps: one way to treat a missing component."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

_TEST_FILES = sorted((ROOT / "tests").glob("test_*.py"))
#: Ways of deciding about a missing component that bypass conftest.require_or_skip.
_BYPASSES = re.compile(r"importorskip|mark\.skipif|environ\.get\(\s*[\"']CI[\"']")


@pytest.mark.parametrize("path", _TEST_FILES, ids=lambda p: p.name)
def test_missing_components_go_through_the_conftest_rule(path) -> None:
    """Does each test file leave 'skip locally, fail under CI' to conftest's
    require_or_skip / require_module, instead of deciding itself?"""
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _BYPASSES.search(line) and "_BYPASSES" not in line
    ]
    assert not found, "use conftest.require_or_skip or require_module:\n" + "\n".join(found)
