"""Does the book build cleanly, with every chapter executed, closed and linked as promised?

The book is built with ``make book``, from the repository root, into the shared ``_build``
(its execution cache makes a rebuild of unchanged chapters take seconds).
The built HTML is then read: executed outputs and figures on every chapter page, no
traceback outside cells tagged ``raises-exception``, ``## Summary`` and ``## Exercises`` at
the end with a link to the chapter's notebook, the README's instructor workflow included in the
instructor chapter, no concrete shape such as ``(None, 10, 64)`` or ``(32, 10, 8)`` in a
chapter's prose that its code does not hold or its executed outputs do not print, no size
typed into a chapter's prose ("Predict first" and "Check yourself" questions included) that
code chooses, and every exercise page's "Chapter:" link titled as its chapter.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import tokenize
from io import StringIO
from pathlib import Path, PurePosixPath

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"
CHAPTERS = sorted(path.stem for path in BOOK.glob("[0-9][0-9]-*.md"))
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
# A concrete shape written in prose: (None, 10, 64), (32, 10, 8), (None,), (32,): two axes or
# more, or one with its trailing comma, each None or a whole number. Left alone: a form that
# names an axis, (batch, timesteps, features) or (batch, 10, 8), which code builds from
# variables; a call's arguments, Embedding(1000, 64), and a keyword's value,
# keras.Input(shape=(10,)), which the text hands to Keras rather than reports from it; math,
# $(0, 1)$; and a number with a thousands separator, (1,000).
DIM = r"\s*(?:None|\d+)\s*"
SHAPE = re.compile(rf"(?<![\w=])\((?:{DIM}(?:,{DIM})+,?|{DIM},)\s*\)")
THOUSANDS = re.compile(r"\(\d{1,3}(?:,\d{3})+\)")
CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}")
# A code cell the page does not show: `:tags: [remove-cell]`, or `tags:` in its metadata.
HIDDEN_CELL = re.compile(r"^:?tags:.*\bremove-cell\b", flags=re.M)
# A worked result typed in prose: "20 × 16 + 16 = 336", "8 × 11 + 8", "= `(3, 8)`". Such a
# line is glued from the chapter's code (lstm_lib.shapes.param_formula, count_params...).
TYPED_RESULT = re.compile(r"\d[\d\s×*+·()−-]*?[×*+·−-][\d\s×*+·()−-]*=\s*`?\(?\d|=\s*`\(\d")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build_output() -> str:
    """Build the book once for this module; fail every test here if the build fails."""
    result = subprocess.run(BUILD, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"`make book` exited with {result.returncode}:\n{output[-6000:]}")
    return output


def test_the_book_tests_build_as_make_book_does(tmp_path: Path) -> None:
    """Do the book's tests build with ``make book``'s own recipe, so that after a change to
    ``book/_ext`` Sphinx's saved pages are dropped for them too? A direct ``jb build`` kept
    every old page, and a test read markup the extension under test had never written."""
    stamps = [f"CACHE_STAMP={tmp_path / 'cache'}", f"DOCTREES_STAMP={tmp_path / 'pages'}"]
    for stamp in stamps:
        Path(stamp.partition("=")[2]).touch()
    changed = ["-W", "book/_ext/static/every_reader.js"]
    dry_run = subprocess.run(
        [BUILD[0], "-n", *changed, *stamps, *BUILD[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert "rm -rf _build/.doctrees" in dry_run.stdout, dry_run.stdout
    assert "jb build" in dry_run.stdout, dry_run.stdout


def page(chapter: str) -> BeautifulSoup:
    path = HTML / "book" / f"{chapter}.html"
    assert path.exists(), f"{path.relative_to(ROOT)} was not built"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def source_cells(chapter: str) -> tuple[list[tuple[int, str]], list[str]]:
    """A chapter's prose lines (number, text) and its code cells' sources."""
    lines = (BOOK / f"{chapter}.md").read_text(encoding="utf-8").splitlines()
    prose: list[tuple[int, str]] = []
    code: list[str] = []
    fence = None
    front_matter = bool(lines) and lines[0].strip() == "---"
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if front_matter:
            front_matter = number == 1 or stripped != "---"
            continue
        if fence is not None:
            if stripped == fence:
                fence = None
            else:
                code[-1] += line + "\n"
            continue
        opening = CODE_CELL.match(stripped)
        if opening:
            fence = opening.group(1)
            code.append("")
            continue
        prose.append((number, line))
    return prose, code


def prose_shapes(prose: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The concrete shapes (``SHAPE``) written in prose lines, with their line numbers, math
    (``$...$`` and ``$$`` blocks) left out."""
    found = []
    display_math = False
    for number, line in prose:
        if line.strip().startswith("$$"):
            display_math = not display_math if line.strip() == "$$" else display_math
            continue
        if display_math:
            continue
        text = re.sub(r"\$[^$]*\$", "", line)
        found += [
            (number, shape) for shape in SHAPE.findall(text) if not THOUSANDS.fullmatch(shape)
        ]
    return found


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


