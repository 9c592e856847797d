"""lstm_grader.course: the course's folders come from its nbgrader_config.py, nowhere else."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis
import pytest
from conftest import ROOT, Course, write_file
from hypothesis import strategies as st

from lstm_grader.course import (
    COLLECTING_MARKER,
    REPLACED_MARKER,
    CourseLayout,
    collection_entry_beside,
    set_aside_submissions,
)

_MOVED = """\
c = get_config()
c.CourseDirectory.source_directory = "instructor"
c.CourseDirectory.release_directory = "handout"
c.CourseDirectory.submitted_directory = "inbox"
c.CourseDirectory.autograded_directory = "marked"
c.CourseDirectory.feedback_directory = "returned"
c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"
c.CourseLayout.references_directory = "recorded"
c.CourseLayout.reports_directory = "audit"
"""


def test_the_repository_layout_is_the_one_its_config_sets() -> None:
    """Does the course's own config put the instructor's notebooks in solutions/, the
    student versions in exercises/ and the references in references/?"""
    layout = CourseLayout.from_root(ROOT)
    assert layout.root == ROOT
    assert layout.source("04-lstm") == ROOT / "solutions" / "04-lstm"
    assert layout.release("04-lstm") == ROOT / "exercises" / "04-lstm"
    assert layout.references_file("04-lstm") == ROOT / "references" / "04-lstm.json"
    assert layout.submitted("ada", "04-lstm") == ROOT / "submitted" / "ada" / "04-lstm"
    assert layout.notebooks("04-lstm") == ["04-lstm"]
    assert "04-lstm" in layout.released_assignments()
    assert layout.released_assignments() == layout.source_assignments()


def test_every_folder_follows_a_moved_layout(tmp_path: Path) -> None:
    """With every folder renamed and the student/assignment order swapped in the config,
    does each question about where a file lives follow the config?"""
    write_file(tmp_path / "nbgrader_config.py", _MOVED)
    layout = CourseLayout.from_root(tmp_path)
    assert layout.source("a1") == tmp_path / "instructor" / "a1"
    assert layout.release("a1") == tmp_path / "handout" / "a1"
    assert layout.submitted("ada", "a1") == tmp_path / "inbox" / "a1" / "ada"
    assert layout.autograded("ada", "a1") == tmp_path / "marked" / "a1" / "ada"
    assert layout.feedback("ada", "a1") == tmp_path / "returned" / "a1" / "ada"
    assert layout.references_file("a1") == tmp_path / "recorded" / "a1.json"
    assert layout.report_file("ada", "a1", "nb") == tmp_path / "audit" / "ada" / "a1" / "nb.json"


def test_submissions_are_listed_under_a_moved_layout(tmp_path: Path) -> None:
    """Are the submitted folders of one assignment found, by student, whatever the
    directory structure, ignoring files and other assignments?"""
    write_file(tmp_path / "nbgrader_config.py", _MOVED)
    write_file(tmp_path / "inbox" / "a1" / "bob" / "a1.ipynb")
    write_file(tmp_path / "inbox" / "a1" / "ada" / "a1.ipynb")
    write_file(tmp_path / "inbox" / "a1" / "notes.txt")
    write_file(tmp_path / "inbox" / "a2" / "cy" / "a2.ipynb")
    write_file(tmp_path / "handout" / "a1" / "a1.ipynb")
    write_file(tmp_path / "handout" / "a2" / "a2.ipynb")
    # Jupyter's checkpoints, left where a notebook was opened, are no assignment
    write_file(tmp_path / "handout" / ".ipynb_checkpoints" / "a1-checkpoint.ipynb")
    write_file(tmp_path / "instructor" / ".ipynb_checkpoints" / "a1-checkpoint.ipynb")
    write_file(tmp_path / "instructor" / "a1" / "a1.ipynb")
    layout = CourseLayout.from_root(tmp_path)
    assert layout.source_assignments() == ["a1"]
    assert layout.submissions("a1") == [
        ("ada", tmp_path / "inbox" / "a1" / "ada"),
        ("bob", tmp_path / "inbox" / "a1" / "bob"),
    ]
    assert layout.released_assignments() == ["a1", "a2"]
    assert layout.submissions("a3") == []


def test_a_file_in_a_submissions_place_is_listed_only_inside_a_students_folder(
    tmp_path: Path,
) -> None:
    """Is a file named as the assignment inside a student's folder listed (the class
    command refuses it, saying why), while a stray file where a layout puts student
    folders last is nobody's submission?"""
    write_file(tmp_path / "nbgrader_config.py", "c = get_config()\n")
    write_file(tmp_path / "submitted" / "ada" / "a1")
    write_file(tmp_path / "submitted" / "a1")
    assert CourseLayout.from_root(tmp_path).submissions("a1") == [
        ("ada", tmp_path / "submitted" / "ada" / "a1")
    ]


