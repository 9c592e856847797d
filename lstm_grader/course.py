"""Where a course keeps each kind of file, read from its ``nbgrader_config.py``.

nbgrader's :class:`~nbgrader.coursedir.CourseDirectory` owns the layout nbgrader itself
uses (``source_directory``, ``release_directory``, ``submitted_directory``,
``autograded_directory``, ``feedback_directory``, ``directory_structure``, ``root``,
``db_url``); :class:`CourseLayout` adds the two folders only this grader keeps (the
recorded references and the grading reports) and answers every "where is it?" the
grader asks, so no other module spells a folder name.
"""

from __future__ import annotations

import copy
import difflib
import glob
import os
import re
import secrets
import string
from pathlib import Path
from typing import Any

from traitlets import Dict, TraitError, Unicode, validate
from traitlets.config import Config, LoggingConfigurable

#: The file a course root is recognised by, and its layout read from.
CONFIG_FILE = "nbgrader_config.py"
#: What a collection of a submission folder writes beside it, as
#: ``.<folder's name><marker><16 hex digits>`` (:func:`collection_entry_beside`): the new
#: folder it fills, and the collected one it replaces while the new one is renamed into
#: place (:mod:`lstm_grader.collection`).
COLLECTING_MARKER, REPLACED_MARKER = ".collecting-", ".replaced-"
_COLLECTION_ENTRY = re.compile(
    rf"\.(?P<owner>.+)(?P<marker>{re.escape(COLLECTING_MARKER)}|{re.escape(REPLACED_MARKER)})"
    r"[0-9a-f]{16}"
)
#: In a submission's reports folder (:meth:`CourseLayout.reports`): the gradebook's scores
#: and comments its feedback pages were made from (:mod:`lstm_grader.feedback`).
FEEDBACK_GRADES_FILE = "feedback-grades.json"


