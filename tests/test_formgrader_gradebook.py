"""Do the formgrader's buttons that run nbgrader's converters check the gradebook first?

The formgrader (nbgrader's server extension in Jupyter Server, started at the course
root) runs ``generate_assignment``, ``autograde`` and ``generate_feedback`` in its own
process when the instructor presses Generate, Autograde or Generate Feedback: each button
posts to the formgrader's API, which builds the converter and answers with nbgrader's
``{"success", "log", "error"}``. A damaged, emptied, incomplete or unwritable gradebook
must stop each press with the course's one line (``lstm_grader.gradebook_guard``), shown
to the instructor as the error, leaving every file of the course, the gradebook's bytes
included, as it was; a sound gradebook must still let each press do its work.

The buttons are pressed through the API the formgrader's pages call (nbgrader 0.9's
``formgrader/api`` handlers), on a real Jupyter server; tests/test_formgrader_browser.py
drives the pages themselves.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_server import (
    SUBMISSION_PAGE_LOADED_JS,
    UI_TIMEOUT_MS,
    Server,
    isolated_environment,
    jupyter_server,
)
from conftest import Course, make_course, require_or_skip
from gradebook_damage import DAMAGE_SAID, course_files, held

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
STUDENT = "alice"
START_TIMEOUT_S = 120
#: A press that stops at the check answers in seconds; one that grades runs the sandbox.
PRESS_TIMEOUT_S = 600
CHECKED_LINE_END = ". Nothing was removed or written."

#: Each button that runs an nbgrader converter in the formgrader's process, by the API
#: path its page posts to (nbgrader 0.9's ``server_extensions/formgrader/apihandlers.py``).
BUTTONS = {
    "generate": f"assignment/{ASSIGNMENT}/assign",
    "autograde": f"submission/{ASSIGNMENT}/{STUDENT}/autograde",
    "generate feedback (all)": f"assignment/{ASSIGNMENT}/generate_feedback",
    "generate feedback (one)": f"assignment/{ASSIGNMENT}/{STUDENT}/generate_feedback",
}
#: What each button makes anew on a sound gradebook (with ``--force``, as the formgrader
#: always runs them): the student version, the learner's autograded notebook, their
#: feedback page.
MADE = {
    "generate": Path("exercises", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"),
    "autograde": Path("autograded", STUDENT, ASSIGNMENT, f"{ASSIGNMENT}.ipynb"),
    "generate feedback (all)": Path("feedback", STUDENT, ASSIGNMENT, f"{ASSIGNMENT}.html"),
    "generate feedback (one)": Path("feedback", STUDENT, ASSIGNMENT, f"{ASSIGNMENT}.html"),
}
#: Each button with the damages it meets: every button each damage of the file itself;
#: the two that write the gradebook (generate, autograde) also a file they cannot write,
#: which feedback, a reader, may still read.
DAMAGES = [
    "page-overwritten",
    "cut-to-nothing",
    "not-a-database",
    "table-missing",
    "column-missing",
]
DAMAGED_PRESSES = [
    *((button, damage) for button in BUTTONS for damage in DAMAGES),
    ("generate", "read-only"),
    ("autograde", "read-only"),
]
#: What the line says of a gradebook cut to nothing (the other damages: DAMAGE_SAID).
EMPTIED_SAID = "gradebook.db is an empty file, not a gradebook: "


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A course whose learner was autograded and given feedback by plain nbgrader."""
    from lstm_grader.sandbox import bwrap_path
    from lstm_grader.synthetic import answered

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path_factory.mktemp("formgrader-gradebook") / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    course.submit(
        STUDENT, ASSIGNMENT, answered(course.release(ASSIGNMENT), course.source(ASSIGNMENT))
    )
    course.run("nbgrader", "autograde", ASSIGNMENT)
    course.run("nbgrader", "generate_feedback", ASSIGNMENT)
    return course