def test_a_student_folder_named_with_a_leading_dot_is_listed(tmp_path: Path) -> None:
    """``glob`` leaves names starting with ``.`` out: is ``submitted/.alice/a1`` listed
    (the class command then refuses it as no student id, saying why) rather than left out
    in silence, under both orders of student and assignment folders?"""
    write_file(tmp_path / "nbgrader_config.py", "c = get_config()\n")
    write_file(tmp_path / "submitted" / ".alice" / "a1" / "a1.ipynb")
    write_file(tmp_path / "submitted" / "bob" / "a1" / "a1.ipynb")
    assert CourseLayout.from_root(tmp_path).submissions("a1") == [
        (".alice", tmp_path / "submitted" / ".alice" / "a1"),
        ("bob", tmp_path / "submitted" / "bob" / "a1"),
    ]
    moved = tmp_path / "moved"
    write_file(moved / "nbgrader_config.py", _MOVED)
    write_file(moved / "inbox" / "a1" / ".alice" / "a1.ipynb")
    assert CourseLayout.from_root(moved).submissions("a1") == [
        (".alice", moved / "inbox" / "a1" / ".alice")
    ]


@hypothesis.settings(max_examples=12, deadline=None)
@hypothesis.given(order=st.permutations(["{nbgrader_step}", "{student_id}", "{assignment_id}"]))
def test_a_submission_a_killed_collection_set_aside_is_listed_and_its_copies_are_not(
    order: list[str],
) -> None:
    """A collection killed between renaming a learner's collected folder aside and its new
    one into place leaves the learner without a folder: grading read them as having handed
    nothing in. In any order of the layout's folders, is such a learner listed at their
    folder's place; is a learner with only a copy never put in place not listed; is one
    whose folder is there, beside leftovers, listed once; and is no leftover listed as a
    student of its own?"""
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        write_file(
            root / "nbgrader_config.py",
            f"c = get_config()\nc.CourseDirectory.directory_structure = {'/'.join(order)!r}\n",
        )
        layout = CourseLayout.from_root(root)
        ada, bob, cy = (layout.submitted(student, "a1") for student in ("ada", "bob", "cy"))
        ada_aside = collection_entry_beside(str(ada), REPLACED_MARKER)
        write_file(Path(ada_aside) / "a1.ipynb")
        # and the new copy the killed collection never put in place
        write_file(Path(collection_entry_beside(str(ada), COLLECTING_MARKER)) / "a1.ipynb")
        write_file(Path(collection_entry_beside(str(bob), COLLECTING_MARKER)) / "a1.ipynb")
        write_file(cy / "a1.ipynb")
        for marker in (COLLECTING_MARKER, REPLACED_MARKER):
            write_file(Path(collection_entry_beside(str(cy), marker)) / "a1.ipynb")
        write_file(layout.submitted("dee", "a2") / "a2.ipynb")

        assert layout.submissions("a1") == [("ada", ada), ("cy", cy)]
        assert set_aside_submissions(ada) == [ada_aside]
        assert set_aside_submissions(bob) == set_aside_submissions(cy) == []


