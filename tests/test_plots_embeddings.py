"""Tests for lstm_lib.plots.embeddings: embedding_lookup and embedding_scatter."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plots_helpers import layout_problems

from lstm_lib import plots

pytestmark = pytest.mark.usefixtures("close_figures")


# --- embedding_lookup ------------------------------------------------------------------


def test_embedding_lookup_draws_table_and_looked_up_rows():
    """Are the table and table[indices] drawn, with one outline per highlighted position?"""
    table = np.random.default_rng(0).normal(size=(10, 4))
    indices = np.array([3, 7, 3, 1])
    fig = plots.embedding_lookup(indices, table)
    ax_ids, ax_table, ax_out = fig.axes[:3]
    assert len(fig.axes) == 4  # and the colorbar
    np.testing.assert_allclose(ax_table.get_images()[0].get_array(), table)
    np.testing.assert_allclose(ax_out.get_images()[0].get_array(), table[indices])
    assert [p.get_gid() for p in ax_table.patches] == [
        "lookup:0:3",
        "lookup:1:7",
        "lookup:2:3",
        "lookup:3:1",
    ]
    assert [t.get_text() for t in ax_ids.texts] == ["3", "7", "3", "1"]
    plt.close(fig)


def test_embedding_lookup_titles_speak_of_ids_as_the_book_does():
    """Do the panels call the input "token ids" and the output "table[ids]", the words of
    the embedding chapter's text and alt text, rather than "indices"?"""
    fig = plots.embedding_lookup([2, 0, 1], np.arange(6.0).reshape(3, 2))
    ax_ids, _, ax_out = fig.axes[:3]
    assert ax_ids.get_title().splitlines() == ["token ids", "(3,)"]
    assert ax_out.get_title().splitlines() == ["output = table[ids]", "(3, 2)"]
    plt.close(fig)


def test_embedding_lookup_highlight_selects_positions():
    """Does highlight= outline only the chosen positions of the sequence?"""
    table = np.arange(12.0).reshape(6, 2)
    fig = plots.embedding_lookup([5, 0, 2], table, highlight=[2, 0])
    assert [p.get_gid() for p in fig.axes[1].patches] == ["lookup:0:5", "lookup:2:2"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("indices", "table", "kwargs", "message"),
    [
        (
            [1, 10, 2],
            np.zeros((10, 3)),
            {},
            r"index 10 at position 1 is out of range .* input_dim=10",
        ),
        ([-1], np.zeros((10, 3)), {}, "index -1 at position 0 is out of range"),
        ([1.5, 2], np.zeros((10, 3)), {}, "indices must be integers"),
        ([[1, 2, 3]], np.zeros((10, 3)), {}, r"pass one sequence, e\.g\. indices\[0\]"),
        ([], np.zeros((10, 3)), {}, "non-empty 1-D"),
        ([1, 2], np.zeros(10), {}, "table must be a non-empty 2-D array"),
        ([1, 2], np.zeros((10, 3)), {"highlight": 2}, r"highlight must hold positions"),
    ],
)
def test_embedding_lookup_rejects_bad_inputs(indices, table, kwargs, message):
    """Do out-of-range ids, non-integers, batches and bad tables raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.embedding_lookup(indices, table, **kwargs)


# --- embedding_scatter -----------------------------------------------------------------


def test_embedding_scatter_2d_draws_vectors_as_given():
    """Are two-dimensional vectors drawn where they are, each with its label?"""
    vectors = np.array([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]])
    fig = plots.embedding_scatter(vectors, ["a", "b", "c"])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), vectors)
    assert [text.get_text() for text in ax.texts] == ["a", "b", "c"]
    plt.close(fig)


# Few examples: each one renders the figure to place its labels.
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), dim=st.integers(3, 12), n=st.integers(3, 8))
def test_embedding_scatter_pca_keeps_distances_of_planar_points(seed, dim, n):
    """Do vectors lying in a plane keep their pairwise distances after the PCA projection?"""
    rng = np.random.default_rng(seed)
    plane, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
    vectors = rng.normal(size=(n, 2)) @ plane.T + rng.normal(size=dim)
    fig = plots.embedding_scatter(vectors, [f"w{k}" for k in range(n)])
    projected = np.asarray(fig.axes[0].collections[0].get_offsets())

    def distances(points):
        return np.linalg.norm(points[:, None] - points[None], axis=-1)

    np.testing.assert_allclose(distances(projected), distances(vectors), atol=1e-9)
    plt.close(fig)


@pytest.mark.parametrize(
    ("vectors", "labels", "message"),
    [
        (np.zeros((3, 4)), ["a", "b"], "got 2 labels for 3 vectors"),
        (np.zeros((3, 1)), ["a", "b", "c"], "at least 2 dimensions"),
        (np.zeros(4), ["a"], "non-empty 2-D array"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), ["a", "b"], "NaN or infinite"),
    ],
)
def test_embedding_scatter_rejects_bad_inputs(vectors, labels, message):
    """Do mismatched labels, 1-D vectors or NaNs raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.embedding_scatter(vectors, labels)


