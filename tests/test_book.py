"""Does the book build cleanly, with every chapter executed, closed and linked as promised?

The book is built with ``make book``, from the repository root, into the shared ``_build``
(its execution cache makes a rebuild of unchanged chapters take seconds).
The built HTML is then read: executed outputs and figures on every chapter page, no
traceback outside cells tagged ``raises-exception``, ``## Summary`` and ``## Exercises`` at
the end with a link to the chapter's notebook, the README's instructor workflow included in the
instructor chapter, no concrete shape such as ``(None, 10, 64)`` or ``(32, 10, 8)`` in a
chapter's prose that its code does not hold or its executed outputs do not print, and every
exercise page's "Chapter:" link titled as its chapter. What the chapters' sources promise
without a build (no size typed into a chapter's prose that code chooses...) is checked in
``test_book_sources.py``, whose readers of a chapter these tests share.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from bs4 import BeautifulSoup
from test_book_sources import (
    CHAPTERS,
    HIDDEN_CELL,
    RACE_CLAIMS,
    ROOT,
    prose_shapes,
    source_cells,
)

HTML = ROOT / "_build" / "html"
# `make book` itself, with this environment's jb: a direct `jb build` missed the Makefile's
# clearing of the execution cache (after a change to what the chapters call) and of Sphinx's
# saved pages (after a change to book/_ext), so a test could read pages that the extensions
# under test had never written. The install counts as current (-o): a test does not reinstall
# the environment it runs in.
VENV = Path(sys.executable).parent.parent  # not resolved: the environment, not its base
BUILD = [
    "make",
    "--no-print-directory",
    *("-o", str(VENV / ".installed-stamp")),
    f"VENV={VENV}",
    "book",
]
# When a chapter runs (a cache miss), the kernel process writes these two lines to the
# build's stderr itself; they are not Sphinx warnings and no setting of the book removes
# them. Every other line that says WARNING fails the test.
KERNEL_NOISE = (
    re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption"),
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build_output() -> str:
    """Build the book once for this module; fail every test here if the build fails."""
    result = subprocess.run(BUILD, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"`make book` exited with {result.returncode}:\n{output[-6000:]}")
    return output


def page(chapter: str) -> BeautifulSoup:
    path = HTML / "book" / f"{chapter}.html"
    assert path.exists(), f"{path.relative_to(ROOT)} was not built"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def draws_a_figure(code: list[str]) -> bool:
    """Whether any code cell of a chapter makes a figure (lstm_lib.plots or matplotlib)."""
    return any(re.search(r"\bplots\.\w+\(|\bplt\.|figure:", cell) for cell in code)


def heading_text(tag) -> str:
    text = tag.get_text().strip().rstrip("#¶").strip()
    return text.replace("\u2019", "'")


def executed_text(chapter: str) -> str:
    """Everything a chapter's executed cells show on its page: printed text, rich text, errors.

    Read from the built HTML: with the execution cache on, the notebooks myst-nb writes to
    ``_build/jupyter_execute`` do not carry the cached outputs.
    """
    soup = page(chapter)
    outputs = soup.select("div.cell_output")
    assert outputs, f"{chapter}: no executed output on the page"
    return "\n".join(output.get_text() for output in outputs)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the build --------------------------------------------------------------------------


def test_build_has_no_warnings(build_output: str) -> None:
    """Does ``make book``'s command succeed without a single warning?"""
    warnings = [
        line
        for line in build_output.splitlines()
        if "WARNING" in line and not any(noise.search(line) for noise in KERNEL_NOISE)
    ]
    assert not warnings, "the book build warned:\n" + "\n".join(warnings)