def test_assignment_names_are_not_patterns(tmp_path: Path) -> None:
    """Is an assignment id with glob or regex characters matched literally?"""
    write_file(tmp_path / "nbgrader_config.py", "c = get_config()\n")
    write_file(tmp_path / "submitted" / "ada" / "a1" / "a1.ipynb")
    write_file(tmp_path / "submitted" / "ada" / "a[1]" / "x.ipynb")
    layout = CourseLayout.from_root(tmp_path)
    assert layout.submissions("a?") == []
    assert layout.submissions("a[1]") == [("ada", tmp_path / "submitted" / "ada" / "a[1]")]


def test_a_config_without_a_root_is_rooted_where_it_was_found(tmp_path: Path) -> None:
    """Does a config that does not set CourseDirectory.root still place the folders under
    its own folder, not under the current directory?"""
    write_file(tmp_path / "nbgrader_config.py", "c = get_config()\n")
    assert CourseLayout.from_root(tmp_path).release("a1") == tmp_path / "release" / "a1"


def test_check_modes_are_checked_and_chosen_per_assignment() -> None:
    """Is a mistyped check mode refused, and does an assignment's own mode win over the
    course's?"""
    from traitlets import TraitError
    from traitlets.config import Config

    config = Config()
    config.CourseLayout.check_mode = "graded"
    config.CourseLayout.check_modes = {"05-return-flags": "practice"}
    layout = CourseLayout(config=config)
    assert layout.mode("05-return-flags") == "practice"
    assert layout.mode("04-lstm") == "graded"
    for bad in ({"check_mode": "exam"}, {"check_modes": {"04-lstm": "Graded"}}):
        config = Config()
        for key, value in bad.items():
            setattr(config.CourseLayout, key, value)
        with pytest.raises(TraitError, match="practice"):
            CourseLayout(config=config)


@hypothesis.given(
    order=st.permutations(["{nbgrader_step}", "{student_id}", "{assignment_id}"]),
    dropped=st.sampled_from(["", "{nbgrader_step}", "{student_id}", "{assignment_id}"]),
    fixed=st.sampled_from([[], ["term-1"]]),
)
def test_a_directory_structure_must_name_each_of_nbgraders_keys_once(
    order: list[str], dropped: str, fixed: list[str]
) -> None:
    """nbgrader takes any string as its directory structure. One without the student's key
    put every learner in one folder, and lstm-grade said the course had no such
    assignment. In any order, with or without a fixed folder among them, is a structure
    naming each key once taken, and one lacking a key refused in one line naming it?"""
    from traitlets import TraitError
    from traitlets.config import Config

    config = Config()
    structure = "/".join(fixed + [key for key in order if key != dropped])
    config.CourseDirectory.directory_structure = structure
    if not dropped:
        CourseLayout(config=config)
        return
    with pytest.raises(TraitError) as refused:
        CourseLayout(config=config)
    line = str(refused.value)
    assert line.startswith(f"c.CourseDirectory.directory_structure is {structure!r}, ")
    assert f"which lacks {dropped}:" in line and "\n" not in line