@pytest.fixture(scope="module")
def formgrader(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Jupyter Server with nbgrader's formgrader, started at the course root, so the
    formgrader reads the course's ``nbgrader_config.py`` as an instructor's does."""
    tmp = tmp_path_factory.mktemp("formgrader-jupyter")
    env = isolated_environment(tmp, {"HOME": "home"})
    with jupyter_server(
        "server", course.root, env, tmp / "jupyter-server.log", start_timeout=START_TIMEOUT_S
    ) as server:
        yield server


def formgrader_request(
    server: Server, path: str, method: str = "GET", data: bytes | None = None
) -> tuple[int, str]:
    """Ask the formgrader for ``path`` (below ``formgrader/``) as its pages do, with the
    server's token: the answer's status and body, a refusal's included."""
    sent = urllib.request.Request(
        f"{server.url}formgrader/{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {server.token}"},
    )
    try:
        with urllib.request.urlopen(sent, timeout=PRESS_TIMEOUT_S) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def press(server: Server, api_path: str) -> dict:
    """Post to a button's API path as its page does; the formgrader's answer (nbgrader's
    ``capture_log``)."""
    status, body = formgrader_request(server, f"api/{api_path}", "POST", b"")
    assert status == 200, (status, body)
    return json.loads(body)


@contextlib.contextmanager
def damaged(gradebook: Path, damage: str) -> Iterator[None]:
    """The gradebook damaged as ``damage`` says for the block, then put back byte for
    byte, so the module's other tests find it sound."""
    sound = gradebook.read_bytes()
    try:
        if damage == "cut-to-nothing":
            gradebook.write_bytes(b"")
            yield
        else:
            with held(gradebook, damage):
                yield
    finally:
        gradebook.write_bytes(sound)


@pytest.mark.parametrize(("button", "damage"), DAMAGED_PRESSES)
def test_a_button_stops_on_a_damaged_gradebook_touching_nothing(
    course: Course, formgrader: Server, button: str, damage: str
) -> None:
    """Does the press fail with the check's one line as its error (not nbgrader's
    traceback, not success), and leave every file of the course, the student version and
    the gradebook's bytes included, as it was?"""
    gradebook = course.root / "gradebook.db"
    with damaged(gradebook, damage):
        before = course_files(course.root)
        data = gradebook.read_bytes()
        answer = press(formgrader, BUTTONS[button])
        assert course_files(course.root) == before, answer
        assert gradebook.read_bytes() == data
    said = EMPTIED_SAID if damage == "cut-to-nothing" else DAMAGE_SAID[damage]
    assert answer["success"] is False, answer
    line = answer["error"]
    assert line.startswith(said) and line.endswith(CHECKED_LINE_END), answer
    assert "\n" not in line and "Traceback" not in json.dumps(answer), answer
    errors = [row for row in answer.get("log", "").splitlines() if row.startswith("[ERROR]")]
    assert errors == [f"[ERROR] {line}"], answer


def test_a_new_assignments_student_version_is_not_made_on_a_damaged_gradebook(
    course: Course, formgrader: Server
) -> None:
    """An assignment never generated: is its release folder left unmade?"""
    release = course.root / "exercises" / ASSIGNMENT
    kept = course.root / "kept-release"
    shutil.move(release, kept)
    try:
        with damaged(course.root / "gradebook.db", "page-overwritten"):
            answer = press(formgrader, BUTTONS["generate"])
        assert answer["success"] is False, answer
        assert not release.exists(), sorted(p.name for p in release.parent.iterdir())
    finally:
        shutil.rmtree(release, ignore_errors=True)
        shutil.move(kept, release)


@pytest.mark.parametrize("button", BUTTONS)
def test_a_button_still_works_on_a_sound_gradebook(
    course: Course, formgrader: Server, button: str
) -> None:
    """With the check in place, does each press on a sound gradebook succeed and make its
    file anew?"""
    made = course.root / MADE[button]
    before = made.stat().st_mtime_ns
    scores = course.scores(STUDENT, ASSIGNMENT)
    answer = press(formgrader, BUTTONS[button])
    assert answer["success"] is True, answer
    assert "[ERROR]" not in answer.get("log", ""), answer
    assert made.stat().st_mtime_ns > before, answer
    # every answer of the learner's is right: graded again, they score as before
    assert course.scores(STUDENT, ASSIGNMENT) == scores and sum(scores.values()) > 0


