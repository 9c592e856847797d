"""The notebooks the published site offers for download, made to run anywhere.

Sphinx puts each page's source in the built HTML at ``_sources/<path>``: a chapter as a
jupytext conversion of its MyST source (``book/02-dense.ipynb``), a student notebook as it
is in ``exercises/``. :func:`prepare_downloads` makes each of them work in JupyterLab 4,
Colab or any Jupyter, opened from the site:

* every notebook's first code cell is the install step for the site's address
  (:mod:`lstm_grader.self_install`), fetching the files the notebook reads beside it;
* a chapter's Markdown is plain Markdown (:mod:`lstm_grader.plain_markdown`): admonitions
  as quotes, dropdowns as ``<details>``, cross-references as links to the site's pages and
  glued numbers as the values the book printed (read from the book's execution cache);
* a chapter's code does not need ``myst_nb``, which only the book's build has.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from lstm_grader.plain_markdown import LinkFor, plain_markdown, strip_glue
from lstm_grader.self_install import INSTALL_TAG, set_install_cell

__all__ = ["glued_values", "page_links", "plain_chapter", "prepare_downloads"]


def page_links(inventory: Path, site: str) -> LinkFor:
    """Look up a cross-reference target in the book's ``objects.inv``.

    Parameters
    ----------
    inventory : Path
        The built book's ``objects.inv``.
    site : str
        The site's address; the links returned are absolute, under it.

    Returns
    -------
    callable
        ``label -> (title, url)``, or None for a label the book does not define. Labels
        (``std:label``) are tried first, then documents (``std:doc``, ``book/02-dense``).
    """
    from sphinx.util.inventory import InventoryFile

    with inventory.open("rb") as stream:
        entries = InventoryFile.load(stream, site, posixpath.join)
    labels = entries.get("std:label", {})
    documents = entries.get("std:doc", {})

    def link_for(target: str) -> tuple[str, str] | None:
        found = labels.get(target.lower()) or documents.get(target.strip("/"))
        if found is None:
            return None
        _project, _version, url, title = found
        return title, url

    return link_for


def glued_values(chapter: Path, cache: Path) -> dict[str, str]:
    """The values a chapter glued into its prose, as the book's build computed them.

    Parameters
    ----------
    chapter : Path
        The chapter's MyST source.
    cache : Path
        The book's jupyter-cache folder (``execute.cache`` in ``_config.yml``).

    Returns
    -------
    dict
        ``{name: text}``; empty when the chapter glues nothing or has no cached run.
    """
    import jupytext
    from jupyter_cache import get_cache

    if not cache.is_dir():
        return {}
    try:
        record = get_cache(str(cache)).match_cache_notebook(jupytext.read(chapter))
    except KeyError:
        return {}
    executed = get_cache(str(cache)).get_cache_bundle(record.pk).nb
    values = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap and "name" in scrap:
                text = output.get("data", {}).get(scrap.get("mime_prefix", "") + "text/plain")
                if text is not None:
                    values[scrap["name"]] = "".join(text)
    return values


def plain_chapter(
    nb: NotebookNode,
    *,
    link_for: LinkFor,
    glued: Mapping[str, str],
    include: Callable[[str], str],
) -> NotebookNode:
    """A chapter notebook with plain Markdown and no ``myst_nb`` in its code.

    Parameters
    ----------
    nb : NotebookNode
        The chapter as Sphinx wrote it for download, changed in place.
    link_for, glued, include
        As for :func:`lstm_grader.plain_markdown.plain_markdown`.

    Returns
    -------
    NotebookNode
        ``nb``.
    """
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(
                cell.source, link_for=link_for, glued=glued, include=include
            )
        elif cell.cell_type == "code":
            cell.source = strip_glue(cell.source)
            if not cell.source.strip():
                continue
        kept.append(cell)
    nb.cells = kept
    # jupytext's record of the MyST source: in a download it only confuses jupytext users
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("source_map", None)
    return nb


def prepare_downloads(
    site_folder: Path,
    site: str,
    *,
    root: Path,
    cache: Path,
) -> list[Path]:
    """Make every notebook under ``site_folder/_sources`` run anywhere (see the module).

    Parameters
    ----------
    site_folder : Path
        The folder to publish, with the built book in it.
    site : str
        The site's address.
    root : Path
        The book's source folder (the chapters' MyST and the files they include).
    cache : Path
        The book's jupyter-cache folder, for the chapters' glued values.

    Returns
    -------
    list of Path
        The notebooks rewritten.
    """
    sources = site_folder / "_sources"
    inventory = site_folder / "objects.inv"
    link_for = page_links(inventory, site) if inventory.is_file() else (lambda target: None)
    rewritten = []
    for path in sorted(sources.rglob("*.ipynb")) if sources.is_dir() else []:
        relative = path.relative_to(sources)
        nb = nbformat.read(path, as_version=4)
        student = any(INSTALL_TAG in cell.metadata.get("tags", []) for cell in nb.cells)
        if not student:
            chapter = (root / relative).with_suffix(".md")
            if not chapter.is_file():
                continue
            plain_chapter(
                nb,
                link_for=link_for,
                glued=glued_values(chapter, cache),
                include=lambda name, folder=chapter.parent: (folder / name).read_text(
                    encoding="utf-8"
                ),
            )
        # what assemble copied beside a student notebook from its folder (sealed texts)
        companions = [
            other.name
            for other in sorted(path.parent.iterdir())
            if student and other.is_file() and other.suffix not in (".ipynb", ".md")
        ]
        set_install_cell(
            nb,
            site,
            folder=f"_sources/{relative.parent.as_posix()}/",
            files=companions,
        )
        nbformat.write(nb, path)
        rewritten.append(path)
    return rewritten