# --- each chapter -----------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_executed(build_output: str, chapter: str) -> None:
    """Does the chapter page show executed outputs, and a figure drawn by code where its
    source makes one?"""
    soup = page(chapter)
    _, code = source_cells(chapter)
    outputs = soup.select("div.cell_output")
    if code:
        assert outputs, f"{chapter}: no executed output on the page"
    images = soup.select("div.cell_output img")
    if draws_a_figure(code):
        assert images, f"{chapter}: its code draws a figure, but no figure is on the page"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_tracebacks_only_where_tagged(build_output: str, chapter: str) -> None:
    """Does a traceback appear only in cells tagged raises-exception, and does every such
    cell really show its error (the chapter's text relies on it)?"""
    for cell in page(chapter).select("div.cell"):
        tagged = "tag_raises-exception" in cell.get("class", [])
        outputs = cell.select("div.cell_output")
        shows_error = any(
            output.select("div.traceback") or "Traceback (most recent call last)" in output.text
            for output in outputs
        )
        source = cell.select_one("div.cell_input")
        first_line = source.get_text().strip().splitlines()[0] if source else "?"
        if tagged:
            assert shows_error, (
                f"{chapter}: tagged raises-exception but raised nothing: {first_line}"
            )
        else:
            assert not shows_error, f"{chapter}: an untagged cell shows a traceback: {first_line}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_cell_prints_into_one_box(build_output: str, chapter: str) -> None:
    """Does every cell show what it printed in one box? The kernel flushes stdout when it
    pleases, so unmerged, one print could land in two boxes ("n:", then " 3") and a table's
    header in one box and its rows in the next."""
    for cell in page(chapter).select("div.cell"):
        boxes = cell.select("div.cell_output div.output.stream")
        source = cell.select_one("div.cell_input")
        first_line = source.get_text().strip().splitlines()[0] if source else "?"
        assert len(boxes) <= 1, (
            f"{chapter}: printed output split into {len(boxes)} boxes: {first_line}"
        )


# A pointer to one part of the long LSTM chapter, as its sentence reads before the link, and the
# section it must open: the chapter's top leaves a reader a thousand lines from the answer.
POINTERS_INTO_THE_LSTM_CHAPTER = [
    ("05-return-flags", "through the output gate", "lstm-gates"),
    ("05-return-flags", "the formula is in", "lstm-parameters"),
    ("06-embedding", "the fused cuDNN kernel", "lstm-use-cudnn"),
    ("07-gru-bidirectional", "three gates and a candidate", "lstm-gates"),
    ("07-gru-bidirectional", "belongs to the last timestep", "lstm-go-backwards"),
    ("08-putting-together", "so here is one that can", "lstm-gate-race"),
    ("08-putting-together", "The reason is the one given in", "lstm-gate-race"),
]


@pytest.mark.parametrize(("chapter", "before", "anchor"), POINTERS_INTO_THE_LSTM_CHAPTER)
def test_pointers_into_the_lstm_chapter_open_the_section_they_mean(
    build_output: str, chapter: str, before: str, anchor: str
) -> None:
    """Does a link that sends the reader to one part of the LSTM chapter (the parameter
    formula, cuDNN, go_backwards, the race) open that section, not the chapter's top?"""
    for paragraph in page(chapter).select("p"):
        text = " ".join(paragraph.get_text().split())
        if before not in text:
            continue
        after = text.split(before, 1)[1]
        links = [a for a in paragraph.select("a.reference.internal") if "04-lstm" in a["href"]]
        following = [a for a in links if " ".join(a.get_text().split()) in after]
        assert following, f"{chapter}: no link into the LSTM chapter after {before!r}"
        assert following[0]["href"].endswith(f"04-lstm.html#{anchor}"), (
            f"{chapter}: the link after {before!r} opens {following[0]['href']}, not #{anchor}"
        )
        return
    pytest.fail(f"{chapter}: no paragraph reads {before!r}")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_ends_with_summary_and_exercises(build_output: str, chapter: str) -> None:
    """Does the chapter end with Summary then Exercises, and link its graded notebook?"""
    soup = page(chapter)
    sections = [heading_text(h2) for h2 in soup.select("article h2, main h2") or soup("h2")]
    assert sections[-2:] == ["Summary", "Exercises"], f"{chapter}: sections end {sections[-3:]}"
    exercises = soup.find("section", id="exercises")
    assert exercises is not None
    targets = []
    for link in exercises.find_all("a", href=True):
        href = link["href"].split("#")[0]
        if "exercises/" in href and not href.startswith(("http:", "https:")):
            targets.append(PurePosixPath("book", href))
    if (ROOT / "solutions" / chapter).is_dir():
        wanted = [t for t in targets if t.stem == chapter and t.parent.name == chapter]
        assert wanted, f"{chapter}: the Exercises section does not link its own notebook"
    assert targets, f"{chapter}: the Exercises section links no exercise notebook"
    for target in targets:
        resolved = (HTML / target).resolve()
        assert resolved.exists(), f"{chapter}: the link to {target} leads nowhere"