def load_config(root: str | Path) -> Config:
    """Read ``<root>/nbgrader_config.py`` as nbgrader would."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def rooted_config(root: str | Path) -> Config:
    """The configuration of the course whose ``nbgrader_config.py`` is in ``root``: one
    that leaves ``CourseDirectory.root`` unset gets ``root``."""
    config = load_config(root)
    if "root" not in config.get("CourseDirectory", {}):
        config.CourseDirectory.root = str(Path(root).resolve())
    return config


class NestedCoursesError(ValueError):
    """A folder lies inside more than one folder holding a ``nbgrader_config.py``.

    The inner one may be a learner's: a submission is copied whole into the course, a
    configuration file too, and running it would run the learner's code as the instructor.
    So none is chosen, and the message says to start at the course root.
    """


def enclosing_course(folder: str | Path, ignore: str | Path | None = None) -> Path | None:
    """The course a subfolder is in: the one folder above ``folder`` holding a
    ``nbgrader_config.py``, or None when ``folder`` holds one itself (it is a course root,
    or nbgrader's own configuration for it) or no folder above does.

    Raises
    ------
    NestedCoursesError
        When more than one folder above holds one.

    Parameters
    ----------
    folder : str or Path
        Where a command was started.
    ignore : str or Path, optional
        A configuration file that makes no course, wherever a copy of it lies (the one
        that calls this, ``jupyter-config/nbgrader_config.py``).

    Examples
    --------
    >>> import tempfile
    >>> course = Path(tempfile.mkdtemp())
    >>> _ = (course / CONFIG_FILE).write_text("c = get_config()\\n")
    >>> (course / "solutions" / "02-dense").mkdir(parents=True)
    >>> enclosing_course(course / "solutions" / "02-dense") == course
    True
    >>> enclosing_course(course) is None
    True
    >>> import shutil; shutil.rmtree(course)
    """
    shim = Path(ignore).read_bytes() if ignore is not None else None

    def is_config(candidate: Path) -> bool:
        try:
            return candidate.is_file() and candidate.read_bytes() != shim
        except OSError:  # unreadable: nbgrader could not read it either
            return False

    here = Path(os.path.abspath(folder))
    if is_config(here / CONFIG_FILE):
        return None
    courses = [above for above in here.parents if is_config(above / CONFIG_FILE)]
    if len(courses) > 1:
        from lstm_lib.prose import spoken_list

        raise NestedCoursesError(
            f"{here} lies inside {len(courses)} folders holding {CONFIG_FILE} "
            f"({spoken_list([str(course) for course in courses])}), and one inside a course "
            "may have come with a learner's submission: none is used. Start the command at "
            "the course root, or name the root on its command line."
        )
    return courses[0] if courses else None


def use_enclosing_course(config: Config, ignore: str | Path | None = None) -> Path | None:
    """Point nbgrader, started in a subfolder of a course, at that course's root.

    nbgrader reads a course's ``nbgrader_config.py`` only from the folder it is started in,
    so started in ``solutions/`` it read none, took that folder for the course and made a
    new, empty ``gradebook.db`` there. Setting ``CourseDirectory.root`` to the course found
    above (:func:`enclosing_course`) makes nbgrader read the course's configuration from
    there, as it does for a root set in any configuration file, so the command works as
    if started at the root (file names given on its command line are still read from the
    current folder). A root given on the command line still wins. Called by the
    environment's ``etc/jupyter/nbgrader_config.py`` (``jupyter-config/`` in the
    repository), which nbgrader reads wherever it is started.

    Parameters
    ----------
    config : Config
        That configuration file's ``get_config()``.
    ignore : str or Path, optional
        That file itself, which makes no course.

    Returns
    -------
    Path or None
        The course root used, or None where nothing changed.
    """
    from traitlets.config import Application

    # the nbgrader command being configured, which has read its command line by now
    app = Application.instance() if Application.initialized() else None
    if app is not None and "root" in app.cli_config.get("CourseDirectory", {}):
        return None  # the root named on the command line is the one used
    try:
        root = enclosing_course(os.getcwd(), ignore)
    except NestedCoursesError as exc:
        # nbgrader logs and passes over an Exception from a configuration file, then reads
        # the one where it started: only SystemExit stops it before that
        raise SystemExit(f"nbgrader: {exc}") from None
    if root is None:
        return None
    config.CourseDirectory.root = str(root)
    if app is not None:
        app.log.info(
            "%s has no %s: using the course at %s, as if started there",
            os.getcwd(),
            CONFIG_FILE,
            root,
        )
    return root


def _check_modes(modes: dict[str, Any]) -> None:
    """Raise a ``TraitError`` whose one line names the setting, the modes there are and the
    closest one, for the first value of ``modes`` (setting: mode) that is no check mode."""
    from lstm_lib.checks import CHECK_MODES

    for setting, mode in modes.items():
        if mode not in CHECK_MODES:
            *first, last = map(repr, CHECK_MODES)
            close = difflib.get_close_matches(str(mode).lower(), CHECK_MODES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TraitError(
                f"c.CourseLayout.{setting} is {mode!r}, which is not a check mode: set it to "
                f"{', '.join(first)} or {last}{hint}"
            )


#: The names nbgrader fills in ``CourseDirectory.directory_structure``.
_STRUCTURE_KEYS = ("nbgrader_step", "student_id", "assignment_id")


def _check_directory_structure(structure: str) -> None:
    """Raise a ``TraitError`` whose one line names ``c.CourseDirectory.directory_structure``
    and what is wrong with it, unless it names each of nbgrader's keys
    (:data:`_STRUCTURE_KEYS`) once and nothing else.

    nbgrader takes any string there. One without the student's key put every learner's
    submission in one folder, and ``lstm-grade`` then said the course had no such
    assignment; one with a misspelt key stopped it with a ``KeyError``.
    """
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(structure) if name is not None]
    except ValueError as exc:  # an unmatched brace
        problem = f"which is no format string ({exc})"
    else:
        unknown = [f"{{{name}}}" for name in dict.fromkeys(names) if name not in _STRUCTURE_KEYS]
        missing = [f"{{{key}}}" for key in _STRUCTURE_KEYS if key not in names]
        twice = [f"{{{key}}}" for key in _STRUCTURE_KEYS if names.count(key) > 1]
        if unknown:
            problem = f"whose {', '.join(unknown)} nbgrader does not fill"
        elif missing:
            problem = f"which lacks {', '.join(missing)}"
        elif twice:
            problem = f"which names {', '.join(twice)} more than once"
        else:
            return
    # lstm_lib only on refusal: a course whose own lstm_lib cannot be imported gets its layout
    from lstm_lib.prose import spoken_list

    keys = [f"{{{key}}}" for key in _STRUCTURE_KEYS]
    raise TraitError(
        f"c.CourseDirectory.directory_structure is {structure!r}, {problem}: it must name "
        f"each of {spoken_list(keys)} once, and nothing else, as nbgrader's default "
        f"{os.path.join(*keys)!r} does"
    )


#: The last layout :func:`layout_of` made: the configuration it was made from, what that
#: held of the layout's sections and the folder it was made in (a relative root is read
#: from there), and the layout.
_KEPT_LAYOUT: tuple[Config, Any, str, CourseLayout] | None = None


def layout_of(configurable: Any) -> CourseLayout:
    """The course's layout for ``configurable`` (a preprocessor, a converter): made from
    its configuration once, and made again only for another configuration, or one whose
    layout settings changed since.

    nbgrader makes the preprocessors again for each notebook, all with the command's one
    configuration object, and the grader's steps asked for the layout about eight times a
    notebook. The layout is read from the instructor's configuration alone, never from a
    submission, so keeping it cannot carry anything of one learner's work to another's.
    """
    global _KEPT_LAYOUT
    config = configurable.config
    # the sections a layout reads, as they are now: a change made in place is seen
    sections = copy.deepcopy([config.get(name) for name in ("CourseDirectory", "CourseLayout")])
    here = os.getcwd()
    kept = _KEPT_LAYOUT
    if kept is not None and kept[0] is config and kept[1] == sections and kept[2] == here:
        return kept[3]
    layout = CourseLayout(config=config)
    _KEPT_LAYOUT = (config, sections, here, layout)
    return layout


def _assignment_folders(folder: Path) -> list[str]:
    """The assignments in ``folder``: its sub-folders, but for hidden ones, which nbgrader
    does not take for assignments either (Jupyter's ``.ipynb_checkpoints``, made where a
    notebook is opened, would stop ``lstm-grade --all`` as an unknown assignment)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def collection_entry_beside(folder: str, marker: str) -> str:
    """A new path beside the submission folder ``folder`` for what a collection of it
    writes there (``marker``: :data:`COLLECTING_MARKER` or :data:`REPLACED_MARKER`)."""
    parent, name = os.path.split(folder)
    return os.path.join(parent, f".{name}{marker}{secrets.token_hex(8)}")