@pytest.mark.parametrize(
    ("structure", "says"),
    [
        ("{nbgrader_step}/{student}/{assignment_id}", "whose {student} nbgrader does not fill"),
        ("{nbgrader_step}/{}/{student_id}/{assignment_id}", "whose {} nbgrader does not fill"),
        ("{nbgrader_step}/{student_id}/{assignment_id}/{student_id}", "names {student_id} more"),
        ("{nbgrader_step}/{student_id/{assignment_id}", "which is no format string"),
        ("{nbgrader_step}/{student_id}}/{assignment_id}", "which is no format string"),
    ],
)
def test_a_directory_structure_nbgrader_cannot_fill_is_refused_in_one_line(
    structure: str, says: str
) -> None:
    """A misspelt key stopped lstm-grade with a bare ``KeyError``, and an unmatched brace
    with a bare ``ValueError`` from ``str.format``, each a "grader error before grading
    began". Is each refused in one line saying what is wrong?"""
    from traitlets import TraitError
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.directory_structure = structure
    with pytest.raises(TraitError) as refused:
        CourseLayout(config=config)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_the_layout_loads_without_the_course_library() -> None:
    """Can the class command read a course's layout before lstm_lib is imported, so a course
    whose own copy of lstm_lib is broken still gets a grader error, not a traceback?"""
    import subprocess
    import sys

    probe = "import sys, lstm_grader.course; print('lstm_lib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_subfolder_belongs_to_the_course_above_it(tmp_path: Path) -> None:
    """Is a folder inside a course taken for that course, the course's root and a folder
    outside any course left to nbgrader's own rules, and a copy of the environment's
    configuration file (which makes no course) passed over?"""
    from lstm_grader.course import enclosing_course

    course = tmp_path / "course"
    inside = course / "solutions" / "02-dense"
    inside.mkdir(parents=True)
    write_file(course / "nbgrader_config.py", "c = get_config()\n")
    assert enclosing_course(inside) == course
    assert enclosing_course(course / "solutions") == course
    assert enclosing_course(course) is None
    assert enclosing_course(tmp_path) is None
    shim = ROOT / "jupyter-config" / "nbgrader_config.py"
    copy = write_file(inside / "nbgrader_config.py", shim.read_text(encoding="utf-8"))
    assert enclosing_course(inside, ignore=shim) == course
    copy.unlink()


def test_a_folder_inside_two_courses_belongs_to_neither(tmp_path: Path) -> None:
    """A learner's submission is copied whole into the course, a nbgrader_config.py too:
    is a folder below it given no course (so neither file is run), with a message naming
    both and the way out?"""
    from lstm_grader.course import NestedCoursesError, enclosing_course

    course = tmp_path / "course"
    submission = course / "submitted" / "mallory" / "02-dense"
    (submission / "data").mkdir(parents=True)
    write_file(course / "nbgrader_config.py", "c = get_config()\n")
    write_file(submission / "nbgrader_config.py", "c = get_config()\n")
    with pytest.raises(NestedCoursesError) as raised:
        enclosing_course(submission / "data")
    message = str(raised.value)
    assert str(course) in message and str(submission) in message
    assert "Start the command at the course root" in message
    # the course's own subfolders are not below the learner's file
    assert enclosing_course(course / "submitted" / "mallory") == course


@pytest.mark.slow
def test_a_learners_configuration_is_not_run_from_a_folder_below_it(tmp_path: Path) -> None:
    """The environment's configuration points nbgrader, started in a subfolder, at the
    folder above holding a nbgrader_config.py. Started below a submission that carries its
    own, does neither nbgrader nor lstm-grade run it (which would run the learner's code as
    the instructor), each stopping with the message instead?"""
    import sys

    from conftest import copy_course

    (tmp_path / "course").mkdir()
    course = copy_course(tmp_path / "course", ["02-dense"])
    submission = course.root / "submitted" / "mallory" / "02-dense"
    below = submission / "checkpoints"
    below.mkdir(parents=True)
    ran = tmp_path / "ran"
    write_file(
        submission / "nbgrader_config.py",
        f"open({str(ran)!r}, 'w').write('run')\nc = get_config()\n",
    )
    started_below = Course(below)  # Course.run starts its commands in its root
    for command in (
        ["nbgrader", "db", "student", "list"],
        [str(Path(sys.executable).parent / "lstm-grade"), "--all"],
    ):
        result = started_below.run(*command, check=False)
        assert result.returncode != 0, command
        assert "may have come with a learner's submission" in result.stderr, result.stderr
        assert not ran.exists(), f"{command[0]} ran the learner's configuration"
    assert not (below / "gradebook.db").exists()