# ------------------------------------------------------- the formgrader's own gradebook openings
#: Each kind of request the formgrader's pages make that opens the gradebook outside any
#: converter, by method, API path and body (nbgrader 0.9's ``apihandlers.py``): listing the
#: assignments (``NbGraderAPI.gradebook``, a new ``Gradebook`` each time), and the edits
#: made through the gradebook the server keeps (``BaseHandler.gradebook``). ``{grade}``,
#: ``{comment}`` and ``{notebook}`` are the learner's rows (:func:`rows`).
REQUESTS = {
    "assignments list": ("GET", "assignments", None),
    "due date edit": (
        "PUT",
        f"assignment/{ASSIGNMENT}",
        {"duedate_notimezone": "2031-01-31 12:00:00", "duedate_timezone": "+0000"},
    ),
    "student edit": (
        "PUT",
        f"student/{STUDENT}",
        {"first_name": "Alice", "last_name": "Liddell", "email": "alice@example.org"},
    ),
    "manual grade save": ("PUT", "grade/{grade}", {"manual_score": 0.5, "extra_credit": 0.25}),
    "comment save": ("PUT", "comment/{comment}", {"manual_comment": "Named the time axis."}),
    "flag": ("POST", "submitted_notebook/{notebook}/flag", None),
}
#: Each request with the damages it meets: every request each damage of the file itself;
#: those that write also a file they cannot write, which the list, a reader, still reads.
REFUSED_REQUESTS = [
    *((request, damage) for request in REQUESTS for damage in DAMAGES),
    *((request, "read-only") for request, (method, _, _) in REQUESTS.items() if method != "GET"),
]


@pytest.fixture(scope="module")
def rows(course: Course) -> dict[str, str]:
    """The ids of one of the learner's grades, comments and submitted notebooks, which the
    manual grading page edits (read as plain SQL: nbgrader's ``Gradebook`` would write)."""
    import sqlite3

    connection = sqlite3.connect(course.root / "gradebook.db")
    try:
        return {
            kind: connection.execute(f"SELECT id FROM {table} ORDER BY id LIMIT 1").fetchone()[0]
            for kind, table in (
                ("grade", "grade"),
                ("comment", "comment"),
                ("notebook", "submitted_notebook"),
            )
        }
    finally:
        connection.close()


def ask(server: Server, request: str, rows: dict[str, str]) -> tuple[int, str]:
    """Make the request as its page does, with the server's token: the answer's status
    and body."""
    method, path, body = REQUESTS[request]
    data = None if method == "GET" else json.dumps(body).encode() if body else b""
    return formgrader_request(server, f"api/{path.format(**rows)}", method, data)


@pytest.mark.parametrize(("request_kind", "damage"), REFUSED_REQUESTS)
def test_a_formgrader_request_refuses_a_damaged_gradebook_touching_nothing(
    course: Course, formgrader: Server, rows: dict[str, str], request_kind: str, damage: str
) -> None:
    """Listing the assignments filled an emptied gradebook with empty tables, and gave one
    missing its grade table that table back, empty; a due date or learner edit wrote into a
    damaged file and answered success. Does each request fail with the check's one line as
    its answer, logged without a traceback, the gradebook's bytes and every other file of
    the course as they were?"""
    gradebook = course.root / "gradebook.db"
    logged = len(formgrader.log.read_bytes())
    with damaged(gradebook, damage):
        before = course_files(course.root)
        data = gradebook.read_bytes()
        status, answer = ask(formgrader, request_kind, rows)
        assert course_files(course.root) == before, answer
        assert gradebook.read_bytes() == data
    said = EMPTIED_SAID if damage == "cut-to-nothing" else DAMAGE_SAID[damage]
    assert status == 500, (status, answer)
    assert answer.startswith(said) and answer.endswith(CHECKED_LINE_END), answer
    assert "\n" not in answer, answer
    log = formgrader.log.read_bytes()[logged:].decode(errors="replace")
    assert "Traceback" not in log and answer in log, log