def collection_entries(folder: str | Path) -> dict[str, list[os.DirEntry[str]]]:
    """What collections of the submission folder ``folder`` wrote beside it and left there,
    by marker (:data:`COLLECTING_MARKER`, :data:`REPLACED_MARKER`, each a key).

    Only a collection killed outright between its steps leaves any: a ``REPLACED_MARKER``
    entry with no ``folder`` beside it is the submission collected before, which that
    collection had renamed aside to put a new one in its place.

    Raises
    ------
    OSError
        When the folder ``folder`` is in cannot be listed (missing, or not a folder).
    """
    parent, name = os.path.split(os.fspath(folder))
    found: dict[str, list[os.DirEntry[str]]] = {COLLECTING_MARKER: [], REPLACED_MARKER: []}
    with os.scandir(parent or ".") as entries:
        for entry in entries:
            match = _COLLECTION_ENTRY.fullmatch(entry.name)
            if match and match["owner"] == name:
                found[match["marker"]].append(entry)
    return found


def set_aside_submissions(folder: str | Path) -> list[str]:
    """Where the submission collected before in ``folder`` is, when a collection killed
    outright as it replaced it left it renamed aside, and nothing in its place: the paths
    of such entries beside a missing ``folder`` (newest first), else none."""
    if os.path.lexists(folder):
        return []
    try:
        aside = collection_entries(folder)[REPLACED_MARKER]
    except OSError:
        return []
    return [entry.path for entry in sorted(aside, key=_changed, reverse=True)]


