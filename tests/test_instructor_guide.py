"""The README's instructor guide, run command by command in a throwaway course.

The commands are read from README.md itself (every fenced ``bash`` block between the
``instructors-start`` and ``instructors-end`` markers), so the guide as written is what is
tested. Between commands the test plays the learners the guide assumes: after
``release_assignment`` two learners fetch and submit through the exchange from their own
folders; before ``zip_collect`` a learning-management system's zip download is placed in
``downloaded/<assignment>/archive/``. After each command it checks what the guide promises.
Every problem is collected, so one run lists all the places where the guide is wrong.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, Course, classic_mistakes, make_course

from lstm_grader.references import load_references
from lstm_grader.synthetic import answered
from lstm_lib.answers import from_plain, to_plain
from lstm_lib.verdicts import verdict

START, END = "<!-- instructors-start -->", "<!-- instructors-end -->"
ASSIGNMENT_ID = re.compile(r"\b\d\d-[a-z0-9]+(?:-[a-z0-9]+)*\b")

#: The learners: who submits how, and with which classic mistake (None: all correct;
#: TAMPERED: all correct, but the locked check cell of :data:`TAMPERED_CELL` edited).
TAMPERED = "tampered"
TAMPERED_CELL = "q3"
EXCHANGE_LEARNERS = {"alice": None, "bob": "q1", "dave": TAMPERED}
#: Learners in each learning-management system's zip download, by LMS, with the file name
#: that LMS gives their upload (Canvas names the student by its numeric user id).
ZIP_LEARNERS = {"blackboard": {"carol_ann": "q2"}, "canvas": {"4711": "q4"}}
LMS_FILE_NAMES = {
    "blackboard": "{assignment}_{student}_attempt_2026-01-30-15-00-00_{notebook}.ipynb",
    "canvas": "doeerin_{student}_981234_{notebook}.ipynb",
}
ALL_ZIP_LEARNERS = {s: m for learners in ZIP_LEARNERS.values() for s, m in learners.items()}


def guide_commands(readme: str) -> list[str]:
    """The shell commands of the guide's ``bash`` blocks, in order, comments dropped."""
    assert START in readme and END in readme, "the README lost its instructor-guide markers"
    guide = readme.split(START, 1)[1].split(END, 1)[0]
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", guide, flags=re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


def test_guide_commands_are_read_from_the_readme() -> None:
    """Does the parser find the guide's commands (and only the guide's) in README.md?"""
    commands = guide_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert commands, "no bash block between the instructor markers"
    assert not any(c.startswith("make ") for c in commands), "picked up a block outside"
    sample = f"x\n{START}\n```bash\nnbgrader  collect a1   # later\n\nlstm-grade \\\n  --all\n```\n"
    assert guide_commands(sample + f"{END}\n```bash\nmake book\n```\n") == [
        "nbgrader collect a1",
        "lstm-grade --all",
    ]


