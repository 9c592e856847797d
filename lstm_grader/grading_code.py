"""Which grading code a course grades with: a hash of its source and its dependencies.

The regrade cache keys every grade on it (:func:`grading_code_digest`), and a Dask worker
whose code differs from the course host's refuses to grade (:func:`grading_code_version`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lstm_grader import safefiles

#: The packages whose code decides a grade: their source is part of every fingerprint.
GRADING_PACKAGES = ("lstm_lib", "lstm_grader")
#: Installed distributions whose version decides how a notebook is run and graded. Keras and
#: TensorFlow too: a learner's cells may use Keras, and grading runs a check cell's Keras
#: code again where a later cell reads what it built, so a grading host without them (or
#: with others) gave such a learner fewer points than the course host.
GRADING_DISTRIBUTIONS = (
    "lstm-course",
    "nbgrader",
    "nbconvert",
    "nbclient",
    "jupyter_client",
    "ipykernel",
    "numpy",
    "keras",
    "tensorflow",
)


def _package_folder(root: Path | None, name: str) -> Path | None:
    """Where ``name`` is imported from by nbgrader started in the course root (a copy in the
    root wins over the installed one, as it does for ``python -c`` there); ``root=None``:
    the installed one."""
    import importlib.machinery
    import importlib.util

    spec = (
        importlib.machinery.PathFinder.find_spec(name, [str(root)]) if root else None
    ) or importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def grading_code_digest(root: Path | None, *, with_location: bool = True) -> str:
    """A hash of the grading code a course root grades with: the source of
    :data:`GRADING_PACKAGES` and the versions of :data:`GRADING_DISTRIBUTIONS`, and where
    the packages are (unless ``with_location`` is false). ``root=None``: the installed
    packages."""
    from importlib import metadata

    digest = hashlib.sha256()
    for name in GRADING_PACKAGES:
        folder = _package_folder(root, name)
        if with_location:
            digest.update(f"package {name} at {folder}\n".encode())
        for path in sorted(folder.rglob("*.py")) if folder else []:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(safefiles.read_bytes(path))
    for name in GRADING_DISTRIBUTIONS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}\n".encode())
    return digest.hexdigest()


def grading_code_version(root: Path | None = None) -> str:
    """:func:`grading_code_digest` without the install location: equal on two hosts that
    grade with the same code, wherever each installed it."""
    return grading_code_digest(root, with_location=False)
