"""lstm_grader.pasted_images: which pasted images a learner's cleaned note keeps."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_grader import pasted_images
from lstm_grader.preprocessors import clean_learner_markdown

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _urls(html: str) -> list[str]:
    return re.findall(r'src="(data:[^"]*)"', html)


@pytest.mark.parametrize(
    ("media_type", "data"),
    [("image/png", PNG), ("image/jpeg", JPEG), ("image/gif", GIF), ("image/webp", WEBP)],
)
def test_a_pasted_raster_image_is_shown(media_type: str, data: bytes) -> None:
    """Does an image pasted into a note (a cell attachment) show as a data: URL of its own
    bytes, and stay through the feedback pass, which cleans the HTML again?"""
    attachments = {"plot": {media_type: _b64(data)}}
    first = clean_learner_markdown("My plot: ![plot](attachment:plot)", attachments)
    assert _urls(first) == [f"data:{media_type};base64,{_b64(data)}"]
    assert clean_learner_markdown(first) == first


@pytest.mark.parametrize(
    "bundle",
    [
        {"image/svg+xml": _b64(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")},
        {"image/png": _b64(b"<html><script>alert(1)</script></html>")},
        {"image/png": "not base64 at all!"},
        {"image/png": _b64(JPEG)},
        {"text/html": _b64(b"<script>alert(1)</script>")},
        {"image/png": 42},
        "not a bundle",
    ],
    ids=["svg", "html-as-png", "bad-base64", "jpeg-as-png", "html", "number", "string"],
)
def test_anything_but_a_checked_raster_image_shows_its_alt_text(bundle: object) -> None:
    """Is an SVG (it can hold script), bytes that are not the image their type says, or
    a malformed attachment dropped, its alt text kept and the notebook still graded?"""
    html = clean_learner_markdown("![mine](attachment:mine)", {"mine": bundle})
    assert _urls(html) == [] and 'alt="mine"' in html


def test_data_urls_written_by_hand_are_never_links_or_other_types() -> None:
    """Are data: URLs a learner writes as a link, in another tag, with another type or
    single-quoted dropped, and only a checked raster image in an <img> kept?"""
    html = clean_learner_markdown(
        f"[click](data:text/html;base64,{_b64(b'<script>x()</script>')}) "
        f'<a href="data:image/png;base64,{_b64(PNG)}">a</a> '
        f"<img src='data:image/png;base64,{_b64(PNG)}'> "
        f'<img src="data:image/svg+xml;base64,{_b64(b"<svg/>")}"> '
        f'<img alt="ok" src="data:image/png;base64,{_b64(PNG)}">'
    )
    assert _urls(html) == [f"data:image/png;base64,{_b64(PNG)}"]
    assert "href=" not in html and "text/html" not in html and "svg" not in html


def test_the_placeholder_of_a_held_image_cannot_be_guessed() -> None:
    """Does a learner who writes the placeholder address themselves get nothing but that
    address: the token is new on every call?"""
    held = pasted_images.HeldImages(pasted_images.ImageBudget())
    held.data_images(f'<img src="data:image/png;base64,{_b64(PNG)}">')
    (placeholder,) = held.urls
    html = clean_learner_markdown(f'<a href="{placeholder}">x</a> <img src="{placeholder}">')
    assert "data:" not in html


#: Images a learner's note points at an address of its choosing, which a browser loads with
#: no click: a server that learns when the page was opened (and by whom), an address on the
#: Jupyter server's own origin that the formgrader's page requests with the instructor's
#: cookies (its /logout signs the instructor out), and the same written every other way.
ADDRESSED_IMAGES = [
    "![seen](https://tracker.example/seen.gif?who=alice)",
    "![out](/logout)",
    "![hub](/hub/logout)",
    '<img alt="seen" src="//tracker.example/seen.gif">',
    '<IMG ALT="seen" SRC="HTTPS://TRACKER.EXAMPLE/seen.gif">',
    '<img alt="seen" src="&#104;ttps://tracker.example/seen.gif">',
    "<img alt=seen src=seen.gif>",
    '<img alt="seen" src=" https://tracker.example/seen.gif">',
]


@pytest.mark.parametrize("markdown", ADDRESSED_IMAGES)
def test_an_image_at_an_address_loads_nothing(markdown: str) -> None:
    """Does an image a note points at an address (anything but a pasted image) show its alt
    text and no address a browser would load, in the autograded notebook and again in the
    feedback pass, while a pasted image beside it still shows?"""
    attachments = {"plot": {"image/png": _b64(PNG)}}
    first = clean_learner_markdown(f"{markdown} ![plot](attachment:plot)", attachments)
    for html in (first, clean_learner_markdown(first)):
        addresses = re.findall(r"""src\s*=\s*["']?([^"'\s>]*)""", html, re.IGNORECASE)
        assert addresses == [f"data:image/png;base64,{_b64(PNG)}"], html
        assert 'alt="seen"' in html or 'alt="out"' in html or 'alt="hub"' in html, html


def test_images_past_the_budget_show_their_alt_text() -> None:
    """Is an image over the per-image limit dropped, and are images dropped once the
    notebook's budget is spent?"""
    big = PNG + b"\x00" * pasted_images.MAX_IMAGE_BYTES
    html = clean_learner_markdown("![big](attachment:big)", {"big": {"image/png": _b64(big)}})
    assert _urls(html) == []
    budget = pasted_images.ImageBudget(left=2 * len(PNG))
    shown = [
        _urls(clean_learner_markdown("![p](attachment:p)", {"p": {"image/png": _b64(PNG)}}, budget))
        for _ in range(3)
    ]
    assert [len(urls) for urls in shown] == [1, 1, 0]


@given(st.binary(max_size=64), st.sampled_from(sorted(pasted_images.RASTER_TYPES)))
def test_a_shown_image_always_starts_as_its_type_says(data: bytes, media_type: str) -> None:
    """Whatever the bytes, is an image shown only when they start as its type's do?"""
    url = pasted_images.checked_image(media_type, _b64(data), pasted_images.ImageBudget())
    assert (url is not None) == pasted_images.RASTER_TYPES[media_type](data)