def test_ten_chapters() -> None:
    """Are there the ten chapters the table of contents lists?"""
    assert len(CHAPTERS) == 10, CHAPTERS
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        assert f"file: book/{chapter}" in toc


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


def test_instructor_chapter_names_only_options_lstm_grade_has() -> None:
    """Is every ``lstm-grade`` option the instructor chapter's own prose names (the README's
    included workflow aside) one that ``lstm-grade --help`` lists, so a renamed option cannot
    leave the chapter pointing at one that is gone?"""
    prose, _ = source_cells("10-for-instructors")
    named = set(re.findall(r"`(?:lstm-grade )?(--[a-z][a-z-]*)", "\n".join(t for _, t in prose)))
    assert {"--workers", "--scheduler"} <= named, named
    command = Path(sys.executable).parent / "lstm-grade"
    usage = subprocess.run(
        [str(command), "--help"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    missing = sorted(
        option for option in named if option not in set(re.findall(r"--[a-z-]+", usage))
    )
    assert not missing, f"the instructor chapter names options lstm-grade lacks: {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_prose_types_no_worked_result(chapter: str) -> None:
    """Does no prose line of a chapter (math aside) type the result of a sum or product,
    such as "20 × 16 + 16 = 336", that its code could compute and glue instead?"""
    prose, _ = source_cells(chapter)
    typed = [
        f"book/{chapter}.md:{number}: {found.group()}"
        for number, line in prose
        for found in TYPED_RESULT.finditer(re.sub(r"\$[^$]*\$", "", line))
    ]
    assert not typed, "results typed in prose instead of glued:\n" + "\n".join(typed)


def cell_python(source: str) -> str:
    """A code cell's Python, without its ``:tags:`` line or ``---`` metadata block."""
    lines = source.splitlines()
    if lines and lines[0].strip() == "---":
        lines = lines[lines.index("---", 1) + 1 :]
    return "\n".join(line for line in lines if not line.startswith(":tags:"))


def typed_figure_sizes(python: str) -> list[str]:
    """The calls to ``plots.*`` in ``python`` that type a size: a whole number passed
    positionally or as ``timesteps=``, ``units=`` or ``features=``."""
    typed = []
    for node in ast.walk(ast.parse(python)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "plots"
        ):
            continue
        arguments = list(node.args) + [
            keyword.value
            for keyword in node.keywords
            if keyword.arg in ("timesteps", "units", "features")
        ]
        if any(isinstance(a, ast.Constant) and type(a.value) is int for a in arguments):
            typed.append(ast.unparse(node))
    return typed


def typed_figure_comment_sizes(python: str) -> list[str]:
    """The comments of a cell drawing a ``plots.*`` figure that type a size: a concrete
    shape, ``(batch, 5, 3)``, or a layer with a number, ``SimpleRNN(4)``. Such a comment
    describes the figure to the reader and goes stale when the layer it names changes."""
    if not re.search(r"\bplots\.\w+\(", python):
        return []
    comments = [
        token.string
        for token in tokenize.generate_tokens(StringIO(python).readline)
        if token.type == tokenize.COMMENT
    ]
    concrete = re.compile(rf"{SHAPE.pattern}|\(\s*batch\s*(?:,\s*\d+\s*)+\)|\b[A-Z]\w*\(\d")
    return [comment for comment in comments if concrete.search(comment)]


def test_typed_figure_sizes_finds_typed_numbers_only() -> None:
    """Does the check catch a size typed into a figure call, and pass one read from code?"""
    assert typed_figure_sizes('plots.unrolled_rnn(4, cell="SimpleRNN", units=4)') == [
        "plots.unrolled_rnn(4, cell='SimpleRNN', units=4)"
    ]
    assert typed_figure_sizes("fig = plots.task_taxonomy_diagram(timesteps=3, units=n)") != []
    assert typed_figure_sizes("plots.unrolled_layer(layer)") == []
    assert typed_figure_sizes("plots.gate_activations(trace, unit=0)") == []
    assert typed_figure_sizes("plots.task_taxonomy_diagram(layer=l, timesteps=x.shape[1])") == []
    assert typed_figure_comment_sizes("plots.unrolled_layer(rnn)  # SimpleRNN(4) on (batch, 5, 3)")
    assert typed_figure_comment_sizes("fig = plots.unrolled_layer(rnn)  # on (None, 5, 3)")
    assert typed_figure_comment_sizes("plots.unrolled_layer(rnn)  # on (batch, 5, 3)")
    assert not typed_figure_comment_sizes("plots.unrolled_layer(rnn)  # (batch, timesteps, units)")
    assert not typed_figure_comment_sizes("x = f(3)  # SimpleRNN(4) on (batch, 5, 3), no figure")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_take_their_sizes_from_code(chapter: str) -> None:
    """Does every figure a chapter draws take its timesteps, units and features from the
    chapter's layers and data, so a figure cannot describe a layer the page does not have?"""
    _, code = source_cells(chapter)
    typed = [call for cell in code for call in typed_figure_sizes(cell_python(cell))]
    typed += [comment for cell in code for comment in typed_figure_comment_sizes(cell_python(cell))]
    assert not typed, f"book/{chapter}.md: figure sizes typed instead of read:\n" + "\n".join(typed)


# A size stated in a figure's caption or alt text, "the first three positions", "16 units":
# a number (one aside, which names a single thing, "one timestep of the LSTM") before a noun
# that counts what a layer or the data holds, perhaps with one word between. Captions are
# typed text, so such a size would stay when the code drawing the figure changed it. Counts
# fixed by a layer's design, "two bias rows", "four column blocks", name no such noun.
COUNT = r"\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
SIZE_NOUN = (
    r"timesteps?|steps?|units?|features?|positions?|epochs?|ids?|words?|reviews?|"
    r"sequences?|dimensions?|numbers?|parameters?"
)
TYPED_CAPTION_SIZE = re.compile(rf"\b(?:{COUNT})\s+(?:[\w-]+\s+)?(?:{SIZE_NOUN})\b", re.I)


def figure_texts(chapter: str) -> list[tuple[str, str]]:
    """Each figure's caption and alt text in a chapter, as (what, text) pairs."""
    source = (BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    texts = []
    for block in re.finditer(r"^`{3,}\{code-cell\}[^\n]*\n---\n(.*?)^---\n", source, re.M | re.S):
        options = (yaml.safe_load(block.group(1)) or {}).get("mystnb", {})
        texts.append(("caption", options.get("figure", {}).get("caption", "")))
        texts.append(("alt text", options.get("image", {}).get("alt", "")))
    return [(what, text) for what, text in texts if text]


def test_typed_caption_sizes_finds_sizes_not_counts_fixed_by_design() -> None:
    """Does the check catch a size a caption types, and leave counts every such layer has?"""
    found = [
        match.group()
        for text in (
            "the first three positions are traced",
            "an LSTM of 16 units",
            "over 12 timesteps",
            "one timestep of the LSTM above",
            "the bias holds two rows of 3 × units",
            "four column blocks",
            "each outlined position",
        )
        for match in TYPED_CAPTION_SIZE.finditer(text)
    ]
    assert found == ["three positions", "16 units", "12 timesteps"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figure_captions_state_no_size(chapter: str) -> None:
    """Does no caption or alt text of a chapter's figures state a size (timesteps, units,
    positions...) that the code drawing the figure chooses, and could change unseen?"""
    typed = [
        f"book/{chapter}.md {what}: {match.group()!r} in {text!r}"
        for what, text in figure_texts(chapter)
        for match in TYPED_CAPTION_SIZE.finditer(text)
    ]
    assert not typed, "sizes typed into figure texts:\n" + "\n".join(typed)


# --- sizes typed into "Predict first" questions ------------------------------------------

# A size a question can type that the cell after it chooses in code: a layer called with a
# whole number among its arguments, `Dense(16)`, `Embedding(1000, 64)`, `LSTM(4,
# input_shape=(3, 1))`; a shape that names its batch axis and types the others,
# `(batch, 10, 8)`; a whole number before a size noun, "3 features", "10 timesteps". Left
# alone: values that are not sizes, `Masking(mask_value=0.0)`, `Dropout(0.5)`; counts in
# words, "two gates", which a layer's design fixes; glued values, which come from code.
TYPED_CALL_SIZE = re.compile(
    r"\b[A-Z]\w*\((?:[^()]|\([^()]*\))*?(?<![\w.])\d+(?![\w.])(?:[^()]|\([^()]*\))*\)"
)
TYPED_AXIS_SHAPE = re.compile(r"\(batch,[^()]*?(?<![\w.])\d+(?![\w.])[^()]*\)")
# "1 per unit", "1 at step p" give a value, not a count: no size is typed there.
TYPED_COUNT_SIZE = re.compile(
    rf"\b\d[\d,]*\s+(?:(?!(?:per|at)\b)[\w-]+\s+)?(?:{SIZE_NOUN})\b", re.I
)
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")
PREDICT_FIRST = re.compile(r"^:::\{admonition\} Predict first\n(.*?)^:::$", re.M | re.S)


def typed_sizes(text: str) -> list[str]:
    """The sizes ``text`` types (``TYPED_CALL_SIZE``, ``TYPED_AXIS_SHAPE``,
    ``TYPED_COUNT_SIZE``), glued values and math left out."""
    text = re.sub(r"\$[^$]*\$", "", GLUE_ROLE.sub("", text))
    return [
        match.group()
        for pattern in (TYPED_CALL_SIZE, TYPED_AXIS_SHAPE, TYPED_COUNT_SIZE)
        for match in pattern.finditer(text)
    ]


def predict_first_questions(chapter: str) -> list[tuple[int, str]]:
    """Each "Predict first" question of a chapter: the line it opens on and its text."""
    source = (BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    return [
        (source.count("\n", 0, block.start()) + 1, block.group(1))
        for block in PREDICT_FIRST.finditer(source)
    ]


def test_typed_sizes_finds_sizes_and_leaves_values_counts_and_glue_alone() -> None:
    """Does the check catch a layer's size, a shape's axis or a count of features typed in a
    question, and leave alone values, design counts, symbolic shapes, glue and math?"""
    found = typed_sizes(
        "An `LSTM(64)` on 10 features, `Embedding(1000, 64)`, `LSTM(4, input_shape=(3, 1))` on "
        "`(batch, 5, 3)`, 1,000 timesteps? Not `LSTM(units, return_state=True)`, "
        "`(batch, timesteps, features)`, `Masking(mask_value=0.0)`, `Dropout(0.5)`, two gates, "
        "{glue:}`x_units` units, {glue:md}`call` on $(2, 3)$, `W[:, 0:2]`, say to 70%."
    )
    assert found == [
        "LSTM(64)",
        "Embedding(1000, 64)",
        "LSTM(4, input_shape=(3, 1))",
        "(batch, 5, 3)",
        "10 features",
        "1,000 timesteps",
    ]


def test_predict_first_questions_are_all_found() -> None:
    """Does the question reader find the questions of a chapter known to ask many, so the
    check below cannot pass by reading none?"""
    questions = predict_first_questions("04-lstm")
    assert len(questions) > 10
    assert all(text.startswith(":class: tip") for _, text in questions)


@pytest.mark.parametrize("chapter", [*CHAPTERS, "index"])
def test_predict_first_questions_type_no_size(chapter: str) -> None:
    """Does no "Predict first" question type a size (a layer's units, an input's features or
    timesteps, a shape) that the cell after it chooses in code? A reader who predicts from
    the question must predict about the sizes the code runs, so the question names the
    layer and input the cell makes and prints, or glues their sizes."""
    typed = [
        f"book/{chapter}.md:{line}: {size!r}"
        for line, text in predict_first_questions(chapter)
        for size in typed_sizes(text)
    ]
    assert not typed, "sizes typed into Predict first questions:\n" + "\n".join(typed)


# --- sizes typed anywhere in a chapter's prose ------------------------------------------

# The sizes a reader accepts typed in prose, with why. A size a layer's design or a task's
# definition fixes, whatever the code chooses: one sigmoid unit gives one probability per
# review, and a univariate series has one feature.
FIXED_BY_DESIGN = {
    'Dense(1, activation="sigmoid")': "one probability per review",
    "(batch, 1)": "the output of one sigmoid unit",
    "(batch, timesteps, 1)": "one sigmoid unit at every step",
    "(batch, T, 1)": "a univariate series: one feature, by definition",
    "1 feature": "a univariate series",
}
# Code and sizes a section quotes from elsewhere and is about: the Keras 2 listing and the
# tutorials chapter 09 repairs, the classic question whose input the next cell builds, the
# sizes of a cited pretrained table the book does not download. Each is checked to be still
# in its chapter, so the list cannot keep a stale exception.
QUOTED = {
    "03-simplernn": {
        "64 numbers": 'the classic confusion, quoted: "my input is (10, 64)..."',
    },
    "04-lstm": {
        "LSTM(32)": "the Keras 2 docstring's example the section is about",
        "LSTM(32, input_shape=(10, 64))": "the Keras 2 docstring's example, quoted",
        "64 numbers": "the question asked about that example",
        "32 units": "the answer, about that example",
        "10 steps": "the answer, about that example",
    },
    "06-embedding": {
        "400,000 words": "glove.6B's vocabulary, cited, not downloaded",
        "300 numbers": "glove.6B's widest vectors, cited",
        "Embedding(1000, 64, input_length=10)": "Keras 2 code, quoted and run as quoted",
    },
    "09-keras2-to-keras3": {
        "Embedding(5000, 32, input_length=50)": "the Keras 2 listing",
        'LSTM(output_dim=64, activation="sigmoid", inner_activation="hard_sigmoid")': (
            "the Keras 2 listing"
        ),
        "Dense(1)": "the Keras 2 listing",
        "Embedding(..., input_length=50)": "the listing's line the section repairs",
        "(batch, 50)": "the listing's input_length=50, as a shape",
        "LSTM(output_dim=64, ...)": "the listing's line, in the table of repairs",
        "LSTM(units=64, ...)": "its repair, in the table",
        "LSTM(64, inner_activation=...)": "the listing's line, in the table of repairs",
        "LSTM(64, recurrent_activation=...)": "its repair, in the table",
        "Embedding(10000, 32, input_length=100)": "the tutorial a question quotes",
    },
}


def prose_paragraphs(chapter: str) -> list[tuple[int, str]]:
    """Each paragraph of a chapter's prose, code cells left out, with the line it starts on:
    the text, headings, "Predict first" questions, "Check yourself" questions and their
    answers, tables and listings alike."""
    prose, _ = source_cells(chapter)
    paragraphs: list[tuple[int, str]] = []
    blank = True
    for number, line in prose:
        if not line.strip():
            blank = True
        elif blank:
            paragraphs.append((number, line))
            blank = False
        else:
            paragraphs[-1] = (paragraphs[-1][0], paragraphs[-1][1] + "\n" + line)
    return paragraphs


def unexplained_sizes(chapter: str) -> list[str]:
    """The sizes a chapter's prose types that no exception above explains."""
    accepted = FIXED_BY_DESIGN.keys() | QUOTED.get(chapter, {}).keys()
    return [
        f"book/{chapter}.md:{line}: {size!r}"
        for line, text in prose_paragraphs(chapter)
        for size in typed_sizes(text)
        if " ".join(size.split()) not in accepted
    ]


def test_prose_paragraphs_read_every_kind_of_prose() -> None:
    """Does the paragraph reader see a chapter's "Check yourself" questions and answers, its
    "Predict first" questions and a size typed across a line break, so the check below
    cannot pass by reading less than the page shows?"""
    text = "\n\n".join(paragraph for _, paragraph in prose_paragraphs("03-simplernn"))
    assert "### Check yourself (not graded)" in text
    assert ":::{dropdown} Answer" in text and ":::{admonition} Predict first" in text
    assert typed_sizes("an input of 10\nfeatures, or `LSTM(\n32)`") == [
        "LSTM(\n32)",
        "10\nfeatures",
    ]
    assert typed_sizes("a number between 0 and 1 per unit; 1 at step `p`") == []


@pytest.mark.parametrize("chapter", [*CHAPTERS, "index"])
def test_prose_types_no_size(chapter: str) -> None:
    """Does no paragraph of a chapter (its text, "Predict first" and "Check yourself"
    questions, answers and headings) type a size (a layer's units, an input's features or
    timesteps, a shape) that code chooses, save the sizes a reader accepts typed:
    ``FIXED_BY_DESIGN``, and what the chapter ``QUOTED``? A size the chapter's own code
    chooses is shown by a cell that makes and prints the layer and input, or glued."""
    typed = unexplained_sizes(chapter)
    assert not typed, "sizes typed into prose instead of glued or printed:\n" + "\n".join(typed)


@pytest.mark.parametrize("chapter", sorted(QUOTED))
def test_quoted_sizes_are_still_quoted(chapter: str) -> None:
    """Is every exception of ``QUOTED`` still typed in its chapter, so none outlives the
    quotation it excuses?"""
    typed = {
        " ".join(size.split())
        for _, text in prose_paragraphs(chapter)
        for size in typed_sizes(text)
    }
    stale = sorted(QUOTED[chapter].keys() - typed)
    assert not stale, f"book/{chapter}.md no longer quotes {stale}: drop them from QUOTED"


def comment_shapes(python: str) -> list[str]:
    """The concrete shapes, ``(3, 50, 32)``, that a cell's comments type. A comment that
    names the axes, ``(batch, timesteps, features)``, tells the reader what to look for;
    one that types the sizes repeats what the code computes and goes stale when it changes."""
    return [
        token.string
        for token in tokenize.generate_tokens(StringIO(python).readline)
        if token.type == tokenize.COMMENT and SHAPE.search(token.string)
    ]


def test_comment_shapes_finds_sizes_not_named_axes() -> None:
    """Does the check catch a concrete shape in a comment, and leave named axes alone?"""
    assert comment_shapes("x = f(y)  # (3, 50, 32)") == ["# (3, 50, 32)"]
    assert comment_shapes("x = f(y)  # (batch, timesteps, features) = (2, 5, 3)") != []
    assert comment_shapes("x = f(y)  # (batch, timesteps, features)") == []
    assert comment_shapes("x = f((3, 5))  # the shape") == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_shown_code_comments_type_no_shape(chapter: str) -> None:
    """Does no comment in the code a chapter shows type a concrete shape that the code
    computes, so a comment cannot tell the reader a shape the cell no longer has?"""
    shown = [cell for cell in source_cells(chapter)[1] if not HIDDEN_CELL.search(cell)]
    typed = [shape for cell in shown for shape in comment_shapes(cell_python(cell))]
    assert not typed, f"book/{chapter}.md: shapes typed in comments:\n" + "\n".join(typed)


def unshown_explains(python: str) -> list[str]:
    """The ``explain(...)`` calls of a cell whose table the page never shows: Jupyter
    displays the value of a cell's last statement only, so an ``explain(model)`` standing
    as a statement before others computes the table and throws it away."""
    body = ast.parse(python).body
    return [
        ast.unparse(statement)
        for statement in body[:-1]
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and (
            getattr(statement.value.func, "attr", None) == "explain"
            or getattr(statement.value.func, "id", None) == "explain"
        )
    ]


def test_unshown_explains_finds_a_table_before_other_statements_only() -> None:
    """Does the check catch an explain(...) followed by more code, and pass one that ends
    the cell, one that is printed and one whose rows are read?"""
    assert unshown_explains("lstm_lib.explain(m)\nglue('x', 1)") == ["lstm_lib.explain(m)"]
    assert unshown_explains("explain(m)\nfor a in b:\n    pass") == ["explain(m)"]
    assert unshown_explains("glue('x', 1)\nlstm_lib.explain(m)") == []
    assert unshown_explains("print(lstm_lib.explain(m))\nx = 1") == []
    assert unshown_explains("rows = lstm_lib.explain(m).rows\nx = 1") == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_explained_table_is_shown(chapter: str) -> None:
    """Does every ``lstm_lib.explain(model)`` a chapter's cells write as a statement end
    its cell, so the reader sees the table the prose around it reads from?"""
    _, code = source_cells(chapter)
    unshown = [call for cell in code for call in unshown_explains(cell_python(cell))]
    assert not unshown, f"book/{chapter}.md: tables computed and never shown:\n" + "\n".join(
        unshown
    )


@pytest.mark.parametrize(
    ("chapter", "race"), [("04-lstm", "train_race"), ("08-putting-together", "train_review_race")]
)
def test_a_chapters_race_is_the_one_its_claims_tests_train(chapter: str, race: str) -> None:
    """Does the chapter train its race with every setting the library's function defaults
    to, and no other, so the claims tests that run the race with the defaults on more seeds
    check the race the chapter shows?"""
    from lstm_lib import tasks

    _, code = source_cells(chapter)
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(getattr(tasks, race)).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name != "seed"
    }
    calls = [
        node
        for cell in code
        if f"tasks.{race}(" in cell
        for node in ast.walk(ast.parse(cell))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == f"tasks.{race}"
    ]
    assert len(calls) == 1, f"{chapter} should train its race once, with tasks.{race}"
    # seed=0, then exactly the two dicts: no setting passed beside them
    assert [ast.unparse(keyword) for keyword in calls[0].keywords] == [
        "seed=0",
        "**settings",
        "**training",
    ]
    (settings_cell,) = [cell for cell in code if re.search(r"^training = \{", cell, flags=re.M)]
    stated = {}
    for node in ast.parse(settings_cell).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] in (
            ["settings"],
            ["training"],
        ):
            stated.update(ast.literal_eval(node.value))
    assert stated == defaults


RACE_CLAIMS = [
    ("04-lstm", "race", "RACE_CLAIM"),
    ("08-putting-together", "marker", "REVIEW_RACE_CLAIM"),
]


def race_claim_paragraph(chapter: str) -> str:
    """The paragraph of a chapter's prose that says what the book's tests check of its race."""
    prose, _ = source_cells(chapter)
    paragraphs = re.split(r"\n\s*\n", "\n".join(line for _, line in prose))
    flowing = [" ".join(paragraph.split()) for paragraph in paragraphs]
    (paragraph,) = [p for p in flowing if "book's tests run the same race" in p]
    return paragraph


@pytest.mark.parametrize(("chapter", "prefix", "constant"), RACE_CLAIMS)
def test_a_chapters_race_claim_is_glued_from_the_constant_its_tests_check(
    chapter: str, prefix: str, constant: str
) -> None:
    """Does the sentence saying which seeds the book's tests train the race on, and which
    accuracies they check, glue every one of those numbers from the ``lstm_lib.tasks``
    constant that tests/test_book_claims.py asserts, typing none of them?"""
    from lstm_lib import tasks

    claim = getattr(tasks, constant)
    paragraph = race_claim_paragraph(chapter)
    roles = {
        "seeds": f"{{glue:text}}`{prefix}_claim_seeds`",
        "simplernn_below": f"{{glue:text}}`{prefix}_claim_simplernn_below:.0%`",
        "gated_at_least": f"{{glue:text}}`{prefix}_claim_gated_at_least:.0%`",
    }
    for role in roles.values():
        assert role in paragraph, f"{chapter}: the race's claim no longer uses {role}"
    # Whatever is left once the glue roles are gone (the accuracies of the seed on the page
    # are glued too) holds no number.
    typed = re.sub(r"\{glue:\w*\}`[^`]*`", "", paragraph)
    assert not re.search(r"\d", typed), f"{chapter}: a number typed in: {typed}"
    _, code = source_cells(chapter)
    (cell,) = [cell for cell in code if f"claim = tasks.{constant}\n" in cell]
    for name in roles:
        assert re.search(rf'glue\("{prefix}_claim_{name}",[^)]*\bclaim\.{name}\b', cell), name
    assert claim.seeds[0] == 0, "the chapter shows seed 0: the tests' seeds should start there"


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


def test_chapter_04s_list_of_the_trained_lstms_gates_is_glued_from_memory_claim() -> None:
    """Does chapter 04's list of what the tests check of the race's trained LSTM glue every
    number from ``tasks.MEMORY_CLAIM``, the constant tests/test_book_claims.py asserts, and
    does the chapter pick its memory units with that claim's threshold?"""
    import dataclasses

    from lstm_lib import tasks

    prose, code = source_cells("04-lstm")
    text = " ".join(" ".join(line for _, line in prose).split())
    start = text.index("The book's tests train the race's LSTM")
    listed = text[start : text.index("Training finds one of many", start)]
    for field in dataclasses.fields(tasks.MemoryClaim):
        if field.name != "memory_threshold":  # glued where the memory units are defined
            assert f"`memory_claim_{field.name}" in listed, field.name
    typed = re.sub(r"\{glue:\w*\}`[^`]*`|`[^`]*`", "", listed)  # glue roles, then `+1`, `-1`
    assert not re.search(r"\d", typed), f"a number typed in: {typed}"
    (cell,) = [cell for cell in code if "claim = tasks.MEMORY_CLAIM" in cell]
    assert "memory_threshold = claim.memory_threshold" in cell
    glued = "\n".join(code)
    assert "getattr(claim, name)" in glued and 'glue("memory_claim_seeds"' in glued
    assert tasks.MEMORY_CLAIM.seeds[0] == 0, "the chapter measures the LSTM of seed 0"


def test_prose_shapes_finds_concrete_shapes_and_leaves_the_rest_alone() -> None:
    """Does the shape check see every concrete shape prose writes, with or without None,
    and nothing that only looks like one: symbolic forms, call arguments, keyword values,
    math, thousands?"""
    line = (
        "`(None, 10, 64)` and `(32, 10, 8)` or (None,), `(32,)`, ( 3 , 8 ), "
        "not (batch, timesteps, features), (batch, 10, 8), `Embedding(1000, 64)`, "
        "`keras.Input(shape=(10,))`, $(0, 1)$, (1,000), (1997) or (see 2)"
    )
    found = [shape for _, shape in prose_shapes([(7, line)])]
    assert found == ["(None, 10, 64)", "(32, 10, 8)", "(None,)", "(32,)", "( 3 , 8 )"]
    assert prose_shapes([(1, "$$"), (2, "(0, 1)"), (3, "$$"), (4, "(2, 3)")]) == [(4, "(2, 3)")]


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


def test_index_names_the_chapters_that_end_with_a_graded_notebook() -> None:
    """Are the chapters the home page says end with a graded notebook ("Chapters 02 to 09")
    exactly the chapters with a notebook in exercises/?"""
    index = " ".join((BOOK / "index.md").read_text(encoding="utf-8").split())
    stated = re.search(r"Chapters (\d\d) to (\d\d) each end with a graded notebook", index)
    assert stated, "book/index.md no longer says which chapters end with a graded notebook"
    first, last = (int(number) for number in stated.groups())
    graded = sorted(int(path.parent.name[:2]) for path in (ROOT / "exercises").glob("*/*.ipynb"))
    assert graded == list(range(first, last + 1))


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
