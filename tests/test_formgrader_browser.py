"""Does a flagged submission reach the instructor through nbgrader's formgrader, and does a
score given there by hand reach grades.csv?

A throwaway course grades two learners with ``lstm-grade``: one with every answer right, one
who also rewrote the locked test cell of q3. Jupyter Server with nbgrader's formgrader then
serves the course, and headless Chromium (the system's, through Playwright) logs in as the
instructor: the notebook's submission list flags the second learner, their submission shows
why next to the restored cell and asks for a grade on q3 alone, and full marks typed into
q3's score box reach ``grades.csv`` and ``nbgrader export`` at the next ``lstm-grade`` run.

tests/test_classgrade.py proves the same through nbgrader's Gradebook API; this file proves
it through the pages an instructor uses.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from browser_server import (
    SUBMISSION_PAGE_LOADED_JS,
    UI_TIMEOUT_MS,
    Server,
    chromium_ready,
    isolated_environment,
    jupyter_server,
)
from conftest import CHROMIUM, CHROMIUM_ARGS, Course, make_course, require_or_skip

from lstm_grader import sandbox

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
FLAGGED, PLAIN = "s-flagged", "s-plain"
TAMPERED_ID = "q3"
TAMPERED_SOURCE = '"""mine"""\nprint("trust me")\n'
LEARNER_LINE = 'print("trust me")'
FLAG_NOTE = "Flagged for the instructor: cell 'q3' was edited although it is locked."
VERSION_NOTE = "The learner's version of this cell (the original was restored):"
#: A note the flagged learner adds: a layer the formgrader's Bootstrap would lay over the
#: whole page, text it would pin over its header, and images a browser loads unasked (the
#: Jupyter server's own /logout, requested with the instructor's cookies, and a tracker's).
NOTE_TEXT = "My working, for the instructor"
LEARNER_NOTE = (
    f'{NOTE_TEXT} <div class="modal-backdrop in"></div>'
    '<div class="navbar navbar-fixed-top">Nothing to review here</div> '
    "![out](/logout) ![seen](https://tracker.example/seen.gif)"
)

# Bounded waits: the machine is shared and slow.
GRADE_TIMEOUT_S = 600
START_TIMEOUT_S = 120
LOCAL_HOSTS = ("127.0.0.1", "localhost")
# formgrade.js reads MathJax, which the submission page loads from a CDN; with no network
# its init stops with this error after the score boxes are wired up (nbgrader's, not ours).
OFFLINE_PAGE_ERRORS = ("MathJax is not defined",)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def check_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The graded cells that hold no answer: nbgrader's test cells, by grade id."""
    return {
        grade_id(cell): cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
        and not cell.metadata.get("nbgrader", {}).get("solution")
    }


def read_csv(path: Path, key: str) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_key = {row[key]: row for row in rows}
    assert len(by_key) == len(rows), f"{path.name} has more than one row per {key}: {rows}"
    return by_key


def lstm_grade(course: Course) -> str:
    """``lstm-grade`` as the README's step 4 runs it, from the course root (Course.run drops
    NBGRADER_* variables and puts the venv's bin first on PATH)."""
    result = course.run(
        "lstm-grade", ASSIGNMENT, "--workers", "1", "--no-progress", timeout=GRADE_TIMEOUT_S
    )
    return result.stdout + result.stderr


@dataclass
class GradedCourse:
    course: Course
    release: nbformat.NotebookNode
    first_run: str


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    """A course with two submissions of 05-return-flags, graded once by ``lstm-grade``."""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    chromium_ready()
    from lstm_grader.synthetic import answered

    root = tmp_path_factory.mktemp("formgrader") / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit(PLAIN, ASSIGNMENT, answered(release, source))
    tampered = answered(release, source)
    cell = next(c for c in tampered.cells if grade_id(c) == TAMPERED_ID)
    cell.source = TAMPERED_SOURCE
    tampered.cells.insert(tampered.cells.index(cell), nbformat.v4.new_markdown_cell(LEARNER_NOTE))
    course.submit(FLAGGED, ASSIGNMENT, tampered)
    return GradedCourse(course, release, lstm_grade(course))


#: The Jupyter server the instructor's formgrader runs in.
Formgrader = Server


