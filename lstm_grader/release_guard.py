"""A release folder that ``nbgrader generate_assignment`` could not make anew is kept as it was.

With ``--force`` (or a source newer than its student version), nbgrader removes an
assignment's release folder (``exercises/NAME``) before converting it, and removes it again
when the conversion fails: a refused generation (references not recorded, a notebook
nbgrader cannot convert, an assignment with submissions whose notebooks changed) left the
course with no student version at all of an assignment learners may already have. The
course's ``nbgrader_config.py`` installs :func:`guard_release`, so plain ``nbgrader``, the
formgrader's button and ``lstm-grade`` are all guarded.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["guard_release"]

#: The attribute that marks the installed wrappers, so a second install changes nothing.
_FLAG = "release_kept_by_lstm_grader"


def _restore(folder: Path, kept: Path) -> None:
    """Put the copy ``kept`` back at ``folder``, whatever is there now."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(kept, folder, symlinks=True)  # the folder's own mode and times too


def guard_release() -> None:
    """Make ``nbgrader generate_assignment`` keep each release folder it could not make anew.

    Before nbgrader may remove an assignment's release folder, a copy of the folder is
    kept aside; once every assignment was converted, the copy of each one whose conversion
    did not finish (it failed, or the command was interrupted) is put back, and nbgrader's
    error and exit status 1 stand. An assignment converted in full keeps its new student
    version; one with no release folder before has none to keep. Calling it again changes
    nothing.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.converters.base import BaseConverter

    if getattr(GenerateAssignment.convert_notebooks, _FLAG, False):
        return

    def convert_notebooks(converter: Any) -> None:
        converter._releases_kept = {}
        converter._releases_made = set()
        try:
            # looked up now: the course's other checks wrap the base class's method
            BaseConverter.convert_notebooks(converter)
        finally:
            kept: dict[Path, Path] = converter._releases_kept
            for folder, copy in kept.items():
                if folder not in converter._releases_made:
                    converter.log.warning(
                        "Keeping the release folder %s as it was before this command", folder
                    )
                    _restore(folder, copy / folder.name)
                shutil.rmtree(copy, ignore_errors=True)

    unguarded_init = GenerateAssignment.init_destination

    @functools.wraps(unguarded_init)
    def init_destination(converter: Any, assignment_id: str, student_id: str) -> bool:
        folder = Path(os.path.normpath(converter._format_dest(assignment_id, student_id)))
        kept = getattr(converter, "_releases_kept", None)
        converter._release_converting = folder
        if kept is not None and folder not in kept and folder.is_dir():
            copy = Path(tempfile.mkdtemp(prefix="lstm-release-kept-"))
            shutil.copytree(folder, copy / folder.name, symlinks=True)
            kept[folder] = copy
        should_convert = unguarded_init(converter, assignment_id, student_id)
        if not should_convert and kept is not None:  # skipped: nothing was removed
            converter._releases_made.add(folder)
        return should_convert

    unguarded_post = GenerateAssignment.run_post_convert_hook

    @functools.wraps(unguarded_post)
    def run_post_convert_hook(converter: Any) -> None:
        unguarded_post(converter)
        made = getattr(converter, "_releases_made", None)
        if made is not None:  # every notebook of the assignment was written
            made.add(converter._release_converting)

    setattr(convert_notebooks, _FLAG, True)
    GenerateAssignment.convert_notebooks = convert_notebooks  # type: ignore[method-assign]
    GenerateAssignment.init_destination = init_destination  # type: ignore[method-assign]
    GenerateAssignment.run_post_convert_hook = run_post_convert_hook  # type: ignore[method-assign]
