"""Figures of an ``Embedding`` layer: how a lookup picks rows, and where the vectors lie.

``embedding_lookup`` draws a sequence of token ids, the table and the rows it picks;
``embedding_scatter`` scatters embedding vectors in 2-D (by PCA when they are longer) with a
label beside each point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import (
    _BLACK,
    _BLUE,
    _CYCLE,
    _FIGSIZE,
    _FONT,
    _GREY,
    _SIGNED_CMAP,
    _SMALL,
    _is_int,
    _pyplot,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["embedding_lookup", "embedding_scatter"]

# Where a scatter label may go, as (dx, dy) in points from its point and the alignment that
# keeps it on that side; tried in this order.
_NEAR = (
    (4, 3, "left", "bottom"),
    (4, -3, "left", "top"),
    (-4, 3, "right", "bottom"),
    (-4, -3, "right", "top"),
    (6, 0, "left", "center"),
    (-6, 0, "right", "center"),
    (0, 6, "center", "bottom"),
    (0, -6, "center", "top"),
)


def _ring(radius: float, directions: int = 16) -> tuple[tuple[float, float, str, str], ...]:
    """Candidates on a circle of ``radius`` points round the point, each aligned to lean
    away from it (a label to the right starts at its anchor, one above sits on it)."""
    ring = []
    for k in range(directions):
        angle = 2 * np.pi * k / directions
        dx, dy = radius * np.cos(angle), radius * np.sin(angle)
        ha = "left" if dx > 0.3 * radius else "right" if dx < -0.3 * radius else "center"
        va = "bottom" if dy > 0.3 * radius else "top" if dy < -0.3 * radius else "center"
        ring.append((round(float(dx), 2), round(float(dy), 2), ha, va))
    return tuple(ring)


# Farther candidates, ring after ring, get a leader line, so a displaced label still names
# its point: in a tight cluster the labels fan out instead of piling up on each other.
_FAR = tuple(candidate for radius in (12, 20, 30, 42, 56, 72, 90) for candidate in _ring(radius))
_OFFSETS = _NEAR + _FAR
# Room round the points of a scatter, as a share of their spread: widened in these steps
# while some label finds no free place.
_MARGINS = (0.18, 0.3, 0.45, 0.65)


# --- embedding_lookup --------------------------------------------------------------------


def _lookup_arrays(indices: Any, table: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ids as integers and the table as floats, checked: one sequence, ids in range."""
    ids = np.asarray(indices)
    weights = np.asarray(table)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(
            f"table must be a non-empty 2-D array (input_dim, output_dim), got shape "
            f"{weights.shape}"
        )
    if not np.issubdtype(weights.dtype, np.number) or np.issubdtype(weights.dtype, np.bool_):
        raise ValueError(f"table must hold numbers, got dtype {weights.dtype}")
    weights = weights.astype(float)
    if ids.ndim == 2 and ids.shape[0] == 1:
        raise ValueError(
            f"indices has shape {ids.shape} (batch, timesteps): pass one sequence, e.g. indices[0]"
        )
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"indices must be a non-empty 1-D sequence, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        if not np.issubdtype(ids.dtype, np.floating) or not np.all(ids == np.round(ids)):
            raise ValueError(f"indices must be integers, got {ids.tolist()!r}")
        ids = ids.astype(int)
    input_dim = weights.shape[0]
    bad = np.flatnonzero((ids < 0) | (ids >= input_dim))
    if bad.size:
        position = int(bad[0])
        raise ValueError(
            f"index {int(ids[position])} at position {position} is out of range for a table "
            f"with input_dim={input_dim} rows (valid ids: 0 to {input_dim - 1})"
        )
    return ids, weights


def _highlight_positions(highlight: Any, steps: int) -> list[int]:
    """The sorted positions to outline: all of them by default."""
    if highlight is None:
        return list(range(steps))
    chosen = [highlight] if _is_int(highlight) else list(highlight)
    for position in chosen:
        if not _is_int(position) or not 0 <= position < steps:
            raise ValueError(
                f"highlight must hold positions in [0, {steps}) of the sequence, got {position!r}"
            )
    return sorted({int(position) for position in chosen})