def test_a_formgrader_page_shows_the_line_of_a_damaged_gradebook(
    course: Course, formgrader: Server
) -> None:
    """The formgrader's pages list and edit through their API, whose failures their
    scripts never show: an instructor opening them saw an empty table. Does the page
    itself show the check's line as its error?"""
    with damaged(course.root / "gradebook.db", "table-missing"):
        status, page = formgrader_request(formgrader, "manage_assignments")
    assert status == 500
    line = DAMAGE_SAID["table-missing"]
    assert f'<p id="gradebook-problem" class="alert alert-danger">{line}' in page, page
    assert CHECKED_LINE_END in page and "Traceback" not in page, page


def _saved(course: Course, rows: dict[str, str]) -> dict[str, object]:
    """What the edits of :data:`REQUESTS` write, read back from the gradebook file."""
    import sqlite3

    connection = sqlite3.connect(course.root / "gradebook.db")
    try:
        one = lambda query, *args: connection.execute(query, args).fetchone()  # noqa: E731
        return {
            "due date edit": one("SELECT duedate FROM assignment WHERE name = ?", ASSIGNMENT)[0],
            "student edit": one(
                "SELECT first_name, last_name, email FROM student WHERE id = ?", STUDENT
            ),
            "manual grade save": one(
                "SELECT manual_score, extra_credit FROM grade WHERE id = ?", rows["grade"]
            ),
            "comment save": one("SELECT manual_comment FROM comment WHERE id = ?", rows["comment"])[
                0
            ],
            "flag": one("SELECT flagged FROM submitted_notebook WHERE id = ?", rows["notebook"])[0],
        }
    finally:
        connection.close()


def test_each_formgrader_request_still_works_on_a_sound_gradebook(
    course: Course, formgrader: Server, rows: dict[str, str]
) -> None:
    """With the check in place, does each request on a sound gradebook answer as nbgrader
    does and each edit reach the gradebook file? (The gradebook is put back after.)"""
    gradebook = course.root / "gradebook.db"
    sound = gradebook.read_bytes()
    try:
        before = _saved(course, rows)
        answers = {request: ask(formgrader, request, rows) for request in REQUESTS}
        after = _saved(course, rows)
    finally:
        gradebook.write_bytes(sound)
    assert all(status == 200 for status, _ in answers.values()), answers
    listed = json.loads(answers["assignments list"][1])
    assert [assignment["name"] for assignment in listed] == [ASSIGNMENT], listed
    assert after == {
        "due date edit": "2031-01-31 12:00:00.000000",
        "student edit": ("Alice", "Liddell", "alice@example.org"),
        "manual grade save": (0.5, 0.25),
        "comment save": "Named the time axis.",
        "flag": 0 if before["flag"] else 1,
    }, (before, answers)


def test_a_new_courses_gradebook_is_still_made_by_the_formgrader(
    course: Course, formgrader: Server, rows: dict[str, str]
) -> None:
    """A course with no gradebook file yet is new: does listing its assignments still
    make nbgrader's gradebook, as nbgrader does?"""
    gradebook = course.root / "gradebook.db"
    kept = course.root / "kept-gradebook.db"
    gradebook.rename(kept)
    try:
        status, answer = ask(formgrader, "assignments list", rows)
        made = gradebook.exists() and gradebook.stat().st_size > 0
    finally:
        gradebook.unlink(missing_ok=True)
        kept.rename(gradebook)
    assert status == 200, answer
    assert made


@contextlib.contextmanager
def collecting_before_the_due_date(course: Course) -> Iterator[None]:
    """The course's collector set to read the due date from the gradebook for the block
    (the formgrader reads the course's configuration again at each request)."""
    config = course.root / "nbgrader_config.py"
    kept = config.read_bytes()
    config.write_bytes(kept + b"\nc.ExchangeCollect.before_duedate = True\n")
    try:
        yield
    finally:
        config.write_bytes(kept)