class Guide:
    """A throwaway course, its learners and the problems found while following the guide."""

    def __init__(self, course: Course, assignment: str, home: Path) -> None:
        self.course = course
        self.root = course.root
        self.assignment = assignment
        self.home = home
        self.problems: list[str] = []
        self.learners = home.parent / "learners"
        config = _load_config(self.root)
        self.course_id = config.CourseDirectory.course_id
        self.exchange = Path(config.Exchange.root)
        self.release = course.release(assignment)
        self.source = course.source(assignment)
        self.full = sum(_points(c) for c in self.release.cells)
        self.mistakes = classic_mistakes(assignment)
        self.graded_by_hand = False

    # ------------------------------------------------------------------ running things
    def env(self) -> dict[str, str]:
        """The environment the guide assumes: .venv activated, no stray nbgrader settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
        bin_dir = Path(sys.executable).parent
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
        env["HOME"] = str(self.home)  # no ~/.jupyter/nbgrader_config.py of the machine
        return env

    def shell(self, command: str, cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess:
        return subprocess.run(
            command,
            shell=True,
            executable="/bin/bash",
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def check(self, what: str, test: Callable[[], None]) -> None:
        """Run a check; record its failure as a problem and carry on with the guide."""
        try:
            test()
        except AssertionError as exc:
            self.problem(f"{what}: {str(exc).split(chr(10) + 'assert ')[0]}")

    # ------------------------------------------------------------------ learners
    def notebook_for(self, mistake: str | None) -> nbformat.NotebookNode:
        if mistake == TAMPERED:
            notebook = answered(self.release, self.source)
            cell = next(c for c in notebook.cells if _grade_id(c) == TAMPERED_CELL)
            cell.source = '"""checked my way"""\nprint("trust me")\n'
            return notebook
        if mistake is None:
            return answered(self.release, self.source)
        wrong = self.mistakes[mistake]
        return answered(self.release, self.source, {wrong["cell"]: wrong["code"]})

    def expected_score(self, mistake: str | None) -> float:
        if mistake is None or (mistake == TAMPERED and self.graded_by_hand):
            return self.full
        cells = self.release.cells
        if mistake == TAMPERED:
            return self.full - next(_points(c) for c in cells if _grade_id(c) == TAMPERED_CELL)
        cell = self.mistakes[mistake]["cell"]
        start = next(i for i, c in enumerate(cells) if _grade_id(c) == cell)
        points = next(_points(c) for c in cells[start + 1 :] if _points(c))
        return round(self.full - points * (1 - self.earned_share(mistake)), 2)

    def earned_share(self, mistake: str) -> float:
        """The share of its question a classic mistake still earns (the right parts of a
        list of shapes), judged in this process as the grader judges it."""
        namespace: dict = {}
        exec(self.mistakes[mistake]["code"], namespace)  # test data written by the course team
        ref = load_references(ROOT / "references", self.assignment)[mistake]
        answer = from_plain(to_plain(namespace[f"answer_{mistake}"]))
        return verdict(ref.kind, answer, ref.expected, ref.context, ref.mistakes).earned

    def learner_command(self, student: str, *args: str) -> subprocess.CompletedProcess:
        """``nbgrader <args>`` as the learner, from their own folder, through the exchange."""
        folder = self.learners / student
        folder.mkdir(parents=True, exist_ok=True)
        command = shlex.join(
            [
                "nbgrader",
                *args,
                self.assignment,
                "--course",
                self.course_id,
                f"--Exchange.root={self.exchange}",
                "--student",
                student,
            ]
        )
        result = self.shell(command, cwd=folder, timeout=300)
        assert result.returncode == 0, f"learner {student}: {command} failed:\n{result.stderr}"
        return result

    def learners_submit_through_the_exchange(self) -> None:
        for student, mistake in EXCHANGE_LEARNERS.items():
            self.learner_command(student, "fetch_assignment")
            fetched = self.learners / student / self.assignment / f"{self.assignment}.ipynb"
            assert fetched.exists(), f"{student} fetched nothing"
            nbformat.write(self.notebook_for(mistake), fetched)
            self.learner_command(student, "submit")

    def lms_zip_download(self, lms: str) -> None:
        """The LMS's download, alone in ``downloaded/<assignment>/archive/``."""
        archive = self.root / "downloaded" / self.assignment / "archive"
        shutil.rmtree(archive.parent, ignore_errors=True)
        archive.mkdir(parents=True)
        with zipfile.ZipFile(archive / f"{self.assignment}-submissions.zip", "w") as bundle:
            for student, mistake in ZIP_LEARNERS[lms].items():
                name = LMS_FILE_NAMES[lms].format(
                    assignment=self.assignment, student=student, notebook=self.assignment
                )
                bundle.writestr(name, nbformat.writes(self.notebook_for(mistake)))

    def grade_by_hand(self) -> None:
        """What the instructor does in the formgrader for the flagged learner: full marks
        for the cell they changed (the formgrader's score box stores exactly this)."""
        from nbgrader.api import Gradebook

        url = _load_config(self.root).CourseDirectory.db_url
        with Gradebook(url) as gradebook:
            notebook = gradebook.find_submission_notebook(self.assignment, self.assignment, "dave")
            assert notebook.flagged, "the flagged learner is not flagged in the formgrader"
            waiting = sorted(g.name for g in notebook.grades if g.needs_manual_grade)
            assert waiting == [TAMPERED_CELL], f"cells awaiting the instructor: {waiting}"
            grade = gradebook.find_grade(TAMPERED_CELL, self.assignment, self.assignment, "dave")
            grade.manual_score = grade.max_score
            grade.needs_manual_grade = False
            gradebook.db.commit()
        self.graded_by_hand = True

    # ------------------------------------------------------------------ what the guide promises
    def submitted(self) -> list[str]:
        folder = self.root / "submitted"
        return sorted(p.name for p in folder.iterdir() if (p / self.assignment).is_dir())

    def expect_submitted(self, students: dict[str, str | None], how: str) -> None:
        notebook = f"{self.assignment}.ipynb"
        missing = [
            s
            for s in students
            if not (self.root / "submitted" / s / self.assignment / notebook).exists()
        ]
        assert not missing, f"{missing} not in submitted/<student>/{self.assignment}/ after {how}"

    def expected_grades(self) -> dict[str, tuple[str, float]]:
        learners = {**EXCHANGE_LEARNERS, **ALL_ZIP_LEARNERS}
        status = {TAMPERED: "manually-graded" if self.graded_by_hand else "flagged"}
        return {
            s: (status.get(learners[s], "graded"), self.expected_score(learners[s]))
            for s in self.submitted()
            if s in learners
        }

    def expect_grades_file(self) -> None:
        with (self.root / "grades.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        got = {
            r["student"]: (r["status"], float(r["score"]))
            for r in rows
            if r["assignment"] == self.assignment
        }
        assert got == self.expected_grades(), f"grades.csv says {got}"
        assert len(rows) == len(got), "more than one row per student and notebook"
        with (self.root / "grades_totals.csv").open(newline="", encoding="utf-8") as handle:
            totals = {r["student"]: float(r["total"]) for r in csv.DictReader(handle)}
        assert totals == {s: score for s, (_, score) in got.items()}

    def expect_feedback(self) -> None:
        learners = {**EXCHANGE_LEARNERS, **ALL_ZIP_LEARNERS}
        for student in self.submitted():
            page = self.root / "feedback" / student / self.assignment / f"{self.assignment}.html"
            assert page.exists(), f"no feedback for {student} at {page.relative_to(self.root)}"
            text = html.unescape(page.read_text(encoding="utf-8"))
            for secret in ("BEGIN HIDDEN TESTS", "grade_answer("):
                assert secret not in text, f"{student}'s feedback shows {secret!r}"
            mistake = learners.get(student)
            if mistake is not None and mistake != TAMPERED:
                message = self.mistakes[mistake]["message"]
                assert message in text, f"{student}'s feedback does not name {message!r}"

    def expect_feedback_reaches_exchange_learners(self, named: list[str]) -> None:
        """Each exchange learner the command names (all of them if it names none) fetches
        their feedback through the exchange."""
        unknown = [s for s in named if s not in EXCHANGE_LEARNERS]
        assert not unknown, (
            f"the guide releases feedback to {unknown}, but the learners who submitted through "
            f"the exchange in this test are {sorted(EXCHANGE_LEARNERS)}"
        )
        for student in named or EXCHANGE_LEARNERS:
            if student not in self.submitted():
                continue
            self.learner_command(student, "fetch_feedback")
            pages = list((self.learners / student / self.assignment / "feedback").rglob("*.html"))
            assert pages, f"{student} fetched no feedback"

    def expect_export(self, target: Path) -> None:
        assert target.exists(), f"{target.name} was not written"
        with target.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["assignment"] == self.assignment]
        got = {r["student_id"]: float(r["score"]) for r in rows}
        assert got == {s: score for s, (_, score) in self.expected_grades().items()}


