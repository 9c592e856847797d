"""Helpers for the Keras recurrent-layers course: NumPy twins, shape rules, checks and plots.

The package imports nothing heavy at import time: each public name is loaded on first
use, so ``import lstm_lib`` and ``import lstm_lib.checks`` never import TensorFlow or
matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The course library's version, pinned by the notebooks' install step (pyproject reads it).
__version__ = "0.1.0"

__all__ = ["answers", "checks", "explain", "plots", "reference", "shapes", "verdicts"]

_SUBMODULES = {"answers", "checks", "plots", "reference", "shapes", "verdicts"}


def explain(model: Any, **kwargs: Any) -> Any:
    """Tabulate a built Keras model: output shapes, parameters and the formula per layer.

    A thin wrapper around :func:`lstm_lib.explaining.explain`; see there.
    """
    from lstm_lib.explaining import explain as _explain

    return _explain(model, **kwargs)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"lstm_lib.{name}")
    raise AttributeError(f"module 'lstm_lib' has no attribute {name!r}")
