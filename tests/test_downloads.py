"""The site's downloadable notebooks (lstm_grader.downloads), on small folders made here.

The real chapters and the real site are ``test_notebook_downloads.py``'s (slow): there a
downloaded chapter and student notebook run in a fresh venv.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_grader.downloads import (
    RUNS_IN_REPOSITORY,
    book_pages,
    glued_values,
    plain_chapter,
    prepare_downloads,
    shown_error,
    site_links,
)
from lstm_grader.self_install import INSTALL_TAG, set_install_cell

SITE = "https://o.github.io/c/"
PAGES = {"book/02-dense", "exercises/02-dense/02-dense"}


def test_the_books_pages_come_from_its_table_of_contents() -> None:
    pages = book_pages(ROOT)
    assert {"book/index", "book/02-dense", "exercises/02-dense/02-dense"} <= pages
    assert "README" not in pages


@pytest.mark.parametrize(
    ("link", "becomes"),
    [
        ("../../book/02-dense.md", f"{SITE}book/02-dense.html"),
        ("../../book/02-dense.md#dense", f"{SITE}book/02-dense.html#dense"),
        ("02-dense.ipynb", f"{SITE}exercises/02-dense/02-dense.html"),
        ('../../book/02-dense.md "Dense"', f'{SITE}book/02-dense.html "Dense"'),
    ],
)
def test_links_to_book_pages_lead_to_the_site(link: str, becomes: str) -> None:
    text = f"See [the chapter]({link}) first."
    assert (
        site_links(text, "exercises/02-dense", SITE, PAGES)
        == f"See [the chapter]({becomes}) first."
    )


@pytest.mark.parametrize(
    "link",
    [
        "https://keras.io/api/",
        "#q1",
        "mistakes.sealed.json",
        "../../book/99-missing.md",
        "/book/02-dense.md",
        "../../README.md",
    ],
)
def test_other_links_are_left_alone(link: str) -> None:
    text = f"[x]({link})"
    assert site_links(text, "exercises/02-dense", SITE, PAGES) == text


def test_a_chapter_loses_its_myst_and_its_glue_code() -> None:
    chapter = new_notebook(
        cells=[
            new_markdown_cell(
                "(dense)=\n# Dense\n\n:::{admonition} Predict first\n:class: tip\nGo.\n:::"
            ),
            new_code_cell("from myst_nb import glue"),
            new_code_cell('n = 3\nglue("n", n, display=False)'),
            new_markdown_cell("There are {glue:}`n` of them; see {ref}`dense`."),
        ],
        metadata={"jupytext": {"formats": "md:myst"}, "source_map": [1, 2]},
    )
    plain = plain_chapter(
        chapter,
        link_for=lambda label: ("Dense", f"{SITE}book/02-dense.html#{label}"),
        glued={"n": "3"},
        include=lambda path: "",
    )
    assert [cell.source for cell in plain.cells] == [
        "# Dense\n\n> **Predict first**\n>\n> Go.",
        "n = 3",
        f"There are 3 of them; see [Dense]({SITE}book/02-dense.html#dense).",
    ]
    assert "jupytext" not in plain.metadata and "source_map" not in plain.metadata


def test_a_chapter_with_no_cached_run_has_no_glued_values(tmp_path: Path) -> None:
    chapter = tmp_path / "c.md"
    chapter.write_text("# Title\n")
    assert glued_values(chapter, tmp_path / "no-cache") == {}


def test_every_download_gets_the_install_step_for_the_site(tmp_path: Path) -> None:
    """A chapter gets one before its code; a student notebook's is rewritten for the site and
    fetches the files beside it; a link to a chapter leads to its page."""
    root = tmp_path / "course"
    (root / "book").mkdir(parents=True)
    (root / "book" / "02-dense.md").write_text("# Dense\n")
    (root / "_toc.yml").write_text(
        yaml.safe_dump({"root": "book/index", "chapters": [{"file": "book/02-dense"}]})
    )
    site = tmp_path / "site"
    (site / "_sources" / "book").mkdir(parents=True)
    (site / "_sources" / "ex").mkdir(parents=True)
    chapter = new_notebook(cells=[new_markdown_cell("# Dense"), new_code_cell("import lstm_lib")])
    nbformat.write(chapter, site / "_sources" / "book" / "02-dense.ipynb")
    student = new_notebook(
        cells=[new_markdown_cell("Chapter: [Dense](../book/02-dense.md)."), new_code_cell("1")]
    )
    set_install_cell(student, "https://placeholder.test/")
    nbformat.write(student, site / "_sources" / "ex" / "a.ipynb")
    (site / "_sources" / "ex" / "mistakes.sealed.json").write_text("{}")

    rewritten = prepare_downloads(site, SITE, root=root, cache=tmp_path / "no-cache")
    assert len(rewritten) == 2
    for path, files in [("book/02-dense.ipynb", "[]"), ("ex/a.ipynb", "['mistakes.sealed.json']")]:
        cells = nbformat.read(site / "_sources" / path, as_version=4).cells
        installs = [c for c in cells if INSTALL_TAG in c.metadata.get("tags", [])]
        assert len(installs) == 1 and f'"{SITE}packages/' in installs[0].source
        assert ("for _name in" in installs[0].source) == (files != "[]")
    first = nbformat.read(site / "_sources" / "ex" / "a.ipynb", as_version=4).cells[0]
    assert first.source == f"Chapter: [Dense]({SITE}book/02-dense.html)."


def test_a_cell_that_shows_an_error_prints_it_and_run_all_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = "values = [1, 2]\n\nvalues.push(3)"
    namespace: dict = {}
    exec(shown_error(source), namespace)
    assert capsys.readouterr().out == "AttributeError: 'list' object has no attribute 'push'\n"
    assert namespace["values"] == [1, 2]


@pytest.mark.parametrize("source", ["if x:\n", 'x = """\n  two lines\n"""\nx.bad()'])
def test_a_cell_that_cannot_be_wrapped_safely_is_left_alone(source: str) -> None:
    assert shown_error(source) == source


def test_only_the_tagged_cells_of_a_chapter_are_wrapped() -> None:
    tagged = new_code_cell("int('x')")
    tagged.metadata["tags"] = ["raises-exception"]
    chapter = new_notebook(cells=[new_code_cell("int('3')"), tagged])
    plain = plain_chapter(chapter, link_for=lambda label: None, glued={}, include=str)
    assert plain.cells[0].source == "int('3')"
    assert plain.cells[1].source.startswith("try:\n    int('x')\nexcept Exception as error:")


def test_a_chapter_that_reads_the_repository_says_so_instead_of_installing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "course"
    (root / "book").mkdir(parents=True)
    (root / "book" / "10-guide.md").write_text("# Guide\n")
    site = tmp_path / "site"
    (site / "_sources" / "book").mkdir(parents=True)
    guide = new_notebook(
        cells=[new_code_cell("import nbformat")], metadata={"course": {"runs_in": "repository"}}
    )
    nbformat.write(guide, site / "_sources" / "book" / "10-guide.ipynb")
    prepare_downloads(site, SITE, root=root, cache=tmp_path / "no-cache")
    cells = nbformat.read(site / "_sources" / "book" / "10-guide.ipynb", as_version=4).cells
    assert cells[0].source == RUNS_IN_REPOSITORY
    assert not any(INSTALL_TAG in c.metadata.get("tags", []) for c in cells)


def test_only_the_instructor_chapter_runs_in_the_repository() -> None:
    import jupytext

    chapters = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))
    in_repository = [
        path.stem
        for path in chapters
        if jupytext.read(path).metadata.get("course", {}).get("runs_in") == "repository"
    ]
    assert in_repository == ["10-for-instructors"]