@pytest.mark.slow
def test_nbgrader_started_in_a_subfolder_works_on_the_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbgrader read the course's config only from the folder it was started in: started in
    solutions/ it made a new, empty gradebook there. Does the environment's configuration
    (installed by `make install`) point it at the course's gradebook instead, saying so in
    one line, while a command started at the root works as before, and does lstm-grade,
    started in a subfolder, grade that course?"""
    import sys

    from conftest import copy_course
    from nbgrader.api import Gradebook

    from lstm_grader import classgrade, sandbox

    installed = Path(sys.prefix) / "etc" / "jupyter" / "nbgrader_config.py"
    shim = ROOT / "jupyter-config" / "nbgrader_config.py"
    assert installed.is_file(), f"{installed} is missing: run `make install`"
    assert installed.read_bytes() == shim.read_bytes(), f"{installed} is stale: `make install`"

    (tmp_path / "course").mkdir()
    course = copy_course(tmp_path / "course", ["02-dense"])
    course.run("nbgrader", "db", "student", "add", "bob")  # at the root, as before
    inside = course.root / "solutions" / "02-dense"
    started_inside = Course(inside)  # Course.run starts its commands in its root
    result = started_inside.run("nbgrader", "db", "student", "add", "ada")
    said = result.stdout + result.stderr
    assert f"{inside} has no nbgrader_config.py: using the course at {course.root}" in said
    assert not list(course.root.rglob("*/gradebook.db")), "a gradebook beside the command"
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        assert sorted(s.id for s in gradebook.students) == ["ada", "bob"]
    # the export the course's config names goes to the root too
    started_inside.run("nbgrader", "export")
    assert (course.root / "grades-nbgrader.csv").is_file()
    assert not (inside / "grades-nbgrader.csv").exists()
    # a root named on the command line is used as named, and nothing claims otherwise
    result = started_inside.run(
        "nbgrader", "db", "student", "list", f"--CourseDirectory.root={inside}"
    )
    assert "using the course at" not in result.stdout + result.stderr
    assert "There are 0 students" in result.stdout, result.stdout

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    monkeypatch.chdir(inside)
    status = classgrade.main(["--all", "--process-per-submission", "--no-progress"])
    assert status == 0
    assert (course.root / "grades.csv").is_file() and not (inside / "grades.csv").exists()


def test_the_layout_is_made_once_per_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbgrader makes each preprocessor again for every notebook, all with the command's
    one configuration, and the grader's steps asked for the layout about eight times a
    notebook. Is one layout made for every configurable of one configuration, and a new
    one for another configuration, a layout setting changed in place, or another folder
    when the root is left to the current folder?"""
    from traitlets.config import Config, LoggingConfigurable

    from lstm_grader import course

    made: list[object] = []
    original = CourseLayout.__init__

    def counted(self, **kwargs) -> None:
        made.append(self)
        original(self, **kwargs)

    monkeypatch.setattr(CourseLayout, "__init__", counted)
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseLayout.check_modes = {"04-lstm": "graded"}
    steps = [LoggingConfigurable(config=config) for _ in range(8)]
    layouts = {id(course.layout_of(step)) for step in steps for _ in range(2)}
    assert len(layouts) == 1 and len(made) == 1
    assert course.layout_of(steps[0]).mode("04-lstm") == "graded"

    config.CourseLayout.check_modes = {"04-lstm": "practice"}  # changed in place
    assert course.layout_of(steps[0]).mode("04-lstm") == "practice"
    other = Config()
    other.CourseDirectory.root = str(tmp_path / "other")
    assert course.layout_of(LoggingConfigurable(config=other)).root == tmp_path / "other"
    assert len(made) == 3

    unrooted = LoggingConfigurable(config=Config())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert course.layout_of(unrooted).root == tmp_path / "a"
    monkeypatch.chdir(tmp_path / "b")
    assert course.layout_of(unrooted).root == tmp_path / "b"