def readme_headings(markdown: str) -> list[str]:
    """The headings of a piece of the README, outside its code blocks, without backticks."""
    prose = re.sub(r"^\s*```.*?^\s*```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return [
        line.lstrip("#").strip().replace("`", "")
        for line in prose.splitlines()
        if line.startswith("#")
    ]


def test_instructor_chapter_includes_the_readme_workflow_and_names_the_rest(
    build_output: str,
) -> None:
    """Does the instructor chapter carry the README guide's workflow (one source, included,
    not copied), leave out its internals (the sandbox, the cluster, the costs), which a
    reader running the course does not need on the page, and name each section it leaves
    out, so an instructor finds it in the README?"""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = readme.split("<!-- instructors-start -->")[1].split("<!-- instructors-end -->")[0]
    workflow = guide.split("<!-- book-workflow-start -->")[1].split("<!-- book-workflow-end -->")[0]
    included = readme_headings(workflow)
    left_out = readme_headings(guide.split("<!-- book-workflow-end -->")[1])
    assert "4. Grade" in included and "Large courses" in left_out, (included, left_out)
    soup = page("10-for-instructors")
    headings = {heading_text(h) for h in soup.select("h1, h2, h3, h4")}
    missing = [heading for heading in included if heading not in headings]
    assert not missing, f"the instructor chapter lacks the README's headings {missing}"
    shown = [heading for heading in left_out if heading in headings]
    assert not shown, f"the instructor chapter includes the README's internals {shown}"
    text = " ".join(soup.get_text().split())
    unnamed = [heading for heading in left_out if f"{heading}:" not in text]
    assert not unnamed, f"the instructor chapter does not point to the README's {unnamed}"
    assert "nbgrader generate_assignment 05-return-flags --force" in text
    # The README's internals, which the chapter's page carried in full before.
    for internal in ("seccomp", "RLIMIT_NPROC", "dask worker"):
        assert internal not in text, internal


@pytest.mark.parametrize(("chapter", "prefix", "constant"), RACE_CLAIMS)
def test_a_chapters_race_claim_shows_the_constants_numbers(
    build_output: str, chapter: str, prefix: str, constant: str
) -> None:
    """Does the built page state the seeds and thresholds of ``lstm_lib.tasks``'s constant,
    so a glue that broke or a key that changed cannot leave other numbers on the page?"""
    from lstm_lib import tasks

    claim = getattr(tasks, constant)
    seeds = ", ".join(map(str, claim.seeds[:-1])) + f" and {claim.seeds[-1]}"
    text = " ".join(page(chapter).get_text(" ").split())
    for words in (
        f"the same race on seeds {seeds} and check",
        f"stays below {claim.simplernn_below:.0%} while",
        f"reach at least {claim.gated_at_least:.0%}",
    ):
        assert words in text, f"{chapter}: the page does not say {words!r}"
    if chapter == "04-lstm":
        memory = tasks.MEMORY_CLAIM
        for words in (
            f"at least {memory.memory_units_at_least} units are memory units",
            f"averages below {memory.forget_mean_below:g} over both signs",
            f"above {memory.latch_above:g} after one sign and below {memory.latch_below:g}",
            f"beyond {memory.final_cell_beyond:g} in size",
            f"a forget gate above {memory.textbook_forget_above:g} and an input gate below "
            f"{memory.textbook_input_below:g}",
        ):
            assert words in text, f"{chapter}: the page does not say {words!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_prose_shapes_come_from_code(build_output: str, chapter: str) -> None:
    """Is every concrete shape the chapter's prose writes, such as (None, 10, 64) or
    (32, 10, 8), also in the chapter's code or executed outputs, so no shape in the text is a
    hand-typed copy? (``prose_shapes`` says what counts as a shape.)"""
    prose, code = source_cells(chapter)
    shown = squeeze(executed_text(chapter) + "\n".join(code))
    violations = [
        f"book/{chapter}.md:{number}: {shape}"
        for number, shape in prose_shapes(prose)
        if squeeze(shape) not in shown
    ]
    assert not violations, (
        "shapes written in prose that no code cell prints or contains:\n" + "\n".join(violations)
    )


