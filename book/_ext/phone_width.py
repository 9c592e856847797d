"""Keep the book readable at phone width: figures as SVG, wrapped code, legible figure text.

Three things go wrong on a 390 px wide screen with Jupyter Book's defaults, and this
extension fixes each one:

- Figures are PNGs, blurred as soon as a reader zooms in. Every chapter runs in a kernel
  whose IPython profile (written here, under ``_build``) sets
  ``InlineBackend.figure_formats = {"svg"}``: matplotlib then hands the page vector
  figures, sharp at any zoom. A chapter opened in Jupyter keeps the reader's own setting.
- An 8-inch figure squeezed into a phone's column shows its 9 pt labels about 5 px high.
  ``static/phone_width.css`` gives a figure a minimum width on narrow screens, so its text
  stays at least ~7 CSS px high, and lets it scroll sideways inside its own box instead.
- Code lines longer than the column were cut at its right edge; the stylesheet wraps them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"

#: The kernel configuration every chapter runs under when the book is built.
KERNEL_CONFIG = """\
# Written by book/_ext/phone_width.py for the book's build; edits here are overwritten.
c = get_config()  # noqa: F821
c.InlineBackend.figure_formats = {"svg"}
c.InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "metadata": {"Date": None}}
"""


def ipython_dir(outdir: str | Path) -> Path:
    """The IPython folder the build's kernels use: beside the HTML, inside ``_build``."""
    return Path(outdir).parent / ".ipython"


def _use_svg_kernels(app: Any, config: Any) -> None:
    folder = ipython_dir(app.outdir)
    profile = folder / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG, encoding="utf-8")
    # Kernels inherit the build's environment: myst-nb starts them from this process.
    os.environ["IPYTHONDIR"] = str(folder)
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def _refresh_copy(app: Any) -> None:
    # Sphinx 7.4 does not overwrite a static file already in the output, and copies none
    # when no page is out of date (deleting the old copy left the pages without one): an
    # edited stylesheet is written over the old copy here.
    copy = Path(app.outdir) / "_static" / "phone_width.css"
    if copy.exists() and copy.read_bytes() != (STATIC / "phone_width.css").read_bytes():
        shutil.copyfile(STATIC / "phone_width.css", copy)


def setup(app: Any) -> dict[str, Any]:
    """Run the chapters' kernels with SVG figures and add the phone-width stylesheet."""
    app.connect("config-inited", _use_svg_kernels)
    app.connect("builder-inited", _refresh_copy)
    app.add_css_file("phone_width.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
