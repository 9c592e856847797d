"""Show an error a chapter demonstrates as its type and whole message, nothing more.

A cell tagged ``raises-exception`` stores IPython's full traceback: some forty lines of
Keras and TensorFlow frames, each naming a file by the build machine's absolute path, with
the one line a reader needs at the bottom. This extension renders such an output the way
IPython's ``%xmode Minimal`` prints it, ``TypeName: message``, and writes the same short
form into the notebook the page offers for download. It works on the stored outputs, so a
chapter restored from the execution cache is shown the same way as a freshly run one, and
no chapter needs a setup cell for it.

The message is kept whole; ``static/readable_errors.css`` wraps its long lines instead of
letting the page cut them at the right edge.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from myst_nb.core.render import NbElementRenderer

STATIC = Path(__file__).parent / "static"
_full_render_error = NbElementRenderer.render_error


def minimal_traceback(output: Any) -> list[str]:
    """The error as ``%xmode Minimal`` shows it: its type, then its message if it has one."""
    name, message = output.get("ename", ""), output.get("evalue", "")
    return [f"{name}: {message}" if message else name]


def _render_error(self: NbElementRenderer, output: Any, *args: Any, **kwargs: Any) -> list:
    # The notebook written for download is the one rendered here: replace, do not copy.
    output["traceback"] = minimal_traceback(output)
    return _full_render_error(self, output, *args, **kwargs)


def _add_static_path(app: Any, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def _refresh_copy(app: Any) -> None:
    # Sphinx 7.4 does not overwrite a static file already in the output: an edited
    # stylesheet is written over the old copy here, or it would never reach the pages.
    copy = Path(app.outdir) / "_static" / "readable_errors.css"
    if copy.exists() and copy.read_bytes() != (STATIC / "readable_errors.css").read_bytes():
        shutil.copyfile(STATIC / "readable_errors.css", copy)


def setup(app: Any) -> dict[str, Any]:
    """Render errors briefly and add the stylesheet that wraps their lines."""
    NbElementRenderer.render_error = _render_error
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _refresh_copy)
    app.add_css_file("readable_errors.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