# --- errors shown on the pages ----------------------------------------------------------

# The name an error is shown under, "%xmode Minimal" style: ValueError, InvalidArgumentError...
ERROR_TYPE = re.compile(
    r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)(?::|$)"
)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_says_what_it_shows(build_output: str, chapter: str) -> None:
    """Does every image a chapter's code draws carry alt text (``mystnb: image: alt:``),
    rather than the file path Sphinx falls back to, which is all a screen reader had?"""
    silent = [
        image.get("src")
        for image in page(chapter).select("div.cell_output img")
        if len(image.get("alt") or "") < 20 or "_images/" in image.get("alt", "")
    ]
    assert not silent, f"{chapter}: figures without alt text: {silent}"


def test_no_build_machine_paths_in_the_published_book(build_output: str) -> None:
    """Does no built page, and no chapter source or notebook offered for download, carry the
    build machine's absolute path to the repository or a ``site-packages`` path (as a full
    traceback's frames do)?"""
    published = [
        path
        for path in HTML.rglob("*")
        if path.suffix in {".html", ".ipynb", ".md"} and path.is_file()
    ]
    assert any(path.suffix == ".html" for path in published)
    leaks = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in published
        for needle in (str(ROOT), "site-packages")
        if needle in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not leaks, "built files name the build machine's paths:\n" + "\n".join(leaks)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_errors_shown_name_their_type(build_output: str, chapter: str) -> None:
    """Does every error a chapter shows start with its type (``ValueError: ...``), without a
    traceback's frames, in a block whose long lines the page wraps rather than cuts?"""
    soup = page(chapter)
    errors = soup.select("div.cell_output div.traceback")
    for error in errors:
        text = error.get_text().strip()
        first_line = text.splitlines()[0] if text else ""
        assert ERROR_TYPE.match(first_line), f"{chapter}: an error without its type: {text[:200]}"
        assert "Traceback (most recent call last)" not in text, f"{chapter}: {first_line}"
        assert not re.search(r'^\s*(File "|Cell In\[)', text, re.M), f"{chapter}: {first_line}"
    if errors:
        stylesheets = [link.get("href", "") for link in soup.select("link[rel=stylesheet]")]
        assert any("readable_errors.css" in href for href in stylesheets), chapter
        css = (HTML / "_static" / "readable_errors.css").read_text(encoding="utf-8")
        assert "white-space: pre-wrap" in css


# --- the second edition: readers outside a graded course ---------------------------------

# The chapters whose Exercises end with ungraded questions (04 and 08 are edited elsewhere).
SELF_CHECKED = [
    "01-start-here",
    "02-dense",
    "03-simplernn",
    "05-return-flags",
    "06-embedding",
    "07-gru-bidirectional",
    "09-keras2-to-keras3",
]


@pytest.mark.parametrize("chapter", SELF_CHECKED)
def test_exercises_end_with_ungraded_questions_in_dropdowns(
    build_output: str, chapter: str
) -> None:
    """After the link to its graded notebook, does the chapter's Exercises section end with
    2 or 3 ungraded questions, each answer folded in a dropdown that opens on a click?"""
    exercises = page(chapter).find("section", id="exercises")
    assert exercises is not None
    html = str(exercises)
    link = max(html.rfind(f'href="{href}') for href in ("../exercises/", "exercises/"))
    assert link >= 0, f"{chapter}: no link to a graded notebook"
    dropdowns = exercises.select("details.sd-dropdown")
    assert 2 <= len(dropdowns) <= 3, f"{chapter}: {len(dropdowns)} dropdowns"
    for dropdown in dropdowns:
        assert html.find(str(dropdown)) > link, f"{chapter}: an answer before the graded link"
        assert not dropdown.has_attr("open"), f"{chapter}: an answer is open from the start"
        assert "Answer" in dropdown.select_one("summary").get_text()
        assert len(dropdown.get_text(" ", strip=True).split()) > 10


