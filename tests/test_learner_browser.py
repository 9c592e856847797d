"""Does the learner's path work as a learner meets it, in both check modes?

Real JupyterLab with nbgrader's extension serves the student version of one assignment, as a
learner who downloaded it would have it, generated in practice mode (the committed
``exercises/``) and in graded mode; headless Chromium (the system's, through Playwright)
answers one question right and one with its classic mistake, runs all cells, reads what the
check cells print, and clicks nbgrader's Validate button. In practice mode the check names
the mistake from live Keras without giving the value away; in graded mode it checks only the
form and says so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_server import Server, chromium_ready, isolated_environment, jupyter_server
from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, make_course, read_notebook

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
NOTEBOOK = ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
MODES = ("practice", "graded")
RIGHT = ("q2-answer", "answer_q2 = (None, 8, 16)")
# The classic mistake of q1 (tests/files/classic-mistakes): the shape that keeps the time axis.
MISTAKE = ("q1-answer", "answer_q1 = (None, 8, 16)")
MISTAKE_MESSAGE = "✘ q1: (None, 8, 16) keeps the time axis"
RIGHT_MESSAGE = "✔ q2: Correct: (None, 8, 16)"
# What a graded-mode check prints for an answer of the right form, right or wrong.
FORM_MESSAGE = "✔ The form is right (a shape)"

# Bounded waits. The first check cell imports TensorFlow (about 10 s warm, up to a minute
# cold on two cores); validating runs the notebook without Keras.
START_TIMEOUT_S = 90
UI_TIMEOUT_MS = 60_000
KERAS_TIMEOUT_MS = 150_000
VALIDATE_TIMEOUT_MS = 120_000

# Settings a learner may have, written where this JupyterLab reads them: every cell in the
# page (no windowing, so the browser sees the whole notebook) and no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
KERNEL_IDLE_JS = "() => document.querySelector('#jp-main-statusbar')?.textContent.includes('Idle')"


#: The running JupyterLab the learner uses.
Lab = Server


def lab_environment(tmp: Path) -> dict[str, str]:
    """The venv's Jupyter with every per-user folder in ``tmp``: no user settings, kernels or
    nbgrader configuration leak in, and nothing is written outside ``tmp``."""
    env = isolated_environment(
        tmp,
        {"JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces"},
    )
    for name, settings in LAB_SETTINGS.items():
        path = tmp / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings), encoding="utf-8")
    return env


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab from the venv serving a folder with a fresh copy of the student notebook."""
    chromium_ready()
    tmp = tmp_path_factory.mktemp("learner")
    env = lab_environment(tmp)
    jupyter = [sys.executable, "-m", "jupyter"]

    listed = subprocess.run(
        [*jupyter, "labextension", "list"], env=env, capture_output=True, text=True, timeout=120
    )
    extensions = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"@jupyter/nbgrader v\S+ enabled OK", extensions), extensions

    root = tmp / "learner"
    root.mkdir()
    # the practice version is the committed one; the graded one is generated as an
    # instructor would, with the mode set in the course's config
    shutil.copytree(NOTEBOOK.parent, root / "practice")
    course_root = tmp / "course"
    course_root.mkdir()
    course = make_course(course_root, [ASSIGNMENT])
    with open(course_root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.CourseLayout.check_modes = {{{ASSIGNMENT!r}: 'graded'}}\n")
    course.run("nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    shutil.copytree(course.layout.release(ASSIGNMENT), root / "graded")
    with jupyter_server(
        "lab",
        root,
        env,
        tmp / "jupyterlab.log",
        options=[
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        start_timeout=START_TIMEOUT_S,
    ) as server:
        yield server


@pytest.fixture
def page(lab: Lab, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()


@pytest.mark.parametrize("mode", MODES)
def test_learner_sees_the_checks_of_the_mode_and_validates(
    lab: Lab, page, tmp_path: Path, mode: str
) -> None:
    """Answering q2 right and q1 with its classic mistake, then Run All: in practice mode does
    q1's check cell name the mistake on screen without the Keras value, and q2's say it is
    right; in graded mode do both say only that the form is right; does Run All go on past
    the unanswered questions; and does Validate report the unanswered questions' check
    cells, not those of q1 and q2?"""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    notebook = read_notebook(NOTEBOOK)
    grade_ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    # A check cell is named in the validation report by its source, which opens with its docstring.
    docstring = {
        grade_id: cell.source.splitlines()[0]
        for grade_id, cell in zip(grade_ids, notebook.cells, strict=True)
        if grade_id in ("q1", "q2", "q3")
    }
    # a workspace per mode, reset: the other mode's notebook is not restored beside this one
    page.goto(f"{lab.url}lab/workspaces/{mode}/tree/{mode}/{NOTEBOOK.name}?reset&token={lab.token}")
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(grade_ids), timeout=UI_TIMEOUT_MS)
    page.wait_for_function(KERNEL_IDLE_JS)

    for cell_id, code in (MISTAKE, RIGHT):
        editor = cells.nth(grade_ids.index(cell_id)).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(code)
        page.keyboard.press("Escape")
        expect(editor).to_have_text(code)

    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    first = MISTAKE_MESSAGE if mode == "practice" else FORM_MESSAGE
    mistake = page.get_by_text(first).first
    try:
        mistake.wait_for(timeout=KERAS_TIMEOUT_MS)
    except PlaywrightTimeout:
        outputs = "\n---\n".join(page.locator(".jp-OutputArea").all_inner_texts())
        page.screenshot(path=tmp_path / "no-message.png", full_page=True)
        pytest.fail(
            f"{first!r} never appeared. Cell outputs:\n{outputs}\nJupyterLab log:\n{lab.log_tail()}"
        )
    if mode == "practice":
        expect(page.get_by_text(RIGHT_MESSAGE)).to_be_visible(timeout=KERAS_TIMEOUT_MS)
    # Run All goes past q3's answer cell, which still raises NotImplementedError, to the
    # last check cell, which says that its answer is not defined yet.
    last_check = max(i for i, g in enumerate(grade_ids) if g and re.fullmatch(r"q\d+", g))
    expect(cells.nth(last_check).locator(".jp-OutputArea")).to_contain_text(
        "is not defined", timeout=KERAS_TIMEOUT_MS
    )
    page.wait_for_function(KERNEL_IDLE_JS, timeout=KERAS_TIMEOUT_MS)
    outputs = "\n".join(page.locator(".jp-OutputArea").all_inner_texts())
    assert "(None, 16)" not in outputs.replace("(None, 8, 16)", ""), "the Keras value showed"
    if mode == "graded":
        assert "keeps the time axis" not in outputs and "Correct" not in outputs
        assert "graded after you submit" in outputs
    assert "cudart" not in outputs and "absl" not in outputs, "TensorFlow's log lines showed"

    page.locator(".jp-NotebookPanel-toolbar").get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-Dialog-header")).to_have_text(
        "Validation Results", timeout=VALIDATE_TIMEOUT_MS
    )
    report = dialog.locator(".jp-Dialog-body").inner_text()
    assert "The following cell failed" in report, report
    assert docstring["q3"] in report, report  # unanswered: its check cell fails
    assert docstring["q1"] not in report and docstring["q2"] not in report, report  # answered
    page.screenshot(path=tmp_path / "validate.png")
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)

    mistake.scroll_into_view_if_needed()
    expect(mistake).to_be_in_viewport()
    if mode == "practice":
        assert (
            "show_answer('q1')"
            in mistake.locator(
                "xpath=ancestor::*[contains(@class, 'jp-OutputArea-output')][1]"
            ).inner_text()
        )
    page.screenshot(path=tmp_path / "learner.png")
    print(f"screenshots: {tmp_path / 'validate.png'} {tmp_path / 'learner.png'}")
