"""Helpers the plots tests share: a consistent LSTM trace and a legibility check."""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.text import Text

from lstm_lib.reference import LSTMTrace


def make_trace(batch: int = 2, timesteps: int = 7, units: int = 3, seed: int = 0) -> LSTMTrace:
    """Run the LSTM recurrence on random pre-activations, so c and h are consistent."""
    rng = np.random.default_rng(seed)
    shape = (batch, timesteps, units)
    i, f, o = (1 / (1 + np.exp(-2 * rng.normal(size=shape))) for _ in range(3))
    c_tilde = np.tanh(2 * rng.normal(size=shape))
    c = np.zeros(shape)
    for t in range(timesteps):
        previous = c[:, t - 1] if t else 0.0
        c[:, t] = f[:, t] * previous + i[:, t] * c_tilde[:, t]
    return LSTMTrace(i=i, f=f, c_tilde=c_tilde, o=o, c=c, h=o * np.tanh(c))


def drawn_texts(fig) -> list[Text]:
    """The non-empty texts a render shows, tick labels only for ticks inside the view.

    The figure is rendered again only where it changed since its last render (matplotlib
    marks it stale): a figure already rendered, by the function that drew it or by an
    earlier check, is read as it was, which is most of a legibility check's time saved."""
    if fig.stale:
        fig.canvas.draw()
    texts, tick_labels = [], set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                shown = (
                    ax.axison and axis.get_visible() and low - span <= tick.get_loc() <= high + span
                )
                for label in (tick.label1, tick.label2):
                    tick_labels.add(id(label))
                    if shown and label.get_visible() and label.get_text().strip():
                        texts.append(label)
    for text in fig.findobj(Text):
        if id(text) not in tick_labels and text.get_visible() and text.get_text().strip():
            texts.append(text)
    return texts


def layout_problems(fig) -> list[str]:
    """Pairs of texts that overlap, and texts that run off the figure."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in texts]
    frame = fig.bbox
    problems = []
    for text, box in zip(texts, boxes, strict=True):
        if (
            box.x0 < frame.x0 - 1
            or box.x1 > frame.x1 + 1
            or box.y0 < frame.y0 - 1
            or box.y1 > frame.y1 + 1
        ):
            problems.append(f"{text.get_text()!r} runs off the figure")
    for (a, box_a), (b, box_b) in itertools.combinations(zip(texts, boxes, strict=True), 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        # A pixel of slack: neighbouring labels may share an anti-aliased edge.
        if width > 1 and height > 1:
            problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


#: WCAG AA's least contrast for text of normal size; every label of a figure is 9 to 12 pt.
MIN_TEXT_CONTRAST = 4.5


def relative_luminance(rgb) -> float:
    """WCAG's relative luminance of an sRGB colour given as three floats in [0, 1]."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first, second) -> float:
    """WCAG's contrast ratio of two sRGB colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def low_contrast_texts(fig, minimum: float = MIN_TEXT_CONTRAST) -> list[str]:
    """The texts of a render whose colour stands out from what they are drawn on (the most
    common pixel of their box: the figure, a box's fill, a label's background) by less than
    ``minimum``, each with its ratio."""
    from matplotlib.colors import to_rgb

    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height = pixels.shape[0]
    problems = []
    for text in texts:
        box = text.get_window_extent(renderer)
        # Display coordinates count up from the bottom; the pixel rows count down.
        rows = slice(max(0, int(height - box.y1)), max(0, int(np.ceil(height - box.y0))))
        cols = slice(max(0, int(box.x0)), max(0, int(np.ceil(box.x1))))
        region = pixels[rows, cols].reshape(-1, 3)
        if region.size == 0:
            continue
        colours, counts = np.unique(region, axis=0, return_counts=True)
        background = colours[counts.argmax()] / 255
        ratio = contrast_ratio(to_rgb(text.get_color()), background)
        if ratio < minimum:
            problems.append(f"{text.get_text()!r} at {ratio:.2f}:1")
    return problems