def test_index_says_who_what_and_how_long(build_output: str) -> None:
    """Does the home page say who the book is for and what to know first (Python, a little
    NumPy), and show a table of every chapter's reading time that code computed on the page
    from the chapter's words and code cells?"""
    soup = BeautifulSoup((HTML / "book" / "index.html").read_text(encoding="utf-8"), "html.parser")
    headings = [heading_text(h) for h in soup.select("article h2")]
    assert "Who it is for" in headings and "What to know first" in headings, headings
    text = soup.get_text(" ")
    assert "Python" in text and "NumPy" in text
    table = soup.select_one("div.cell_output table")
    assert table is not None, "the reading-time table is not an executed output"
    rows = [[cell.get_text().strip() for cell in row.select("td")] for row in table.select("tr")]
    rows = [row for row in rows if row]
    numbered = [row for row in rows if re.match(r"\d\d\. ", row[0])]
    assert [row[0][:2] for row in numbered] == [chapter[:2] for chapter in CHAPTERS]
    for row, chapter in zip(numbered, CHAPTERS, strict=True):
        words, cells = int(row[1].replace(",", "")), int(row[2])
        # Counted from the chapters as they are now, not from an old build's cache; a cell
        # the page does not show is not counted.
        shown = [cell for cell in source_cells(chapter)[1] if not HIDDEN_CELL.search(cell)]
        assert cells == len(shown), (chapter, row)
        minutes = words / 200 + 2 * cells
        assert row[3] == f"{5 * -(-round(minutes) // 5)} min", row


STUDENT_NOTEBOOKS = sorted(
    path.relative_to(ROOT).with_suffix("").as_posix()
    for path in (ROOT / "exercises").glob("*/*.ipynb")
)


@pytest.mark.parametrize("notebook", STUDENT_NOTEBOOKS)
def test_exercise_pages_say_how_to_work_and_hide_the_grading_code(
    build_output: str, notebook: str
) -> None:
    """An Exercises page starts with how to open, install, answer and hand in the notebook,
    and shows the questions but none of the install, setup or check code."""
    article = BeautifulSoup(
        (HTML / f"{notebook}.html").read_text(encoding="utf-8"), "html.parser"
    ).find("article")
    text = article.get_text(" ", strip=True)
    opening = text[: text.find("Q1")]
    for step in ("How to work on this assignment", "Open it", "Install nothing", "Hand it in"):
        assert step in opening, f"{step!r} is not before the first question"
    code = " ".join(block.get_text() for block in article.select("div.cell_input"))
    for grading in ("COURSE_LIBRARY", "lstm_lib.checks", "use_mode", "grade_answer", "expect_"):
        assert grading not in code, f"{grading} is shown to readers"
    assert "YOUR CODE HERE" in code, "the answer cells are gone too"


@pytest.mark.parametrize("notebook", STUDENT_NOTEBOOKS)
def test_exercise_pages_name_their_chapter_by_its_title(build_output: str, notebook: str) -> None:
    """Does an Exercises page's "Chapter:" link lead to its own chapter and name it by the
    chapter's title, as every other page does, rather than by the short name its notebook
    types (book/_ext/chapter_links.py)?"""
    page_path = HTML / f"{notebook}.html"
    article = BeautifulSoup(page_path.read_text(encoding="utf-8"), "html.parser").find("article")
    (paragraph,) = [p for p in article.find_all("p") if p.get_text().startswith("Chapter:")]
    (link,) = paragraph.find_all("a", href=True)
    target = (page_path.parent / link["href"].split("#")[0]).resolve()
    assert target == (HTML / "book" / f"{PurePosixPath(notebook).name}.html").resolve()
    chapter = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    title = heading_text(chapter.find("article").find("h1"))
    assert " ".join(link.get_text().split()) == title


# --- readers with a screen reader or voice control ------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_hidden_cell_toggles_are_named_by_their_visible_text(
    build_output: str, chapter: str
) -> None:
    """Is every "Show code cell source" toggle of a chapter named by the words it shows,
    not by a label the reader never sees ("Toggle hidden content"), so that a screen reader
    announces what it shows and a voice command naming its words finds it (WCAG 2.5.3)?"""
    toggles = page(chapter).select("div.cell details.hide > summary")
    misnamed = [
        toggle.get("aria-label")
        for toggle in toggles
        if toggle.has_attr("aria-label") or "Show code cell source" not in toggle.get_text()
    ]
    assert not misnamed, f"{chapter}: {len(misnamed)} toggles named otherwise: {misnamed[:1]}"


