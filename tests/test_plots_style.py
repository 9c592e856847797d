"""Tests for lstm_lib.plots as a whole: what every figure family shares.

The package stays light to import, its modules import matplotlib only inside functions, the
docstring examples run, every figure leaves matplotlib's global state alone, no figure of any
family has overlapping or clipped text, and the look (palette, sizes) has one home,
``lstm_lib.plots._style``. Each family's test file lists its ``LEGIBILITY`` cases.
"""

from __future__ import annotations

import ast
import doctest
import functools
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from plots_helpers import layout_problems, low_contrast_texts, make_trace

from lstm_lib import plots
from lstm_lib.plots import _style

pytestmark = pytest.mark.usefixtures("close_figures")

PLOTS_DIR = Path(plots.__file__).parent
PLOT_SOURCES = sorted(PLOTS_DIR.glob("*.py"))
PLOT_MODULES = [f"lstm_lib.plots.{info.name}" for info in pkgutil.iter_modules(plots.__path__)]
FAMILY_MODULES = [name for name in PLOT_MODULES if not name.rsplit(".", 1)[1].startswith("_")]
FAMILY_SOURCES = [path for path in PLOT_SOURCES if not path.name.startswith("_")]


# --- the package itself ---------------------------------------------------------------------


def test_import_loads_neither_matplotlib_nor_tensorflow():
    """Does importing lstm_lib.plots and each of its modules, in a fresh interpreter, leave
    matplotlib and TF unloaded?"""
    code = (
        f"import sys, lstm_lib.plots, {', '.join(PLOT_MODULES)}\n"
        "heavy = {'matplotlib', 'tensorflow', 'keras'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("source", PLOT_SOURCES, ids=lambda path: path.name)
def test_source_never_imports_keras_and_imports_matplotlib_only_in_functions(source):
    """Is matplotlib imported only inside functions, and TensorFlow/Keras nowhere at all?"""
    tree = ast.parse(source.read_text())
    all_imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [
        alias.name for node in all_imports if isinstance(node, ast.Import) for alias in node.names
    ]
    names += [node.module or "" for node in all_imports if isinstance(node, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in {"tensorflow", "keras"}]
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    top_names = [
        alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names
    ]
    top_names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    assert not [n for n in top_names if n.startswith("matplotlib")]


def test_docstring_examples_run():
    """Do the examples in every docstring run and print what they claim?"""
    attempted = failed = 0
    for name in FAMILY_MODULES:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        attempted += result.attempted
        failed += result.failed
    assert attempted >= len(plots.__all__)
    assert failed == 0
    finder = doctest.DocTestFinder()
    without = [name for name in plots.__all__ if not finder.find(getattr(plots, name))[0].examples]
    assert without == [], f"public figures without a docstring example: {without}"


def test_package_reexports_every_family_function():
    """Is each family's public function reachable as ``plots.<name>``, and nothing else?"""
    families = {name: importlib.import_module(name) for name in FAMILY_MODULES}
    assert "lstm_lib.plots.recurrence" in families  # the walk found the families
    exported = {name: module for module in families.values() for name in module.__all__}
    assert sorted(plots.__all__) == sorted(exported)
    for name, module in exported.items():
        assert getattr(plots, name) is getattr(module, name)
        assert getattr(plots, name).__module__ == module.__name__


def every_figure():
    trace = make_trace()
    table = np.random.default_rng(1).normal(size=(10, 4))
    vectors = np.random.default_rng(2).normal(size=(8, 6))
    history = {"loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.8, 0.7]}
    return [
        plots.unrolled_rnn(4, return_sequences=True, return_state=True),
        plots.gate_activations(trace, unit=0),
        plots.gate_activations(trace),
        plots.param_breakdown({"kernel W": 24, "recurrent kernel U": 16, "bias b": 8}),
        plots.lstm_weight_layout(3, 2),
        plots.embedding_lookup([3, 7, 3, 1], table),
        plots.training_curve(history),
        plots.embedding_scatter(vectors, list("abcdefgh")),
        plots.assignment_sizes({"02-dense": (7, 9), "05-return-flags": (9, 10)}),
    ]


def test_functions_return_figures_and_leave_global_style_alone(monkeypatch):
    """Does every function return a Figure, never call plt.show, and keep rcParams intact?"""
    from matplotlib.figure import Figure

    def no_show(*args, **kwargs):
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    before = dict(matplotlib.rcParams)
    figures = every_figure()
    assert all(isinstance(fig, Figure) for fig in figures)
    assert dict(matplotlib.rcParams) == before


# --- one home for the look ------------------------------------------------------------------


def module_level_names(tree: ast.Module) -> set[str]:
    """Names a module binds itself at top level: assignments, functions and classes."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("source", FAMILY_SOURCES, ids=lambda path: path.name)
def test_palette_and_shared_helpers_live_only_in_style(source):
    """Does a family module take its colours and shared helpers from ``_style`` rather than
    define its own: no hex colour literal, and no name ``_style`` already defines?"""
    tree = ast.parse(source.read_text())
    hex_colours = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"#[0-9A-Fa-f]{6}", node.value)
    ]
    assert hex_colours == [], f"{source.name} defines colours of its own: {hex_colours}"
    style_names = module_level_names(ast.parse(Path(_style.__file__).read_text()))
    redefined = sorted(module_level_names(tree) & style_names)
    assert redefined == [], f"{source.name} redefines {redefined}, which live in _style"


def test_every_family_draws_at_the_shared_size():
    """Is every figure as wide as ``_FIGSIZE`` and at least as tall (bar charts grow)?"""
    for fig in every_figure():
        width, height = fig.get_size_inches()
        assert width == _style._FIGSIZE[0]
        assert height >= _style._FIGSIZE[1]


def test_every_family_draws_its_data_in_the_palette():
    """Is every labelled data line, in every family's figures, a colour of the palette?"""
    from matplotlib.colors import to_hex

    palette = {to_hex(colour) for colour in (*_style._CYCLE, _style._GREY)}
    seen = set()
    for fig in every_figure():
        for ax in fig.axes:
            for line in ax.get_lines():
                if not line.get_label().startswith("_"):
                    seen.add(to_hex(line.get_color()))
    assert seen, "no labelled data line drawn"
    assert seen <= palette, f"colours outside the palette: {sorted(seen - palette)}"


def _legibility_cases() -> dict[str, object]:
    import test_plots_course
    import test_plots_embeddings
    import test_plots_parameters
    import test_plots_recurrence
    import test_plots_training

    families = (
        test_plots_course,
        test_plots_embeddings,
        test_plots_parameters,
        test_plots_recurrence,
        test_plots_training,
    )
    return {
        f"{family.__name__.removeprefix('test_plots_')}:{case}": draw
        for family in families
        for case, draw in family.LEGIBILITY.items()
    }


LEGIBILITY = _legibility_cases()


@functools.cache
def legibility_problems(case: str) -> tuple[list[str], list[str]]:
    """The case's layout problems and its low-contrast texts, read from one drawing and
    render of its figure: that is most of each check's time, and neither check changes
    the figure. Each test below asserts its own half."""
    fig = LEGIBILITY[case]()
    try:
        return layout_problems(fig), low_contrast_texts(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_no_text_overlaps_or_runs_off_at_default_size(case):
    """At the default size, does every label of every family stay clear of the others and
    inside the figure?"""
    overlaps_and_run_offs, _ = legibility_problems(case)
    assert overlaps_and_run_offs == []


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_every_label_reads_at_wcag_aa_contrast(case):
    """Does every label of every family stand out from what it is drawn on by 4.5:1 or more
    (WCAG AA), so that a reader with low vision can read the badges and shapes written in a
    palette colour?"""
    _, low_contrast = legibility_problems(case)
    assert low_contrast == []


def test_a_figure_changed_after_a_render_is_checked_as_it_is_now():
    """The checks read a figure's last render while it is unchanged: is a label added
    after a render still found overlapping another, and a label whose background turned
    dark after a render found unreadable?"""
    fig, ax = plt.subplots()
    ax.text(0.2, 0.5, "clear", color="black", fontsize=12)
    assert layout_problems(fig) == [] and low_contrast_texts(fig) == []
    ax.set_facecolor("black")
    assert low_contrast_texts(fig) == ["'clear' at 1.00:1"]
    ax.text(0.2, 0.5, "again", color="white", fontsize=12)
    assert layout_problems(fig) == ["'clear' overlaps 'again'"]
    plt.close(fig)


def test_low_contrast_texts_finds_pale_labels_only():
    """Does the contrast check flag orange text on white and pass black text, and text on
    a dark fill only when it is dark too?"""
    fig, ax = plt.subplots()
    ax.text(0.2, 0.8, "pale", color="#E69F00", fontsize=12)
    ax.text(0.2, 0.5, "clear", color="black", fontsize=12)
    ax.text(0.2, 0.2, "on dark", color="white", fontsize=12, bbox={"facecolor": "black"})
    assert low_contrast_texts(fig) == ["'pale' at 2.25:1"]
    plt.close(fig)