def _spaced_ticks(rows: list[int], n_rows: int, max_labels: int = 16) -> list[int]:
    """Keep rows far enough apart that their tick labels do not overlap."""
    min_gap = max(1, int(np.ceil(n_rows / max_labels)))
    kept: list[int] = []
    for row in sorted(set(rows)):
        if not kept or row - kept[-1] >= min_gap:
            kept.append(row)
    return kept


def _lookup_axes(plt: Any, ids: np.ndarray, output_dim: int) -> tuple[Any, Any]:
    """The figure and its three panels: a narrow index column, then two equal heatmaps."""
    digits = len(str(int(ids.max())))
    heat = max(output_dim, 3)
    # Width ratios are relative to the heatmaps; aim the index column at about
    # (0.3 + 0.08 * digits) inches of the ~5.5 inches the three panels share.
    share = (0.3 + 0.08 * digits) / 5.5
    fig, axes = plt.subplots(
        1,
        3,
        figsize=_FIGSIZE,
        layout="constrained",
        gridspec_kw={"width_ratios": [share * 2 * heat / (1 - share), heat, heat]},
    )
    # Room between the panels for the lines that join them.
    fig.get_layout_engine().set(wspace=0.12)
    return fig, axes


def _draw_ids(ax_ids: Any, ids: np.ndarray) -> None:
    """The index column: one box per position, with its token id written in when legible."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    steps = ids.size
    ax_ids.set_xlim(-0.5, 0.5)
    ax_ids.set_ylim(steps - 0.5, -0.5)
    # About 165 points of height to share among the rows; below ~5 pt text is noise.
    id_size = min(_SMALL, 0.7 * 165 / steps)
    for t, token in enumerate(ids.tolist()):
        ax_ids.add_patch(
            Rectangle((-0.5, t - 0.5), 1, 1, facecolor="white", edgecolor=_BLACK, linewidth=0.8)
        )
        if id_size >= 5:
            ax_ids.text(0, t, str(token), ha="center", va="center", fontsize=id_size)
    ax_ids.set_xticks([])
    if steps <= 16:
        ax_ids.set_yticks(range(steps))
    else:
        ax_ids.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_ids.set_ylabel("position in sequence", fontsize=_SMALL)
    ax_ids.set_title(f"token ids\n({steps},)", fontsize=_SMALL)


def _draw_heatmaps(axes: Any, ids: np.ndarray, weights: np.ndarray, chosen: list[int]) -> Any:
    """The table and ``table[indices]`` on one signed colour scale; returns the table's image."""
    from matplotlib.ticker import MaxNLocator

    ax_ids, ax_table, ax_out = axes
    input_dim, output_dim = weights.shape
    limit = float(np.abs(weights).max()) or 1.0
    style = {
        "cmap": _SIGNED_CMAP,
        "vmin": -limit,
        "vmax": limit,
        "aspect": "auto",
        "interpolation": "nearest",
    }
    image = ax_table.imshow(weights, **style)
    ax_table.set_title(f"table: one row per token id\n({input_dim}, {output_dim})", fontsize=_SMALL)
    if input_dim <= 16:
        ax_table.set_yticks(range(input_dim))
    else:
        ax_table.set_yticks(_spaced_ticks(ids[chosen].tolist(), input_dim))

    ax_out.imshow(weights[ids], **style)
    ax_out.set_title(f"output = table[ids]\n({ids.size}, {output_dim})", fontsize=_SMALL)
    # Rows line up with the index column, whose labels serve both.
    ax_out.set_ylim(ax_ids.get_ylim())
    ax_out.set_yticks(ax_ids.get_yticks())
    ax_out.tick_params(axis="y", labelleft=False)
    for ax in (ax_table, ax_out):
        ax.set_xlabel("output_dim", fontsize=_SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes:
        ax.tick_params(labelsize=_SMALL)
    return image


def _outline_row(ax: Any, row: float, output_dim: int, colour: str, gid: str | None) -> None:
    """Outline one full row of a heatmap."""
    from matplotlib.patches import Rectangle

    ax.add_patch(
        Rectangle(
            (-0.5, row - 0.5),
            output_dim,
            1,
            fill=False,
            edgecolor=colour,
            linewidth=2.2,
            gid=gid,
            clip_on=False,
        )
    )


def _join(fig: Any, start: Any, coords_a: Any, end: Any, coords_b: Any, colour: str) -> None:
    """An arrow across panels; it stays out of the layout, so it cannot squeeze the axes."""
    from matplotlib.patches import ConnectionPatch

    link = ConnectionPatch(
        start,
        end,
        coordsA=coords_a,
        coordsB=coords_b,
        color=colour,
        linewidth=1.2,
        alpha=0.8,
        arrowstyle="-|>",
        mutation_scale=8,
    )
    link.set_in_layout(False)
    fig.add_artist(link)


def _draw_lookups(fig: Any, axes: Any, ids: np.ndarray, chosen: list[int], shape: Any) -> None:
    """Per highlighted position: outline its table and output rows and join all three."""
    from matplotlib.transforms import offset_copy

    ax_ids, ax_table, ax_out = axes
    input_dim, output_dim = shape
    # Lines into the table stop short of its row labels, so the labels stay readable.
    row_labels = offset_copy(
        ax_table.get_yaxis_transform(),
        fig=fig,
        x=-(8 + 5.5 * len(str(input_dim - 1))),
        units="points",
    )
    for k, t in enumerate(chosen):
        colour = _CYCLE[k % len(_CYCLE)]
        row = int(ids[t])
        _outline_row(ax_table, row, output_dim, colour, f"lookup:{t}:{row}")
        _outline_row(ax_out, t, output_dim, colour, None)
        _join(fig, (0.5, t), ax_ids.transData, (0.0, row), row_labels, colour)
        end = (-0.5, t)
        _join(fig, (output_dim - 0.5, row), ax_table.transData, end, ax_out.transData, colour)


def embedding_lookup(indices: Any, table: Any, *, highlight: Any = None) -> Figure:
    """Draw an embedding lookup: indices in, the rows of the table they pick, the output.

    Left, the integer indices of one sequence; middle, the table ``(input_dim,
    output_dim)`` as a heatmap with the looked-up rows outlined; right, the output
    ``table[indices]``, ``(timesteps, output_dim)``, on the same colour scale. A line joins
    each highlighted position to its row of the table and on to its row of the output.

    Parameters
    ----------
    indices : array_like of int, shape (timesteps,)
        One sequence of token ids, each in ``[0, input_dim)``.
    table : array_like, shape (input_dim, output_dim)
        The embedding matrix, e.g. ``layer.get_weights()[0]``.
    highlight : int or sequence of int, optional
        Positions in the sequence (0-based) to outline and join; by default all of them.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes (indices, table, output) and a colorbar. Each outlined table row has the
        gid ``"lookup:<position>:<index>"``.

    Raises
    ------
    ValueError
        If ``indices`` is not a 1-D sequence of integers, ``table`` is not 2-D, an index is
        outside ``[0, input_dim)``, or a highlight position is outside the sequence.

    Examples
    --------
    >>> import numpy as np
    >>> table = np.random.default_rng(0).normal(size=(10, 4))  # (input_dim, output_dim)
    >>> fig = embedding_lookup([3, 7, 3, 1], table, highlight=1)
    >>> [a.get_gid() for a in fig.axes[1].patches]
    ['lookup:1:7']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/06-embedding.md``.
    """
    plt = _pyplot()
    ids, weights = _lookup_arrays(indices, table)
    chosen = _highlight_positions(highlight, ids.size)

    fig, axes = _lookup_axes(plt, ids, weights.shape[1])
    _draw_ids(axes[0], ids)
    image = _draw_heatmaps(axes, ids, weights, chosen)
    _draw_lookups(fig, axes, ids, chosen, weights.shape)
    colorbar = fig.colorbar(image, ax=[axes[1], axes[2]], shrink=0.9, aspect=15)
    colorbar.ax.tick_params(labelsize=_SMALL)
    colorbar.set_label("weight", fontsize=_SMALL)
    return fig


# --- embedding_scatter -------------------------------------------------------------------


def _pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project onto the first two principal components; also return their variance shares."""
    centred = points - points.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    # SVD fixes each direction only up to sign; pin it so a figure does not flip on rebuild.
    pivots = np.abs(components).argmax(axis=1)
    components *= np.sign(components[np.arange(len(components)), pivots])[:, None]
    variance = singular**2
    shares = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return centred @ components.T, shares


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The area two (x0, y0, x1, y1) boxes share."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def _text_box(annotation: Any, renderer: Any) -> tuple[float, float, float, float]:
    """The display box of an annotation's text at its current offset."""
    from matplotlib.text import Text

    # The text alone: an annotation's own extent also spans its (hidden) leader line.
    annotation.update_positions(renderer)
    return tuple(Text.get_window_extent(annotation, renderer).extents)


def _candidate_box(
    anchor: tuple[float, float], size: tuple[float, float], offset: tuple, points: float
) -> tuple[float, float, float, float]:
    """Where a label of ``size`` (display units) lands at ``offset`` from ``anchor``.

    Computed rather than rendered: a label's size does not change with where it goes, so
    one measurement per label serves every candidate. ``points`` is display units per point.
    """
    dx, dy, ha, va = offset
    x, y = anchor[0] + dx * points, anchor[1] + dy * points
    width, height = size
    x0 = {"left": x, "right": x - width, "center": x - width / 2}[ha]
    y0 = {"bottom": y, "top": y - height, "center": y - height / 2}[va]
    return (x0, y0, x0 + width, y0 + height)


def _leader_end(
    anchor: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[float, float]:
    """Where a leader line from ``anchor`` meets a label's box: the box's nearest point."""
    return (min(max(anchor[0], box[0]), box[2]), min(max(anchor[1], box[1]), box[3]))


def _crosses(
    start: tuple[float, float], end: tuple[float, float], box: tuple[float, float, float, float]
) -> bool:
    """Whether the segment from ``start`` to ``end`` passes through ``box`` (sampled)."""
    for s in np.linspace(0.0, 1.0, 12):
        x = start[0] + s * (end[0] - start[0])
        y = start[1] + s * (end[1] - start[1])
        if box[0] < x < box[2] and box[1] < y < box[3]:
            return True
    return False


def _best_offset(
    anchor: tuple[float, float],
    size: tuple[float, float],
    points: float,
    frame: Any,
    taken: tuple[list[tuple], list[tuple]],
) -> tuple[tuple, float]:
    """The first offset, nearest first, whose label overlaps nothing taken and stays in the
    frame; else the cheapest one.

    ``taken`` is (the boxes of the labels placed so far, the markers of the points).
    Covering another label or leaving the frame must not happen; grazing the marker of a
    near-coincident point, or a leader line crossing a label, is a blemish and costs less.
    Returns the offset and what it costs in overlap with labels and the frame (0: none).
    """
    labels, marks = taken
    best, best_cost, best_hard = _OFFSETS[0], float("inf"), float("inf")
    pad = 1.5  # display units kept free round every label
    for offset in _OFFSETS:
        box = _candidate_box(anchor, size, offset, points)
        padded = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
        hard = sum(_overlap(padded, label) for label in labels)
        outside = (
            max(frame.x0 - box[0], 0)
            + max(box[2] - frame.x1, 0)
            + max(frame.y0 - box[1], 0)
            + max(box[3] - frame.y1, 0)
        )
        hard += 1000.0 * outside
        soft = 0.05 * sum(_overlap(padded, mark) for mark in marks)
        if offset not in _NEAR:
            end = _leader_end(anchor, box)
            soft += 50.0 * sum(_crosses(anchor, end, label) for label in labels)
        cost = hard + soft
        if cost < best_cost:
            best, best_cost, best_hard = offset, cost, hard
        if cost == 0:
            break
    return best, best_hard


def _annotate_points(ax: Any, xy: np.ndarray, labels: list[str]) -> list[Any]:
    """One text annotation per point at the first offset, outside the layout."""
    annotations = [
        ax.annotate(
            label,
            tuple(point),
            xytext=_OFFSETS[0][:2],
            textcoords="offset points",
            fontsize=_SMALL,
            ha="left",
            va="bottom",
        )
        for point, label in zip(xy, labels, strict=True)
    ]
    for annotation in annotations:
        # Labels must not move the axes, or every measured position would shift again.
        annotation.set_in_layout(False)
    return annotations


def _draw_leader(
    fig: Any, ax: Any, point: np.ndarray, label: str, start: tuple, end: tuple
) -> None:
    """A thin line from near a data ``point`` to its displaced label, both ends given in
    points from the point, so it stays attached at any dpi the figure is saved at."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import Affine2D, ScaledTranslation

    transform = (
        Affine2D().scale(1 / 72)
        + fig.dpi_scale_trans
        + ScaledTranslation(float(point[0]), float(point[1]), ax.transData)
    )
    line = Line2D(
        [start[0], end[0]],
        [start[1], end[1]],
        transform=transform,
        color=_GREY,
        linewidth=0.7,
        zorder=1.5,
        gid=f"leader:{label}",
    )
    line.set_in_layout(False)
    ax.add_artist(line)


def _place_labels(fig: Any, ax: Any, xy: np.ndarray, labels: list[str]) -> float:
    """Put each label beside its point where it overlaps no other label, point or edge.

    Labels are placed one at a time, those with the most neighbours first (they have the
    fewest free places), each at the nearest candidate offset that is free: the eight spots
    touching its point, then rings farther out, joined to the point by a leader line (a
    line, not part of the label, so the label's extent stays its text).
    Returns the overlap left over (display units squared): 0 when every label found room.
    """
    annotations = _annotate_points(ax, xy, labels)
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:
        return 0.0  # a backend that cannot measure text keeps the default offsets
    fig.canvas.draw()  # runs the layout, so display positions below are final
    renderer = get_renderer()
    frame = ax.get_window_extent(renderer)
    points = fig.dpi / 72.0
    centres = ax.transData.transform(xy)
    radius = 4.0 * points
    marks = [(x - radius, y - radius, x + radius, y + radius) for x, y in centres]
    sizes = []
    for annotation in annotations:
        x0, y0, x1, y1 = _text_box(annotation, renderer)
        sizes.append((x1 - x0, y1 - y0))
    # Crowded points first: within 40 points of one another, they compete for room.
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    crowding = (gaps < 40 * points).sum(axis=1)
    order = sorted(range(len(annotations)), key=lambda k: (-crowding[k], k))
    placed: list[tuple[float, float, float, float]] = []
    leftover = 0.0
    for k in order:
        annotation = annotations[k]
        anchor = tuple(centres[k])
        best, cost = _best_offset(anchor, sizes[k], points, frame, (placed, marks))
        leftover += cost
        annotation.set_position(best[:2])
        annotation.set_ha(best[2])
        annotation.set_va(best[3])
        box = _text_box(annotation, renderer)
        placed.append(box)
        if best not in _NEAR:
            end = np.subtract(_leader_end(anchor, box), anchor) / points
            start = end * min(1.0, 3.0 / max(float(np.hypot(*end)), 1e-9))  # 3 pt off
            _draw_leader(fig, ax, xy[k], labels[k], tuple(start), tuple(end))
    return leftover


def _scatter_points(vectors: Any, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The vectors as a finite float array (n, dim >= 2), and one label text per vector."""
    points = np.asarray(vectors, dtype=float)
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"vectors must be a non-empty 2-D array (n, dim), got {points.shape}")
    n, dim = points.shape
    if dim < 2:
        raise ValueError(f"vectors need at least 2 dimensions to scatter, got dim={dim}")
    if not np.all(np.isfinite(points)):
        raise ValueError("vectors hold NaN or infinite values")
    texts = [str(label) for label in labels]
    if len(texts) != n:
        raise ValueError(f"got {len(texts)} labels for {n} vectors; give one label per vector")
    return points, texts


def _project(ax: Any, points: np.ndarray) -> tuple[np.ndarray, str]:
    """The 2-D points to draw (by PCA beyond two dimensions); labels ``ax``; returns a title."""
    n, dim = points.shape
    if dim == 2:
        ax.set_xlabel("dimension 0", fontsize=_SMALL)
        ax.set_ylabel("dimension 1", fontsize=_SMALL)
        return points, f"{n} embedding vectors of dimension 2"
    xy, shares = _pca_2d(points)
    # The kept share is written as the sum of the two shown, so the three figures a reader
    # can add up agree (86% + 12% read beside "99% kept" before).
    first, second = (round(100 * float(share)) for share in shares)
    ax.set_xlabel(f"principal component 1 ({first}% of variance)", fontsize=_SMALL)
    ax.set_ylabel(f"PC 2 ({second}%)", fontsize=_SMALL)
    title = (
        f"{n} embedding vectors of dimension {dim}, projected by PCA "
        f"({first + second}% of variance kept)"
    )
    return xy, title


def embedding_scatter(vectors: Any, labels: Sequence[str]) -> Figure:
    """Scatter embedding vectors in 2-D, each annotated with its label.

    Two-dimensional vectors are drawn as they are; longer ones are projected onto their
    first two principal components (PCA by NumPy's SVD of the centred vectors), and the
    axes say how much of the variance each component keeps. Labels are placed beside their
    points where they overlap nothing.

    Parameters
    ----------
    vectors : array_like, shape (n, dim)
        One vector per row, e.g. rows of an ``Embedding`` layer's table; ``dim >= 2``.
    labels : sequence of str, length n
        The text for each point, such as the token each row stands for.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one scatter (``n`` points) and ``n`` annotations.

    Raises
    ------
    ValueError
        If ``vectors`` is not 2-D with at least two columns, holds non-finite values, or
        ``labels`` has a different length.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.random.default_rng(1).normal(size=(5, 8))  # (n, output_dim)
    >>> fig = embedding_scatter(vectors, ["the", "cat", "sat", "on", "mat"])
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['the', 'cat', 'sat', 'on', 'mat']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/06-embedding.md`` and ``book/08-putting-together.md``.
    """
    plt = _pyplot()
    points, texts = _scatter_points(vectors, labels)

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    xy, title = _project(ax, points)
    ax.scatter(xy[:, 0], xy[:, 1], s=28, color=_BLUE, edgecolor="white", linewidth=0.6, zorder=2)
    ax.axhline(0, color=_GREY, linewidth=0.6, zorder=0)
    ax.axvline(0, color=_GREY, linewidth=0.6, zorder=0)
    # Distances are the point of the picture, so one unit is the same length on both axes.
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(_MARGINS[0])
    ax.tick_params(labelsize=_SMALL)
    ax.set_title(title, fontsize=_FONT)
    # A cluster at the edge of the view may leave its labels no free place: widen the
    # margins round the points and place them again, until every label has room.
    for margin in _MARGINS:
        ax.margins(margin)
        if _place_labels(fig, ax, xy, texts) == 0:
            break
        if margin != _MARGINS[-1]:
            for artist in [*ax.texts, *ax.lines]:
                if artist in ax.texts or str(artist.get_gid()).startswith("leader:"):
                    artist.remove()
    return fig