# Each control of a page's header by role and the name it carries, saying what the control
# does and holding the words it shows. The theme names the icon buttons by their tooltip
# alone ("Toggle primary sidebar", "Fullscreen mode") and a menu item by its bare ".ipynb".
FULL_SCREEN = ("button", "Show the page full screen, or leave full screen")
PRINT = ("button", "Print this page or save it as PDF (.pdf)")
HEADER_NAMES = {
    "book/02-dense.html": [
        ("button", "Show or hide the book's chapters"),
        ("button", "Show or hide the contents of this page"),
        FULL_SCREEN,
        ("link", "Launch on Binder"),
        ("link", "Download this page as a notebook (.ipynb)"),
        ("link", "Download this page's source (.md)"),
        PRINT,
    ],
    "exercises/02-dense/02-dense.html": [
        ("button", "Show or hide the book's chapters"),
        FULL_SCREEN,
        ("link", "Launch on Binder"),
        ("link", "Launch on Colab"),
        ("link", "Download this page's source (.ipynb)"),
        PRINT,
    ],
}
HEADER_CONTROLS = ".bd-header-article button, .bd-header-article a"
ROLES = {"button": "button", "link": "a[href]"}


def shown_words(control) -> str:
    return " ".join(control.get_text(" ").split())


@pytest.mark.parametrize("name", list(HEADER_NAMES))
def test_the_built_html_names_the_header_controls(build_output: str, name: str) -> None:
    """Does the built page itself, with no script run, name every button and link of its
    header (``aria-label``) for what pressing it does, with the words it shows, so that a
    reader without JavaScript, or a tool that reads the HTML, hears "Show or hide the book's
    chapters" rather than the tooltip's "Toggle primary sidebar"? Does the colour-mode
    button carry its name for each mode, which the page's script takes as the mode changes?"""
    soup = BeautifulSoup((HTML / name).read_text(encoding="utf-8"), "html.parser")
    controls = soup.select(HEADER_CONTROLS)
    assert controls, f"{name}: no header controls"
    unnamed = [str(control)[:160] for control in controls if not control.get("aria-label")]
    assert not unnamed, f"{name}: header controls without a name: {unnamed}"
    unspoken = [
        (shown_words(control), control["aria-label"])
        for control in controls
        if shown_words(control) not in control["aria-label"]
    ]
    assert not unspoken, f"{name}: names that leave out the words shown: {unspoken}"
    carried = {
        expected: sum(control.get("aria-label") == expected for control in soup.select(ROLES[role]))
        for role, expected in HEADER_NAMES[name]
    }
    assert all(count == 1 for count in carried.values()), f"{name}: {carried}"
    (colour_mode,) = soup.select(".bd-header-article .theme-switch-button")
    by_mode = {mode: colour_mode.get(f"data-name-{mode}") for mode in ("light", "dark", "auto")}
    # A first visit starts in the book's default mode, light; a stored one, in the browser.
    assert colour_mode["aria-label"] == "Color mode: light (press to change)", by_mode
    assert by_mode["light"] == colour_mode["aria-label"] == colour_mode["data-bs-title"], by_mode
    assert "dark" in by_mode["dark"] and "system" in by_mode["auto"], by_mode


# Each page's dialogs by id, with the name the built HTML gives each: the search box, and the
# drawers of a narrow screen, one for the chapters and, where a page has contents of its own,
# one for those. The theme leaves them unnamed.
DIALOG_NAMES = {
    "book/02-dense.html": {
        "pst-search-dialog": "Search this book",
        "pst-primary-sidebar-modal": "Book navigation",
        "pst-secondary-sidebar-modal": "Contents of this page",
    },
    "exercises/02-dense/02-dense.html": {
        "pst-search-dialog": "Search this book",
        "pst-primary-sidebar-modal": "Book navigation",
    },
}