CAPSTONE_WORDS = "<pad> not great fun good and film was plot very the acting really bad awful dull"


def clustered(seed: int, spread: float) -> np.ndarray:
    """Sixteen 8-dimensional rows in four tight clusters, as a trained capstone table is:
    words of one role end up nearly on top of each other once projected."""
    rng = np.random.default_rng(seed)
    centres = 3 * rng.normal(size=(4, 8))
    return centres[np.repeat(np.arange(4), 4)] + spread * rng.normal(size=(16, 8))


@pytest.mark.parametrize("spread", [0.0, 0.02, 0.1, 0.3])
@pytest.mark.parametrize("seed", range(4))
def test_embedding_scatter_labels_never_overlap_in_tight_clusters(seed, spread):
    """With words crowded onto (nearly) the same point, as in the capstone's PCA, do the
    labels still fan out so that no two rendered text boxes overlap or leave the figure?"""
    words = CAPSTONE_WORDS.split()
    fig = plots.embedding_scatter(clustered(seed, spread), words)
    assert layout_problems(fig) == []
    assert sorted(text.get_text() for text in fig.axes[0].texts) == sorted(words)
    plt.close(fig)


def test_embedding_scatter_leaders_join_displaced_labels_to_their_points():
    """Does every label moved away from its point get a leader line that starts at that
    point (within a few points) and ends on the label's box?"""
    words = CAPSTONE_WORDS.split()
    vectors = clustered(0, 0.0)
    fig = plots.embedding_scatter(vectors, words)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    leaders = {
        str(line.get_gid())[7:]: line
        for line in ax.lines
        if str(line.get_gid()).startswith("leader:")
    }
    assert leaders, "four words on one point cannot all sit beside it"
    points = dict(zip(words, ax.transData.transform(ax.collections[0].get_offsets()), strict=True))
    for text in ax.texts:
        word = text.get_text()
        box = text.get_window_extent(renderer)
        if word not in leaders:
            assert np.hypot(*text.get_position()) <= 7  # beside its point
            continue
        start, end = leaders[word].get_transform().transform(leaders[word].get_xydata())
        assert np.hypot(*(start - points[word])) <= 5 * fig.dpi / 72
        assert box.x0 - 1 <= end[0] <= box.x1 + 1 and box.y0 - 1 <= end[1] <= box.y1 + 1
    plt.close(fig)


# --- legibility ------------------------------------------------------------------------


def legibility_cases():
    # One generator for every case, drawn from in the cases' sorted (run) order.
    rng = np.random.default_rng(3)
    words = "the cat sat on a mat dog ran to park big small red blue king queen".split()
    return {
        "lookup-small": lambda: plots.embedding_lookup([3, 7, 3, 1, 0], rng.normal(size=(10, 4))),
        "lookup-large": lambda: plots.embedding_lookup(
            rng.integers(0, 1000, size=20), rng.normal(size=(1000, 16)), highlight=[2, 5]
        ),
        "scatter": lambda: plots.embedding_scatter(rng.normal(size=(len(words), 16)), words),
        "scatter-clusters": lambda: plots.embedding_scatter(
            clustered(7, 0.05), CAPSTONE_WORDS.split()
        ),
    }


LEGIBILITY = legibility_cases()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), dim=st.integers(3, 12), n=st.integers(3, 10))
def test_embedding_scatter_kept_variance_is_the_sum_of_the_axes_shares(seed, dim, n):
    """Does the title's "N% of variance kept" equal the two axes' shares added up, as a
    reader adds them (chapter 08's read 86% and 12% beside "99% kept")?"""
    vectors = np.random.default_rng(seed).normal(size=(n, dim))
    fig = plots.embedding_scatter(vectors, [f"w{k}" for k in range(n)])
    ax = fig.axes[0]
    first = int(re.search(r"\((\d+)% of variance\)", ax.get_xlabel()).group(1))
    second = int(re.search(r"\((\d+)%\)", ax.get_ylabel()).group(1))
    kept = int(re.search(r"\((\d+)% of variance kept\)", ax.get_title()).group(1))
    assert kept == first + second
    plt.close(fig)
