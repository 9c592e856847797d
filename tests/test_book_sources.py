"""Do the chapters' sources keep the book's promises, read without building the book?

The chapters' MyST sources (``book/*.md``), ``_toc.yml``, the student notebooks and the
``lstm_lib`` constants the chapters glue are read as they are, so these checks run in the
quick loop: ten chapters listed in the table of contents, no size typed into a chapter's prose
("Predict first" and "Check yourself" questions included), its figures' calls, captions or
code comments that code chooses, no worked result typed where code could glue it, no
``explain`` table computed and thrown away, each race trained with the settings its claims
tests check and its claim glued from their constant, and only ``lstm-grade`` options that exist
named. What the built book carries (executed outputs, links, the pages' markup) is checked
in ``test_book.py``, which reads its chapters with this module's readers.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import tokenize
from io import StringIO
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CHAPTERS = sorted(path.stem for path in BOOK.glob("[0-9][0-9]-*.md"))
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


# --- each chapter -----------------------------------------------------------------------


def test_ten_chapters() -> None:
    """Are there the ten chapters the table of contents lists?"""
    assert len(CHAPTERS) == 10, CHAPTERS
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        assert f"file: book/{chapter}" in toc


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


# --- the home page ----------------------------------------------------------------------


def test_index_names_the_chapters_that_end_with_a_graded_notebook() -> None:
    """Are the chapters the home page says end with a graded notebook ("Chapters 02 to 09")
    exactly the chapters with a notebook in exercises/?"""
    index = " ".join((BOOK / "index.md").read_text(encoding="utf-8").split())
    stated = re.search(r"Chapters (\d\d) to (\d\d) each end with a graded notebook", index)
    assert stated, "book/index.md no longer says which chapters end with a graded notebook"
    first, last = (int(number) for number in stated.groups())
    graded = sorted(int(path.parent.name[:2]) for path in (ROOT / "exercises").glob("*/*.ipynb"))
    assert graded == list(range(first, last + 1))