def server_environment(tmp: Path) -> dict[str, str]:
    """The venv's Jupyter with every per-user folder (and HOME) in ``tmp``: no user or machine
    configuration leaks in; the venv's own config still enables nbgrader's extensions."""
    env = isolated_environment(tmp, {"HOME": "home"})
    return env


@pytest.fixture(scope="module")
def formgrader(
    graded: GradedCourse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Formgrader]:
    """Jupyter Server started in the course root, so the formgrader reads its config."""
    tmp = tmp_path_factory.mktemp("jupyter")
    env = server_environment(tmp)
    jupyter = [sys.executable, "-m", "jupyter"]

    listed = subprocess.run(
        [*jupyter, "server", "extension", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    extensions = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"nbgrader\.server_extensions\.formgrader\s+enabled", extensions), extensions
    assert re.search(r"nbgrader\.server_extensions\.formgrader\s+OK", extensions), extensions

    root = graded.course.root
    with jupyter_server(
        "server", root, env, tmp / "jupyter-server.log", start_timeout=START_TIMEOUT_S
    ) as server:
        yield server


@dataclass
class Instructor:
    """The instructor's browser tab, and what its pages reported on the way."""

    page: object  # playwright.sync_api.Page
    server: Formgrader
    shots: Path
    blocked: list[str] = field(default_factory=list)  # requests that would leave the machine
    offline: list[str] = field(default_factory=list)  # errors those blocked requests explain
    errors: list[str] = field(default_factory=list)  # every other console or page error

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        line = f"console error at {where or '?'}: {message.text}"
        host = urlsplit(where).hostname
        (self.offline if host and host not in LOCAL_HOSTS else self.errors).append(line)

    def on_page_error(self, error) -> None:
        line = f"page error at {self.page.url}: {error}"
        offline = any(text in str(error) for text in OFFLINE_PAGE_ERRORS)
        (self.offline if offline and self.blocked else self.errors).append(line)

    def report(self) -> str:
        return "\n".join(
            [
                f"page: {self.page.url}",
                "errors from our pages:",
                *(self.errors or ["  none"]),
                "blocked off-machine requests and the errors they explain:",
                *(self.blocked + self.offline or ["  none"]),
                f"Jupyter Server log (tail):\n{self.server.log_tail()}",
            ]
        )

    @contextmanager
    def diagnosed(self, name: str) -> Iterator[None]:
        """Re-raise a failure with a screenshot, the pages' errors and the server's log."""
        try:
            yield
        except Exception as failure:
            shot = self.shots / f"{name}.png"
            try:
                self.page.screenshot(path=shot, full_page=True)
            except Exception as reason:  # the page itself may be what failed
                shot = f"(no screenshot: {reason})"
            raise AssertionError(f"{failure}\n\nscreenshot: {shot}\n{self.report()}") from failure

    def assert_no_page_errors(self) -> None:
        assert not self.errors, self.report()

    def log_in(self) -> None:
        """Log in with the token on Jupyter's login page, as an instructor without a link
        holding the token does; the session cookie then serves every formgrader page.

        (A token in a formgrader page's own URL is not enough: it authenticates that page,
        but the page's API requests, which load the submission list, go to /login.)"""
        from playwright.sync_api import expect

        page = self.page
        page.goto(f"{self.server.url}login")
        form = page.locator("form", has=page.locator("input[name=password]")).first
        form.locator("input[name=password]").fill(self.server.token)
        with page.expect_navigation():
            form.locator("input[name=password]").press("Enter")
        expect(page).not_to_have_url(re.compile(r"/login"))

    def open_submissions(self):
        """The notebook's list of submissions (Manual Grading -> assignment -> notebook),
        with every learner's name shown; returns {student: table row}."""
        from playwright.sync_api import expect

        page = self.page
        page.goto(f"{self.server.url}formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
        table = page.locator("#main-table")
        expect(table.locator("a.name-shown")).to_have_count(2)
        page.locator("#toggle_names").click()
        rows = {}
        for student in (PLAIN, FLAGGED):
            name = page.locator("a.name-shown", has_text=re.compile(f"^{student}$"))
            rows[student] = table.locator("tr", has=name)
            expect(rows[student]).to_have_count(1)
            expect(rows[student].locator("a.name-shown")).to_be_visible()
        return rows

    def open_submission(self, student: str):
        """Follow the student's link in the list to their submission; wait until the
        formgrader has loaded the grades into the score boxes."""
        from playwright.sync_api import expect

        rows = self.open_submissions()
        with self.page.expect_navigation():
            rows[student].locator("a.name-shown").click()
        expect(self.page.locator("li.live-notebook a.name-shown")).to_contain_text(student)
        self.page.wait_for_function(SUBMISSION_PAGE_LOADED_JS)

    def cell(self, cell_id: str):
        """The rendered cell whose score box is named ``cell_id``."""
        return self.page.locator("div.code_cell", has=self.page.locator(f"input.score#{cell_id}"))


@pytest.fixture
def instructor(formgrader: Formgrader, tmp_path: Path) -> Iterator[Instructor]:
    """Headless Chromium, logged in to the formgrader. Requests that would leave the machine
    (the submission page loads MathJax from a CDN) are refused at once and recorded, so no
    page waits on a network this machine does not have."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)  # Playwright's default for expect is 5 s
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            handle = Instructor(page, formgrader, tmp_path)

            def refuse_off_machine(route) -> None:
                if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
                    route.continue_()
                else:
                    handle.blocked.append(f"blocked request: {route.request.url}")
                    route.abort("internetdisconnected")

            context.route("**/*", refuse_off_machine)
            page.on("console", handle.on_console)
            page.on("pageerror", handle.on_page_error)
            with handle.diagnosed("login"):
                handle.log_in()
            yield handle
        finally:
            browser.close()
            expect.set_options(timeout=None)  # back to Playwright's default


def test_the_flagged_submission_waits_for_the_instructor_in_the_formgrader(
    graded: GradedCourse, instructor: Instructor
) -> None:
    """Does the notebook's submission list flag the learner who edited q3's locked test cell
    (and not the other), and does their submission show the grader's note and the learner's
    version of the cell under the restored original, with q3 the only cell awaiting a
    manual grade?"""
    from playwright.sync_api import expect

    rows = read_csv(graded.course.root / "grades.csv", "student")
    assert (rows[FLAGGED]["status"], rows[PLAIN]["status"]) == ("flagged", "graded"), (
        f"{rows}\n{graded.first_run}"
    )
    checks = check_cells(graded.release)
    original = checks[TAMPERED_ID].source

    with instructor.diagnosed("submission-list"):
        listed = instructor.open_submissions()
        expect(listed[FLAGGED].locator("td.flagged .glyphicon-flag")).to_have_count(1)
        expect(listed[PLAIN].locator("td.flagged .glyphicon-flag")).to_have_count(0)
        expect(listed[FLAGGED].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(1)
        expect(listed[PLAIN].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(0)

    with instructor.diagnosed("flagged-submission"):
        instructor.open_submission(FLAGGED)
        page = instructor.page
        q3 = instructor.cell(TAMPERED_ID)
        expect(q3).to_have_count(1)
        outputs = q3.locator(".output_wrapper")
        expect(outputs).to_contain_text(FLAG_NOTE)
        expect(outputs).to_contain_text(VERSION_NOTE)
        expect(outputs).to_contain_text(LEARNER_LINE)
        shown = q3.locator(".input_area").inner_text()
        assert LEARNER_LINE not in shown, f"q3 shows the learner's code as its source:\n{shown}"
        assert shown.strip() == original.strip(), (
            f"q3's source is not the restored original:\n{shown}\n---\n{original}"
        )

        # Every test cell has a score box the formgrader filled in; only q3's asks for a grade.
        scores = page.locator("input.score")
        expect(scores).to_have_count(len(checks))
        assert sorted(scores.evaluate_all("boxes => boxes.map(box => box.id)")) == sorted(checks)
        awaiting = page.locator("input.score.needs_manual_grade")
        expect(awaiting).to_have_count(1)
        expect(awaiting).to_have_id(TAMPERED_ID)
        for cell_id in checks:
            # the placeholder is the auto score, set once the grades are loaded
            box = page.locator(f"input.score#{cell_id}")
            expect(box).to_have_attribute("placeholder", re.compile(r"^\d"))
            expect(box).to_have_value("")  # no manual score yet
        page.screenshot(path=instructor.shots / "flagged-submission.png", full_page=True)
    instructor.assert_no_page_errors()


def test_a_learners_note_neither_covers_the_score_boxes_nor_loads_anything(
    graded: GradedCourse, instructor: Instructor
) -> None:
    """The flagged learner's note asks the formgrader's Bootstrap for a layer over the page
    and a bar pinned over its header, and shows images at the Jupyter server's /logout and a
    tracker's address. Is the note shown, is each score box the element under its own centre
    (so the instructor's click reaches it), and did the page request neither address (the
    instructor stays signed in)?"""
    from playwright.sync_api import expect

    requested: list[str] = []
    instructor.page.on("request", lambda request: requested.append(request.url))
    with instructor.diagnosed("learner-note"):
        instructor.open_submission(FLAGGED)
        page = instructor.page
        expect(page.locator("div.text_cell", has_text=NOTE_TEXT)).to_have_count(1)
        for cell_id in check_cells(graded.release):
            box = page.locator(f"input.score#{cell_id}")
            box.scroll_into_view_if_needed()
            on_top = box.evaluate(
                "box => { const r = box.getBoundingClientRect();"
                " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)"
                " === box; }"
            )
            assert on_top, f"something covers the score box of {cell_id}"
        loaded = [url for url in requested if "logout" in url or "tracker.example" in url]
        assert loaded == [], loaded
        instructor.open_submission(PLAIN)  # still signed in: the pages load as before
    instructor.assert_no_page_errors()


def test_a_score_given_in_the_formgrader_reaches_grades_csv_and_the_export(
    graded: GradedCourse, instructor: Instructor
) -> None:
    """Full marks typed into q3's score box and saved the formgrader's way: does the
    formgrader keep them, and does the next ``lstm-grade`` run write the submission as
    manually graded with the full score, as ``nbgrader export`` does?"""
    from playwright.sync_api import expect

    course = graded.course
    max_score = float(check_cells(graded.release)[TAMPERED_ID].metadata["nbgrader"]["points"])
    assert max_score > 0
    page = instructor.page

    with instructor.diagnosed("give-score"):
        instructor.open_submission(FLAGGED)
        box = page.locator(f"input.score#{TAMPERED_ID}")
        expect(box).to_have_class(re.compile(r"\bneeds_manual_grade\b"))
        box.click()
        box.fill(f"{max_score:g}")

        def saves_q3(response) -> bool:
            return response.request.method == "PUT" and "/formgrader/api/grade/" in response.url

        # Tab moves on to the next box, as an instructor does; the score box's change event
        # on blur saves the grade. (Not Escape, the formgrader's own "defocus and save" key:
        # its keyboard shortcuts are set up after MathJax, which cannot load here.)
        with page.expect_response(saves_q3) as saved:
            box.press("Tab")
        response = saved.value
        assert response.ok, f"saving the score failed: {response.status} {response.text()}"
        stored = response.json()
        assert (stored["name"], stored["manual_score"]) == (TAMPERED_ID, max_score), stored
        assert stored["needs_manual_grade"] is False, stored
        expect(box).not_to_have_class(re.compile(r"\bneeds_manual_grade\b"))

        page.reload()
        page.wait_for_function(SUBMISSION_PAGE_LOADED_JS)
        expect(box).to_have_value(f"{max_score:g}")
        expect(page.locator("input.score.needs_manual_grade")).to_have_count(0)

        listed = instructor.open_submissions()
        expect(listed[FLAGGED].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(0)
        expect(listed[FLAGGED].locator("td.score")).to_have_text(
            listed[PLAIN].locator("td.score").inner_text()
        )
    instructor.assert_no_page_errors()

    output = lstm_grade(course)
    rows = read_csv(course.root / "grades.csv", "student")
    full = float(rows[PLAIN]["score"])
    assert full == float(rows[PLAIN]["max_score"]), rows
    assert (rows[FLAGGED]["status"], float(rows[FLAGGED]["score"])) == ("manually-graded", full), (
        f"{rows}\n{output}"
    )
    course.run("nbgrader", "export", "--to", "export.csv")
    exported = read_csv(course.root / "export.csv", "student_id")
    assert float(exported[FLAGGED]["score"]) == full, exported
    assert float(exported[PLAIN]["score"]) == full, exported