def _load_config(root: Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _points(cell: nbformat.NotebookNode) -> float:
    meta = cell.metadata.get("nbgrader", {})
    is_test = cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
    return float(meta.get("points", 0)) if is_test else 0.0


@pytest.mark.slow
def test_every_command_of_the_instructor_guide_works_as_written(tmp_path: Path) -> None:
    """Run every command of the README's instructor guide, in order, in a throwaway course with
    learners submitting through the exchange and through an LMS zip: does each command
    succeed, do submissions land in submitted/, does lstm-grade grade them all, does every
    learner get feedback that names their mistake and shows no hidden test, does the feedback
    reach the exchange learners, and does the export hold every grade?"""
    commands = guide_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assignments = sorted({a for c in commands for a in ASSIGNMENT_ID.findall(c)})
    assert assignments, "the guide names no assignment"
    assert all((ROOT / "solutions" / a).is_dir() for a in assignments), assignments
    (tmp_path / "course").mkdir()
    (tmp_path / "home").mkdir()
    guide = Guide(make_course(tmp_path / "course", assignments), assignments[0], tmp_path / "home")
    references = json.loads((ROOT / "references" / f"{guide.assignment}.json").read_text())

    seen: set[str] = set()
    zip_formats = set()
    gradings = [i for i, c in enumerate(commands) if shlex.split(c)[0] == "lstm-grade"]
    first_grading, last_grading = (gradings[0], gradings[-1]) if gradings else (-1, -1)
    for index, command in enumerate(commands):
        words = shlex.split(command)
        step = " ".join(words[:2]) if words[0] == "nbgrader" else words[0]
        if Path(words[0]).name.startswith("python") and words[1:3] == ["-m", "lstm_grader.record"]:
            step = "record"
        seen.add(step)
        lms = next(
            (w.split("=", 1)[1] for w in words if w.startswith("--SafeFileNameCollector.lms=")),
            "blackboard",
        )
        if step == "nbgrader zip_collect":
            guide.lms_zip_download(lms)
        if index == last_grading and index != first_grading:
            # the formgrader round trip the guide describes before its last lstm-grade
            guide.check("grading the flagged learner by hand", guide.grade_by_hand)

        result = guide.shell(command, cwd=guide.root)
        if result.returncode != 0:
            guide.problem(
                f"`{command}` failed with exit code {result.returncode}:\n"
                + "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
            )
            continue

        if step == "nbgrader generate_assignment":
            guide.check(
                command,
                lambda: _expect_file(
                    guide.root / "exercises" / guide.assignment / f"{guide.assignment}.ipynb"
                ),
            )
        elif step == "record":

            def same_questions() -> None:
                recorded = json.loads(
                    (guide.root / "references" / f"{guide.assignment}.json").read_text()
                )
                assert sorted(recorded["questions"]) == sorted(references["questions"])

            guide.check(command, same_questions)
        elif step == "nbgrader release_assignment":
            guide.check(
                command,
                lambda: _expect_file(
                    guide.exchange
                    / guide.course_id
                    / "outbound"
                    / guide.assignment
                    / f"{guide.assignment}.ipynb"
                ),
            )
            guide.check(
                "learners fetching and submitting", guide.learners_submit_through_the_exchange
            )
        elif step == "nbgrader collect":
            guide.check(command, lambda: guide.expect_submitted(EXCHANGE_LEARNERS, "collect"))
        elif step == "nbgrader zip_collect":
            zip_formats.add(lms)
            guide.check(
                command, lambda lms=lms: guide.expect_submitted(ZIP_LEARNERS[lms], "zip_collect")
            )
        elif step == "lstm-grade":
            guide.check(command, guide.expect_grades_file)
        elif step == "nbgrader generate_feedback":
            guide.check(command, guide.expect_feedback)
        elif step == "nbgrader release_feedback":
            named = [w.split("=", 1)[1] for w in words if w.startswith("--student=")] + [
                words[i + 1] for i, w in enumerate(words[:-1]) if w == "--student"
            ]
            guide.check(
                command, lambda named=named: guide.expect_feedback_reaches_exchange_learners(named)
            )
        elif step == "nbgrader export":
            # nbgrader export writes grades.csv unless told otherwise
            target = words[words.index("--to") + 1] if "--to" in words else "grades.csv"
            guide.check(command, lambda target=guide.root / target: guide.expect_export(target))

    covered = {
        "nbgrader generate_assignment",
        "record",
        "nbgrader release_assignment",
        "nbgrader collect",
        "nbgrader zip_collect",
        "lstm-grade",
        "nbgrader generate_feedback",
        "nbgrader release_feedback",
        "nbgrader export",
    }
    if covered - seen:
        guide.problem(f"the guide no longer shows {sorted(covered - seen)}")
    if zip_formats != set(ZIP_LEARNERS):
        guide.problem(
            f"the guide collects {sorted(zip_formats)} downloads, not {sorted(ZIP_LEARNERS)}"
        )
    if not guide.graded_by_hand:
        guide.problem("the guide never runs lstm-grade after the formgrader's manual grading")
    if guide.problems:
        pytest.fail(
            "The instructor guide does not work as written:\n\n- " + "\n\n- ".join(guide.problems),
            pytrace=False,
        )


def _expect_file(path: Path) -> None:
    assert path.is_file(), f"{path} does not exist"


def test_the_limits_the_guide_states_are_the_configured_ones() -> None:
    """Does the README's guide state each sandbox and execution limit as nbgrader_config.py
    sets it (or, where the config is silent, as the grader's default is), so changing a limit
    fails here instead of leaving the guide, and the instructors' chapter that includes it,
    wrong?"""
    from traitlets.config.loader import PyFileConfigLoader

    from lstm_grader import sandbox
    from lstm_grader.preprocessors import SandboxedExecute

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()

    def setting(owner: type, name: str):
        return config[owner.__name__].get(name, owner.class_traits()[name].default_value)

    def limit(name: str):
        return setting(sandbox.SandboxKernelManager, name)

    def execution(name: str):
        return setting(SandboxedExecute, name)

    assert limit("cpus") == 1.0, "the guide says 'one CPU core': say the new number"
    stated = [
        f"`/tmp` are a {limit('disk_limit_mb')} MiB tmpfs",
        f"{limit('memory_limit_mb') / 1024:g} GiB of memory (tmpfs files included), "
        f"{limit('max_processes')} processes and threads, one CPU core, "
        f"{limit('cpu_limit_seconds')} CPU seconds; "
        f"per process {limit('address_space_mb') / 1024:g} GiB of address space",
        f"{limit('cpu_limit_seconds')} CPU seconds, no file over {limit('disk_limit_mb')} MiB, "
        f"{limit('open_files'):,} open files",
        f"{limit('max_files'):,} files in `/tmp` and `/dev/shm` together",
        f"{execution('timeout')} s per cell, {execution('notebook_timeout')} s per notebook",
        f"output capped at {execution('max_output_bytes_per_cell') / 1000:g} kB per cell and "
        f"{execution('max_output_bytes') / 1_000_000:g} MB per notebook, and a single message "
        f"over {sandbox.MAX_MESSAGE_BYTES // 2**20} MiB",
        f"at the sandbox's {limit('memory_limit_mb') / 1024:g} GiB limit per kernel",
    ]
    guide = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    missing = [words for words in stated if words not in guide]
    assert not missing, "the README states other limits than the configured ones:\n" + "\n".join(
        missing
    )


def chapter_exercise_script(chapter: str) -> str:
    """The ``bash`` blocks of a chapter's ``## Exercises`` section, joined into one script
    (a heredoc inside a block stays whole, unlike the guide's one command a line)."""
    exercises = chapter.split("\n## Exercises\n", 1)[1]
    blocks = re.findall(r"^```bash\n(.*?)^```", exercises, flags=re.MULTILINE | re.DOTALL)
    return "set -e\n" + "".join(blocks)


@pytest.mark.slow
def test_the_instructor_chapters_exercise_grades_a_test_learner_in_full(tmp_path: Path) -> None:
    """Run the commands of the instructors' chapter's Exercises in a throwaway course: does
    the test learner they hand in get the full score with the status graded, and feedback
    from the command the chapter names? And is the solution notebook itself, which the
    chapter warns against handing in, flagged and scored 0?"""
    chapter = (ROOT / "book" / "10-for-instructors.md").read_text(encoding="utf-8")
    script = chapter_exercise_script(chapter)
    assert "lstm-grade 05-return-flags" in script, "the Exercises no longer grade"
    assert "nbgrader generate_feedback 05-return-flags" in chapter
    (tmp_path / "course").mkdir()
    (tmp_path / "home").mkdir()
    guide = Guide(
        make_course(tmp_path / "course", ["05-return-flags"]), "05-return-flags", tmp_path / "home"
    )

    def grades() -> dict[str, dict[str, str]]:
        with (guide.root / "grades.csv").open(newline="", encoding="utf-8") as handle:
            return {row["student"]: row for row in csv.DictReader(handle)}

    result = guide.shell(script, cwd=guide.root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    row = grades()["test-learner"]
    assert (row["status"], float(row["score"])) == ("graded", guide.full), row
    assert float(row["max_score"]) == guide.full
    # why the chapter sends the test to a fresh clone: the course's gradebook keeps the learner
    students = guide.shell("nbgrader db student list", cwd=guide.root)
    assert "test-learner" in students.stdout + students.stderr

    feedback = guide.shell("nbgrader generate_feedback 05-return-flags", cwd=guide.root)
    assert feedback.returncode == 0, feedback.stderr[-3000:]
    assert any((guide.root / "feedback" / "test-learner" / "05-return-flags").glob("*.html"))

    guide.course.submit("solution-as-learner", "05-return-flags", guide.source)
    regrade = guide.shell("lstm-grade 05-return-flags", cwd=guide.root)
    assert regrade.returncode == 0, regrade.stderr[-3000:]
    row = grades()["solution-as-learner"]
    assert (row["status"], float(row["score"])) == ("flagged", 0.0), row