def _changed(entry: os.DirEntry[str]) -> float:
    """When ``entry`` (not followed) last changed; 0 if it cannot be told (gone since)."""
    try:
        return entry.stat(follow_symlinks=False).st_ctime
    except OSError:
        return 0.0


def _fixed_part(pattern: Path) -> Path:
    """The folder a path pattern's matches are listed from: its parts before the first
    holding a wildcard."""
    fixed = Path(pattern.anchor)
    for part in pattern.parts[1 if pattern.anchor else 0 :]:
        if any(wildcard in part for wildcard in "*?["):
            break
        fixed /= part
    return fixed


class CourseLayout(LoggingConfigurable):
    """The course's folders, as nbgrader's ``CourseDirectory`` and this config set them.

    Parameters
    ----------
    config
        The loaded course configuration (see :meth:`from_root`).
    """

    references_directory = Unicode(
        "references",
        help="Folder, under the course root, of the recorded references "
        "(``<assignment>.json``, written by ``lstm-record``).",
    ).tag(config=True)
    reports_directory = Unicode(
        "grading_reports",
        help="Folder, under the course root, of the grader's per-notebook reports; "
        "the grading kernel never sees it.",
    ).tag(config=True)

    check_mode = Unicode(
        "practice",
        help="How the student version's check cells behave, chosen when it is generated: "
        "'practice' (a check says right or wrong and names the mistake, the Keras value "
        "only on request after an attempt) or 'graded' (a check tests the answer's form "
        "only; the value and its explanation come back in the feedback). "
        "The grade never depends on the mode.",
    ).tag(config=True)
    check_modes = Dict(
        help="Per-assignment exceptions to ``check_mode``: ``{assignment: mode}``.",
    ).tag(config=True)

    # The modes are lstm_lib's (the kernel side owns them); it is imported only here, when a
    # configuration is checked, so that a course whose own copy of lstm_lib cannot be
    # imported still lets the class command start and report a grader error.
    @validate("check_mode")
    def _known_mode(self, proposal: Any) -> str:
        _check_modes({"check_mode": proposal.value})
        return proposal.value

    @validate("check_modes")
    def _known_modes(self, proposal: Any) -> dict[str, str]:
        _check_modes({f"check_modes[{name!r}]": mode for name, mode in proposal.value.items()})
        return proposal.value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from nbgrader.coursedir import CourseDirectory

        self.coursedir = CourseDirectory(config=self.config)
        _check_directory_structure(self.coursedir.directory_structure)

    @classmethod
    def from_root(cls, root: str | Path) -> CourseLayout:
        """The layout of the course whose ``nbgrader_config.py`` is in ``root``
        (:func:`rooted_config`); :func:`lstm_grader.course_settings.checked_layout` makes
        it with every setting of the course's own checked."""
        return cls(config=rooted_config(root))

    def mode(self, assignment: str) -> str:
        """The check mode ``assignment``'s student version is generated (and its feedback
        written) in: ``"practice"`` or ``"graded"``."""
        return self.check_modes.get(assignment, self.check_mode)

    # ------------------------------------------------------------------ folders
    @property
    def root(self) -> Path:
        """The course root."""
        return Path(self.coursedir.root)

    @property
    def db_url(self) -> str:
        """The gradebook's URL."""
        return self.coursedir.db_url

    def _step(self, step: str, student: str, assignment: str) -> Path:
        return Path(os.path.normpath(self.coursedir.format_path(step, student, assignment)))

    def source(self, assignment: str) -> Path:
        """The instructor's version of an assignment (``solutions/<assignment>``)."""
        return self._step(self.coursedir.source_directory, ".", assignment)

    def release(self, assignment: str) -> Path:
        """The generated student version (``exercises/<assignment>``)."""
        return self._step(self.coursedir.release_directory, ".", assignment)

    def submitted(self, student: str, assignment: str) -> Path:
        """A student's submitted folder (``submitted/<student>/<assignment>``)."""
        return self._step(self.coursedir.submitted_directory, student, assignment)

    def autograded(self, student: str, assignment: str) -> Path:
        """nbgrader's graded copy of a submission."""
        return self._step(self.coursedir.autograded_directory, student, assignment)

    def feedback(self, student: str, assignment: str) -> Path:
        """The feedback nbgrader generates for a submission."""
        return self._step(self.coursedir.feedback_directory, student, assignment)

    def references_file(self, assignment: str) -> Path:
        """The recorded references of an assignment (``references/<assignment>.json``)."""
        return self.root / self.references_directory / f"{assignment}.json"

    def reports(self, student: str, assignment: str) -> Path:
        """The folder of a submission's grading reports."""
        return self.root / self.reports_directory / student / assignment

    def report_file(self, student: str, assignment: str, notebook: str) -> Path:
        """The grading report of one submitted notebook."""
        return self.reports(student, assignment) / f"{notebook}.json"

    # ------------------------------------------------------------------ listings
    def released_assignments(self) -> list[str]:
        """Every assignment with a generated student version."""
        return _assignment_folders(self.release("*").parent)

    def source_assignments(self) -> list[str]:
        """Every assignment with an instructor's version."""
        return _assignment_folders(self.source("*").parent)

    def notebooks(self, assignment: str) -> list[str]:
        """The notebooks (names without ``.ipynb``) an assignment's release consists of."""
        return sorted(p.stem for p in self.release(assignment).glob("*.ipynb"))

    def submissions(self, assignment: str) -> list[tuple[str, Path]]:
        """``(student, folder)`` for everything submitted under an assignment's name, by
        student: folders, links, and a file named as the assignment inside a student's
        folder (which the class command refuses, saying why, rather than skipping in
        silence). Where the layout puts the student's folder last, a file there is not
        anyone's submission and is left out.

        A folder whose name starts with ``.`` is listed too (``glob`` leaves such names
        out by default): its name is no student id, so the class command refuses it with
        the other names it cannot grade, and the instructor learns of it rather than
        finding a learner with no row. So is the place of an assignment inside a
        student's folder this process may not enter: whether it holds anything cannot be
        seen, and ``glob`` passed over it, so the learner read as having handed nothing in.
        So is the place of a submission that a collection killed outright left renamed
        aside (:func:`set_aside_submissions`), which the class command reports; what else
        collections leave beside a student's folder is no student's and is left out.

        Raises
        ------
        OSError
            When the folder the students' folders are listed from (``submitted/``) is
            there but cannot be listed: its mode, or a file in its place. A listing by
            pattern passes over it in silence, and every learner read as having handed in
            nothing.
        """
        pattern = self.coursedir.format_path(
            self.coursedir.submitted_directory, "*", glob.escape(assignment)
        )
        parse = re.compile(
            self.coursedir.format_path(
                self.coursedir.submitted_directory,
                "(?P<student>[^/]+)",
                re.escape(assignment),
                escape=True,
            )
            + "$"
        )
        student_folder_is_last = self.coursedir.directory_structure.rstrip("/").endswith(
            "{student_id}"
        )
        students_folder = _fixed_part(Path(pattern))
        students: list[str] = []
        if os.path.lexists(students_folder):
            with os.scandir(students_folder) as entries:  # raises what glob keeps quiet
                if not student_folder_is_last:  # else glob lists every student's folder
                    students = [entry.name for entry in entries if not entry.is_file()]
        found = []
        for path in glob.glob(pattern, include_hidden=True):
            match = parse.match(path)
            if not match:
                continue
            if student_folder_is_last and not (os.path.isdir(path) or os.path.islink(path)):
                continue
            student = match.group("student")
            if student_folder_is_last and (leftover := _COLLECTION_ENTRY.fullmatch(student)):
                students.append(leftover["owner"])
                continue
            found.append((student, Path(path)))
        listed = {path for _, path in found}
        for student in dict.fromkeys(students):  # an owner of two leftovers, once
            path = self.coursedir.format_path(
                self.coursedir.submitted_directory, student, assignment
            )
            if Path(path) in listed or not parse.match(path):
                continue
            try:
                os.lstat(path)
            except PermissionError:
                found.append((student, Path(path)))
            except OSError:  # nothing submitted there, unless a collection set it aside
                if set_aside_submissions(path):
                    found.append((student, Path(path)))
        return sorted(found)
