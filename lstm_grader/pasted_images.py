"""Images a learner pasted into a note, kept through the cleaning of their markdown.

Jupyter stores an image pasted into a markdown cell as a cell *attachment* (base64 data
under a media type) and writes ``![name](attachment:name)`` in the cell. The grader renders
a learner's markdown to HTML and cleans it with bleach, which keeps links over http(s)
and no image address at all (:func:`lstm_grader.preprocessors.clean_learner_markdown`: a
browser loads an image unasked, so a note's ``![](https://tracker/...)`` would tell its
server who opened the page and when); a ``data:`` image would be dropped, and the learner's
plot with it.

Here an attachment becomes a ``data:`` URL only when it holds a raster image (PNG, JPEG,
GIF or WebP: an SVG can carry script) whose first bytes are what its media type says,
within :data:`MAX_IMAGE_BYTES` and the notebook's :class:`ImageBudget`. Such URLs are set
aside before the cleaning (:class:`HeldImages`: only an ``<img>``'s ``src``, replaced by a
placeholder address that holds a random token) and put back after it, so bleach never has
to allow ``data:`` anywhere. The feedback
pass cleans the autograded notebook's HTML again; the same two steps keep the images that
passed the first time, checked again.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: The largest pasted image shown, in bytes (decoded); a larger one shows its alt text.
MAX_IMAGE_BYTES = 2**20
#: What one notebook's pasted images may hold in all, in bytes (decoded).
MAX_NOTEBOOK_IMAGE_BYTES = 4 * 2**20

#: The raster types shown, each with the test of its first bytes.
RASTER_TYPES: dict[str, Callable[[bytes], bool]] = {
    "image/png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda data: data.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda data: data[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
}

_HELD = "https://pasted-image.invalid/"
_IMG_DATA_SOURCE = re.compile(
    r'(<img\b[^<>]*?\ssrc=")data:(image/[a-z]+);base64,([A-Za-z0-9+/]*={0,2})(")'
)


@dataclass
class ImageBudget:
    """The bytes of pasted images one notebook may still show."""

    left: int = MAX_NOTEBOOK_IMAGE_BYTES

    def take(self, size: int) -> bool:
        """Whether an image of ``size`` bytes fits (it is then counted)."""
        if size > MAX_IMAGE_BYTES or size > self.left:
            return False
        self.left -= size
        return True


def checked_image(media_type: str, encoded: str, budget: ImageBudget) -> str | None:
    """``data:`` URL of an image, or None unless ``encoded`` is strict base64 of a raster
    image of ``media_type`` (by its first bytes) that fits ``budget``."""
    test = RASTER_TYPES.get(media_type)
    if test is None or len(encoded) > 2 * MAX_IMAGE_BYTES:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not test(data) or not budget.take(len(data)):
        return None
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def attachment_url(
    attachments: Mapping[str, object] | None, name: str, budget: ImageBudget
) -> str | None:
    """The ``data:`` URL of the cell attachment ``name`` (see :func:`checked_image`), or
    None where the cell holds no such image."""
    bundle = (attachments or {}).get(name)
    if not isinstance(bundle, Mapping):
        return None
    for media_type in RASTER_TYPES:
        encoded = bundle.get(media_type)
        if isinstance(encoded, list) and all(isinstance(part, str) for part in encoded):
            encoded = "".join(encoded)
        if isinstance(encoded, str):
            return checked_image(media_type, "".join(encoded.split()), budget)
    return None


class HeldImages:
    """The checked images of one piece of HTML, set aside while it is cleaned: each is
    replaced by a placeholder address (a random token and a number) that the cleaning
    keeps, and :meth:`restore` puts the URLs back. Each image is charged to ``budget``
    once, when it is held."""

    def __init__(self, budget: ImageBudget) -> None:
        self._budget = budget
        self._token = secrets.token_hex(16)
        #: The placeholders and the ``data:`` URLs they stand for.
        self.urls: dict[str, str] = {}

    def _hold(self, url: str) -> str:
        placeholder = f"{_HELD}{self._token}/{len(self.urls)}"
        self.urls[placeholder] = url
        return placeholder

    def attachment(self, attachments: Mapping[str, object] | None, name: str) -> str | None:
        """The placeholder for the cell attachment ``name`` (see :func:`attachment_url`),
        or None where the cell holds no such image."""
        url = attachment_url(attachments, name, self._budget)
        return None if url is None else self._hold(url)

    def data_images(self, html: str) -> str:
        """``html`` with each ``<img>`` whose ``src`` is a checked ``data:`` image pointing
        at a placeholder instead; an image that fails the check is left for the cleaning
        to drop."""

        def hold(match: re.Match[str]) -> str:
            url = checked_image(match[2], match[3], self._budget)
            return match[0] if url is None else f"{match[1]}{self._hold(url)}{match[4]}"

        return _IMG_DATA_SOURCE.sub(hold, html)

    def restore(self, html: str) -> str:
        """Cleaned ``html`` with the placeholders back as their URLs, where the cleaning
        kept them as a quoted address."""
        for placeholder, url in self.urls.items():
            html = html.replace(f'"{placeholder}"', f'"{url}"')
        return html
