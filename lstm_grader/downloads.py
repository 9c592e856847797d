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
* a chapter's code does not need ``myst_nb``, which only the book's build has, and a cell
  that shows an error on purpose prints it (``TypeError: …``, as the book's page does)
  instead of stopping Run All in Colab, which ignores the ``raises-exception`` tag;
* a chapter whose code reads the course's own files (front matter ``course: {runs_in:
  repository}``, the instructor chapter) says so at its top instead of installing;
* a Markdown link to a page of the book (``../../book/02-dense.md``) leads to that page on
  the site, not to its source.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from urllib.parse import unquote

import nbformat
import yaml
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from lstm_grader.plain_markdown import LinkFor, plain_markdown, strip_glue
from lstm_grader.self_install import INSTALL_TAG, set_install_cell

__all__ = [
    "book_pages",
    "glued_values",
    "page_links",
    "plain_chapter",
    "prepare_downloads",
    "shown_error",
    "site_links",
]

#: The note that opens a downloaded chapter whose code reads the course repository's files.
RUNS_IN_REPOSITORY = (
    "> **Run this chapter in the course repository.** Its code reads the course's own files "
    "(`solutions/`, `references/`), which a downloaded notebook does not have: clone the "
    "repository, run `make install`, and open `book/` there. Reading it needs nothing."
)

#: A Markdown link or image target: ``](target)`` or ``](target "title")``.
_LINK_TARGET = re.compile(r"\]\((?P<target>[^()\s]+)(?P<title>\s+\"[^\"]*\")?\)")


def book_pages(root: Path) -> set[str]:
    """The book's pages, as source paths without suffix (``book/02-dense``), from ``_toc.yml``.

    Parameters
    ----------
    root : Path
        The book's source folder, holding ``_toc.yml``.
    """
    toc = root / "_toc.yml"
    if not toc.is_file():
        return set()
    pages: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for key in ("file", "root"):
                if isinstance(node.get(key), str):
                    pages.add(node[key].removesuffix(".md").removesuffix(".ipynb"))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return pages


def site_links(text: str, folder: str, site: str, pages: Collection[str]) -> str:
    """Point the Markdown links of ``text`` at book pages to those pages on the site.

    Parameters
    ----------
    text : str
        A Markdown cell's source.
    folder : str
        The folder of the notebook's source, relative to the book's root (``exercises/x``).
    site : str
        The site's address, ending in ``/``.
    pages : collection of str
        The book's pages (see :func:`book_pages`).

    Returns
    -------
    str
        ``text`` with each relative link to a page's ``.md`` or ``.ipynb`` made absolute
        (``https://…/book/02-dense.html#anchor``); every other link as it was.

    Examples
    --------
    >>> site_links("[Dense](../../book/02-dense.md#dense)", "exercises/02-dense",
    ...            "https://o.github.io/c/", {"book/02-dense"})
    '[Dense](https://o.github.io/c/book/02-dense.html#dense)'
    """

    def absolute(match: re.Match[str]) -> str:
        path, hash_mark, anchor = match["target"].partition("#")
        if re.match(r"^[a-zA-Z][\w+.-]*:|^/", path) or not path.endswith((".md", ".ipynb")):
            return match.group(0)
        page = posixpath.normpath(posixpath.join(folder, unquote(path))).rsplit(".", 1)[0]
        if page not in pages:
            return match.group(0)
        return f"]({site}{page}.html{hash_mark}{anchor}{match['title'] or ''})"

    return _LINK_TARGET.sub(absolute, text)


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
        ``{name: text}``: the Markdown of a value glued as Markdown (what ``{glue:md}``
        shows), else its plain text; empty when the chapter glues nothing or has no cached
        run.
    """
    import jupytext
    from jupyter_cache import get_cache

    if not cache.is_dir():
        return {}
    executions = get_cache(str(cache))
    try:
        record = executions.match_cache_notebook(jupytext.read(chapter))
    except KeyError:
        return {}
    executed = executions.get_cache_bundle(record.pk).nb
    values = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap and "name" in scrap:
                data, prefix = output.get("data", {}), scrap.get("mime_prefix", "")
                text = data.get(prefix + "text/markdown", data.get(prefix + "text/plain"))
                if text is not None:
                    values[scrap["name"]] = "".join(text)
    return values


def shown_error(source: str) -> str:
    """Wrap a cell that raises on purpose so that it prints the error and Run All goes on.

    Returns ``source`` unchanged when it does not parse, or holds a multi-line string that
    indenting would change.

    Examples
    --------
    >>> print(shown_error("int('x')"))
    try:
        int('x')
    except Exception as error:  # this cell shows an error on purpose
        print(f"{type(error).__name__}: {error}")
    """
    try:
        ast.parse(source)
    except SyntaxError:
        return source
    if '"""' in source or "'''" in source:
        return source
    body = "\n".join(f"    {line}" if line.strip() else "" for line in source.splitlines())
    return (
        f"try:\n{body}\n"
        "except Exception as error:  # this cell shows an error on purpose\n"
        '    print(f"{type(error).__name__}: {error}")'
    )


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
            if "raises-exception" in cell.metadata.get("tags", []):
                cell.source = shown_error(cell.source)
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
    pages = book_pages(root)
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
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = site_links(cell.source, relative.parent.as_posix(), site, pages)
        if nb.metadata.get("course", {}).get("runs_in") == "repository":
            nb.cells.insert(0, new_markdown_cell(RUNS_IN_REPOSITORY))
        else:
            set_install_cell(
                nb,
                site,
                folder=f"_sources/{relative.parent.as_posix()}/",
                files=companions,
            )
        nbformat.write(nb, path)
        rewritten.append(path)
    return rewritten