@pytest.mark.parametrize("name", list(DIALOG_NAMES))
def test_the_built_html_names_the_sidebar_landmark_and_the_dialogs(
    build_output: str, name: str
) -> None:
    """Does the built page itself, with no script run, make its primary sidebar (the book's
    title, search and chapters) the book's navigation landmark, named "Book", and name the
    search box's and the drawers' dialogs, so that a reader without JavaScript, or a tool
    that reads the HTML, finds the sidebar among the page's regions and hears each dialog's
    name?"""
    soup = BeautifulSoup((HTML / name).read_text(encoding="utf-8"), "html.parser")
    books = soup.select("[role=navigation][aria-label=Book], nav[aria-label=Book]")
    assert [(tag.name, tag.get("id")) for tag in books] == [("div", "pst-primary-sidebar")]
    dialogs = {dialog.get("id"): dialog.get("aria-label") for dialog in soup.select("dialog")}
    assert dialogs == DIALOG_NAMES[name], f"{name}: {dialogs}"


# Keras names a layer or model the cell does not name by a page-wide counter ("lstm_15"): it
# counts every LSTM the page has made before, not what the cell shows. Every chapter's
# explain() tables and printed outputs name what the cell builds. (Chapter 09 quotes Keras 2
# listings as written, counters included: they are prose, not what the chapter's code prints.)
# A counted name starts with a Keras class's snake-case name, never a single letter: the
# book's own notation for a step's state, "h_2", is not one.
KERAS_COUNTER = re.compile(r"\b[a-z]{2,}(?:_[a-z]+)*_\d+\b")
# A layer's output tensor takes no name: Keras's own error message quoting one is left as is.
KERAS_TENSOR = re.compile(r"\bkeras_tensor_\d+\b")
# A cell shows an explain() table where the call is an unindented expression of its own.
SHOWN_EXPLAIN = re.compile(r"^lstm_lib\.explain\(", flags=re.M)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_explain_tables_name_what_the_cell_builds(build_output: str, chapter: str) -> None:
    """Does each ``lstm_lib.explain`` table of the chapter name its model and layers as the
    cell does, rather than by Keras's page-wide counters ("sequential_3", "lstm_15") that
    leave a reader wondering where the other fourteen LSTMs are?"""
    tables = page(chapter).select("table.lstm-lib-model-table")
    _, code = source_cells(chapter)
    shown = sum(len(SHOWN_EXPLAIN.findall(cell)) for cell in code)
    assert len(tables) == shown, f"{chapter}: {len(tables)} explain tables, {shown} in its code"
    names = [
        cell.get_text() for table in tables for cell in table.select("caption, tbody th[scope=row]")
    ]
    counted = [name for name in names if KERAS_COUNTER.search(name)]
    assert not counted, f"{chapter}: tables named by Keras's counters: {counted}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_printed_outputs_name_what_the_cell_builds(build_output: str, chapter: str) -> None:
    """Do the chapter's outputs (summaries, printed layer names and weight paths, error
    messages) name each layer and model as the code does, never by Keras's page-wide
    counters?"""
    outputs = page(chapter).select("div.cell_output")
    assert outputs, f"{chapter}: no outputs"
    counted = sorted(
        {
            name
            for output in outputs
            for name in KERAS_COUNTER.findall(KERAS_TENSOR.sub("", output.get_text()))
        }
    )
    assert not counted, f"{chapter}: outputs name Keras's counters: {counted}"


def test_the_root_page_is_titled_in_a_language_and_links_the_book(build_output: str) -> None:
    """Does the site's root page, which sends the reader on to the book, declare its language
    and title for a screen reader, and hold a link to the book's first page for a reader
    whose browser does not follow automatic redirects?"""
    soup = BeautifulSoup((HTML / "index.html").read_text(encoding="utf-8"), "html.parser")
    root = soup.find("html")
    assert root is not None and root.get("lang"), "the root page declares no language"
    assert soup.title is not None and soup.title.get_text().strip(), "the root page has no title"
    links = {a.get("href"): a.get_text().strip() for a in soup.select("a[href]")}
    assert links.get("book/index.html"), f"no link with text to the book's first page: {links}"
    assert soup.select_one("meta[http-equiv=Refresh]"), "the root page no longer redirects"