@pytest.mark.parametrize("damage", ["cut-to-nothing", "table-missing"])
def test_the_collect_button_reading_the_due_date_stops_on_a_damaged_gradebook(
    course: Course, formgrader: Server, damage: str
) -> None:
    """A collector that reads the due date opens the gradebook, outside any checked command:
    an emptied one was filled with empty tables. Does the press answer with the line as
    its error, every file as it was?"""
    gradebook = course.root / "gradebook.db"
    with collecting_before_the_due_date(course), damaged(gradebook, damage):
        before = course_files(course.root)
        data = gradebook.read_bytes()
        answer = press(formgrader, f"assignment/{ASSIGNMENT}/collect")
        assert course_files(course.root) == before, answer
        assert gradebook.read_bytes() == data
    said = EMPTIED_SAID if damage == "cut-to-nothing" else DAMAGE_SAID[damage]
    assert answer["success"] is False, answer
    assert answer["error"].startswith(said) and answer["error"].endswith(CHECKED_LINE_END)
    assert answer["log"] == f"[ERROR] {answer['error']}", answer


def test_a_score_typed_into_a_damaged_gradebook_shows_the_line_on_the_page(
    course: Course, formgrader: Server, rows: dict[str, str]
) -> None:
    """nbgrader's pages show no failed save: a score typed while the gradebook was damaged
    looked saved. In headless Chromium, on a submission's page opened while the gradebook
    was sound, does a score typed after it was damaged show the check's line, the gradebook
    left as it was?"""
    from browser_server import chromium_ready
    from conftest import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import expect, sync_playwright

    chromium_ready()
    gradebook = course.root / "gradebook.db"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(UI_TIMEOUT_MS)
            # the page asks a CDN for MathJax: refused at once, nothing leaves the machine
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(formgrader.url)
                    else route.abort("internetdisconnected")
                ),
            )
            page = context.new_page()
            page.goto(f"{formgrader.url}login")
            page.locator("#password_input").fill(formgrader.token)
            with page.expect_navigation():
                page.locator("#password_input").press("Enter")
            page.goto(f"{formgrader.url}formgrader/submissions/{rows['notebook']}/")
            page.wait_for_function(SUBMISSION_PAGE_LOADED_JS)
            page.wait_for_load_state("networkidle")
            with damaged(gradebook, "table-missing"):
                data = gradebook.read_bytes()
                box = page.locator("input.score").first
                box.click()
                box.fill("0.5")
                with page.expect_response(
                    lambda response: (
                        response.request.method == "PUT"
                        and "/formgrader/api/grade/" in response.url
                    )
                ) as saved:
                    box.press("Tab")
                status, line = saved.value.status, saved.value.text()
                shown = page.locator("#gradebook-refused .alert-danger")
                expect(shown).to_have_text(line, timeout=UI_TIMEOUT_MS)
                assert gradebook.read_bytes() == data
        finally:
            browser.close()
    assert status == 500
    assert line.startswith(DAMAGE_SAID["table-missing"]) and line.endswith(CHECKED_LINE_END)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """An opener's handler that hands a redirect back as the answer."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_page_tells_the_gradebooks_problem_only_to_a_signed_in_instructor(
    course: Course, formgrader: Server
) -> None:
    """The line names the gradebook's file and folder: does a page asked for without
    signing in still lead to the login page, the line left unsaid?"""
    opener = urllib.request.build_opener(_NoRedirects)
    with damaged(course.root / "gradebook.db", "table-missing"):
        with pytest.raises(urllib.error.HTTPError) as answered:
            opener.open(f"{formgrader.url}formgrader/manage_assignments", timeout=60)
        body = answered.value.read().decode()
    assert answered.value.code == 302, body
    assert "/login" in answered.value.headers["Location"]
    assert "gradebook.db" not in body


def test_an_edit_reaches_a_gradebook_moved_back_in_place(
    course: Course, formgrader: Server, rows: dict[str, str]
) -> None:
    """A backup moved back over the gradebook (``mv``) is another file, which the check
    finds sound: the gradebook the server kept went on writing the file removed, so each
    later edit answered success and was lost. Does an edit after the move reach the file
    now in place?"""
    gradebook = course.root / "gradebook.db"
    sound = gradebook.read_bytes()
    moved = course.root / "gradebook-backup.db"
    try:
        assert ask(formgrader, "student edit", rows)[0] == 200  # the server keeps it open
        moved.write_bytes(gradebook.read_bytes())
        moved.replace(gradebook)
        assert ask(formgrader, "manual grade save", rows)[0] == 200
        saved = _saved(course, rows)["manual grade save"]
    finally:
        gradebook.write_bytes(sound)
    assert saved == (0.5, 0.25)
