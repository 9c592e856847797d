"""The course's published site: its address, the folder to upload, and the checks on it.

``make site`` builds exactly the folder to publish, ``_build/site``: the book's HTML plus,
beside each student notebook offered for download, the files of its folder that it needs
(``mistakes.sealed.json``). Then :func:`check_site` refuses a folder that would not work for
a learner anywhere:

- no file names the build machine (the repository's absolute path, ``/root``, ``/home/``,
  ``site-packages``);
- no file carries the placeholder address of a course nobody has published yet;
- every ``href`` and ``src`` of a page is local to the folder and exists, or lies on the
  course's address, or opens the course's own repository on Binder or Colab, or is a link
  a reader follows to a source the book cites (:data:`CITED_SOURCES`).

The course's address is ``repository.url`` in ``_config.yml`` (plus ``html.baseurl`` if set),
or, for a build that must not edit the config (a test), the ``COURSE_URL`` environment
variable. Building for publishing with the placeholder still set fails, saying what to set.

Command line (exit status 1 on any problem, each one listed)::

    python -m lstm_grader.site address                      # the course address, or why not
    python -m lstm_grader.site config OUT.yml               # _config.yml with COURSE_URL in it
    python -m lstm_grader.site assemble _build/html _build/site
    python -m lstm_grader.site check _build/site --url https://github.com/you/course
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nbformat
import yaml

from lstm_grader.downloads import prepare_downloads
from lstm_grader.self_install import (
    INSTALL_TAG,
    WHEELS_FOLDER,
    build_wheel,
    install_requirement,
    wheel_name,
)

#: The repository (this package's parent folder) and its book configuration.
ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
#: The address ``_config.yml`` ships with: a course nobody has published yet.
PLACEHOLDER_URL = "https://github.com/example-org/keras-recurrent-course"
#: The environment variable that overrides ``repository.url`` without editing the config.
ADDRESS_VARIABLE = "COURSE_URL"
#: The sources the book cites for what no test against the installed Keras can check (a
#: default of an older release, a size of a dataset): a reader may follow a link there, and
#: a page may load nothing from them. A new citation adds its source here, on purpose.
CITED_SOURCES = (
    "https://nlp.stanford.edu/projects/glove/",
    "https://www.tensorflow.org/versions/",
    "https://blog.keras.io/",
    "https://github.com/keras-team/keras/releases/",
    # Keras 2's changes and its source at pinned commits, for the version history
    "https://github.com/keras-team/keras/pull/",
    "https://github.com/keras-team/keras/blob/",
    "https://github.com/rstudio/keras3/pull/",
    # the papers behind the LSTM's forget gate and its bias
    "https://doi.org/10.1162/",
    "https://proceedings.mlr.press/v37/",
)
#: Launch services a page may link to, and the path that names the repository they open.
LAUNCH_SERVICES = {
    "mybinder.org": re.compile(r"^/v2/gh/(?P<owner>[^/]+)/(?P<repo>[^/?#]+)"),
    "colab.research.google.com": re.compile(r"^/github/(?P<owner>[^/]+)/(?P<repo>[^/?#]+)"),
}
#: Paths only a build machine has; ``/root`` must stand alone, not begin ``/rootElement``.
MACHINE_PATHS = (
    re.compile(r"/root(?=[/\"'\s<>:)]|$)"),
    re.compile(r"/home/"),
    re.compile(r"site-packages"),
)
GITHUB_REPOSITORY = re.compile(
    r"^https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


class AddressError(ValueError):
    """The course has no usable public address to publish under."""


@dataclass(frozen=True)
class Problem:
    """One reason the folder cannot be published as it is.

    Attributes
    ----------
    path : str
        The file, relative to the checked folder.
    message : str
        What is wrong with it.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def github_repository(url: str) -> tuple[str, str] | None:
    """The ``(owner, name)`` of a GitHub repository URL, lower-cased, or None.

    Examples
    --------
    >>> github_repository("https://github.com/Teacher/keras-course.git")
    ('teacher', 'keras-course')
    >>> github_repository("https://example.org/keras-course") is None
    True
    """
    match = GITHUB_REPOSITORY.match(url.strip())
    if match is None:
        return None
    return match["owner"].lower(), match["repo"].lower()


def _placeholder_text() -> str:
    """The placeholder's ``owner/name``, the part every link derived from it carries."""
    owner, repo = github_repository(PLACEHOLDER_URL) or ("", "")
    return f"{owner}/{repo}"


def _placeholder_pattern() -> re.Pattern[str]:
    """The placeholder in a repository link or in its GitHub Pages address."""
    owner, repo = github_repository(PLACEHOLDER_URL) or ("", "")
    return re.compile(rf"{re.escape(owner)}(?:/|\.github\.io/){re.escape(repo)}", re.I)


def download_folder(source_folder: str) -> str:
    """Where the site serves the notebooks of a source folder, relative to the site.

    Sphinx copies each page's source to ``_sources/<its path>``; the download buttons link
    there, and :func:`assemble` puts the notebook's companion files beside it.

    Examples
    --------
    >>> download_folder("exercises/05-return-flags")
    '_sources/exercises/05-return-flags/'
    """
    return f"_sources/{source_folder.strip('/')}/"


def course_addresses(config: Path = CONFIG, url: str | None = None) -> list[str]:
    """The course's public addresses: its repository, then the site's base URL if set.

    Parameters
    ----------
    config : Path
        The book's ``_config.yml``.
    url : str, optional
        The repository URL to use instead of ``repository.url``; by default the
        ``COURSE_URL`` environment variable, if set and not empty.

    Returns
    -------
    list of str
        ``repository.url`` (or its override), then ``html.baseurl`` when the config sets one.

    Raises
    ------
    AddressError
        If the address is missing, still the placeholder, or not a GitHub repository (the
        book's Binder and Colab buttons open a GitHub repository), saying what to set.
    """
    settings: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    if url:
        where = "the address given"
    elif url := os.environ.get(ADDRESS_VARIABLE):
        where = f"the {ADDRESS_VARIABLE} environment variable"
    else:
        where = f"repository.url in {config.name}"
    repository = url or (settings.get("repository") or {}).get("url") or ""
    how = (
        f"Set repository.url in {config.name} to your copy's public GitHub repository "
        "(https://github.com/<owner>/<name>), the course's one address: the launch and "
        "download links derive from it."
    )
    if not repository:
        raise AddressError(f"The course has no public address. {how}")
    if _placeholder_text() in repository.lower():
        raise AddressError(
            f"The course's address ({where}) is still the placeholder {PLACEHOLDER_URL}. {how}"
        )
    if github_repository(repository) is None:
        raise AddressError(
            f"The course's address ({where}) is {repository!r}, not a GitHub repository. {how}"
        )
    addresses = [repository.strip().removesuffix("/").removesuffix(".git")]
    baseurl = (settings.get("html") or {}).get("baseurl")
    if baseurl:
        addresses.append(str(baseurl).strip())
    return addresses


def site_address(config: Path = CONFIG, url: str | None = None) -> str:
    """The address the course site is served from, ending in ``/``.

    ``html.baseurl`` when the config sets it; otherwise GitHub Pages' address for the course
    repository (``https://<owner>.github.io/<name>/``). The notebooks' install step fetches
    the course library from here. Unlike :func:`course_addresses` this accepts the
    placeholder, so student versions can be generated before the course has an address;
    ``make site`` refuses to publish them.

    Parameters
    ----------
    config : Path
        The book's ``_config.yml``.
    url : str, optional
        The repository URL to use instead of ``repository.url``; by default the
        ``COURSE_URL`` environment variable, if set and not empty.

    Returns
    -------
    str
        The site's address.

    Raises
    ------
    AddressError
        If there is no base URL and the repository is not on GitHub.
    """
    settings: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    baseurl = str((settings.get("html") or {}).get("baseurl") or "").strip()
    if baseurl:
        return baseurl if baseurl.endswith("/") else baseurl + "/"
    repository = (
        url
        or os.environ.get(ADDRESS_VARIABLE)
        or (settings.get("repository") or {}).get("url")
        or ""
    )
    found = github_repository(repository)
    if found is None:
        raise AddressError(
            f"The course's repository {repository!r} is not on GitHub, so its site's address "
            f"cannot be derived: set html.baseurl in {config.name} to it."
        )
    owner, name = found
    return f"https://{owner}.github.io/{name}/"


def site_config(config: Path, url: str) -> dict[str, Any]:
    """The book's configuration with ``url`` as its repository, to build from elsewhere.

    ``jb build --config`` resolves ``local_extensions`` against the config file's folder,
    so they are made absolute here; every other path is the source folder's or the
    working directory's, as before.

    Parameters
    ----------
    config : Path
        The book's ``_config.yml``.
    url : str
        The course's repository URL.

    Returns
    -------
    dict
        The configuration, ready for :func:`yaml.safe_dump`.
    """
    settings: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    settings.setdefault("repository", {})["url"] = url
    extensions = (settings.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((config.parent / path).resolve())
    return settings


def assemble(
    html: Path,
    site: Path,
    root: Path = ROOT,
    *,
    address: str | None = None,
    cache: Path | None = None,
    wheel: Path | None = None,
) -> list[Path]:
    """Make ``site`` the folder to publish: the built ``html``, the notebooks' files and
    the course library's wheel, with every downloadable notebook made to run anywhere.

    A downloadable notebook sits in the HTML at ``_sources/<its source path>``; the files
    beside its source (``mistakes.sealed.json``) are copied beside it, so a learner who
    downloads the folder's files gets everything the notebook reads. A file the build put
    there already is kept as built. The course library's wheel goes to ``packages/``, and
    :func:`lstm_grader.downloads.prepare_downloads` points every notebook's install step at
    it and turns the chapters' MyST into plain Markdown.

    Parameters
    ----------
    html : Path
        The book's built HTML (``_build/html``).
    site : Path
        The folder to create; an existing one is replaced.
    root : Path
        The book's source folder.
    address : str, optional
        The site's address (default: :func:`site_address` of ``root``'s ``_config.yml``).
    cache : Path, optional
        The book's jupyter-cache folder (default: ``execute.cache`` in that config).
    wheel : Path, optional
        The course library's wheel, already built (default: built from ``root``).

    Returns
    -------
    list of Path
        The files copied beside the notebooks.

    Raises
    ------
    ValueError
        If ``site`` is the HTML folder, the source folder or holds either, which replacing
        it would destroy.
    """
    html, site, root = html.resolve(), site.resolve(), root.resolve()
    if site in (html, root) or site in html.parents or site in root.parents:
        raise ValueError(f"refusing to replace {site}: it holds the book or its sources")
    if not (html / "index.html").is_file():
        raise ValueError(f"{html} holds no built book (no index.html): build it first")
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(html, site)
    # GitHub Pages would run Jekyll on a folder uploaded from a branch, hiding _static.
    (site / ".nojekyll").touch()
    copied = []
    sources = site / "_sources"
    for notebook in sorted(sources.rglob("*.ipynb")) if sources.is_dir() else []:
        folder = root / notebook.parent.relative_to(sources)
        if not (folder / notebook.name).is_file():
            continue
        for needed in sorted(folder.iterdir()):
            target = notebook.parent / needed.name
            if needed.is_file() and not needed.name.startswith(".") and not target.exists():
                shutil.copy2(needed, target)
                copied.append(target)
    config = root / CONFIG.name
    if wheel is None:
        build_wheel(site / WHEELS_FOLDER, root)
    else:
        (site / WHEELS_FOLDER).mkdir()
        shutil.copy2(wheel, site / WHEELS_FOLDER / wheel.name)
    prepare_downloads(
        site,
        address or site_address(config),
        root=root,
        cache=cache or _execution_cache(config),
    )
    return copied


def _execution_cache(config: Path) -> Path:
    settings: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    folder = (settings.get("execute") or {}).get("cache") or "_build/.jupyter_cache"
    return config.parent / folder


class _Links(HTMLParser):
    """Every ``href`` and ``src`` value of a page, and which of them a reader follows by
    clicking (an ``<a href>``: a citation may lie elsewhere, never a page's resource)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.followed: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(value for name, value in attrs if name in ("href", "src") and value)
        if tag == "a":
            self.followed.update(value for name, value in attrs if name == "href" and value)


def _on_address(url: str, address: str) -> bool:
    link, home = urlsplit(url), urlsplit(address)
    prefix = home.path.rstrip("/")
    return (link.scheme, link.netloc.lower()) == (home.scheme, home.netloc.lower()) and (
        link.path == prefix or link.path.startswith(prefix + "/") or not prefix
    )


def _launches(url: str, repositories: set[tuple[str, str]]) -> bool:
    link = urlsplit(url)
    pattern = LAUNCH_SERVICES.get(link.netloc.lower())
    match = pattern.match(link.path) if pattern and link.scheme == "https" else None
    return bool(match) and (match["owner"].lower(), match["repo"].lower()) in repositories


def _link_problem(link: str, page: Path, folder: Path, addresses: Sequence[str]) -> str | None:
    """Why ``link`` on ``page`` does not work from the published folder, or None."""
    parts = urlsplit(link)
    if parts.scheme == "data" or link.startswith("#"):
        return None
    if parts.scheme or parts.netloc:
        repositories = {repo for repo in map(github_repository, addresses) if repo}
        if any(_on_address(link, address) for address in addresses):
            return None
        if _launches(link, repositories):
            return None
        return f"links outside the course's address: {link}"
    if link.startswith("/"):
        # GitHub Pages serves a project's site under /<name>/, where / is someone else's.
        return f"links from the server's root, not relative to the page: {link}"
    if not parts.path:
        return None
    target = Path(os.path.normpath(page.parent / unquote(parts.path)))
    if not target.is_relative_to(folder):
        return f"links outside the folder: {link}"
    if not (target.is_file() or (target / "index.html").is_file()):
        return f"links to a missing file: {link}"
    return None


def _is_page(path: Path, folder: Path) -> bool:
    # _static's HTML are the theme's Jinja macros, copied as assets, never served as pages.
    return path.suffix == ".html" and path.relative_to(folder).parts[0] != "_static"


#: MyST that plain Jupyter shows as raw text: directives, roles and targets.
MYST_LEFTOVERS = re.compile(
    r"^\s*(?::{3,}|`{3,})\{[\w:-]+\}|\{(?:ref|numref|doc|glue[\w:]*|term|math)\}`|^\([\w-]+\)=\s*$",
    re.MULTILINE,
)


def _notebook_problems(path: Path, folder: Path, site: str) -> list[str]:
    """Why a downloadable notebook would not run, or read badly, outside the course."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    installs = [cell for cell in nb.cells if INSTALL_TAG in cell.metadata.get("tags", [])]
    # a chapter that reads the repository's own files says so at its top instead
    in_repository = nb.metadata.get("course", {}).get("runs_in") == "repository"
    needs_library = not in_repository and any(
        "lstm_lib" in cell.source for cell in nb.cells if cell.cell_type == "code"
    )
    wheel = install_requirement(site)
    if needs_library and not installs:
        problems.append("imports lstm_lib but has no install step")
    for cell in installs:
        if f'"{wheel}"' not in cell.source:
            problems.append(f"does not install the course library from {wheel}")
    served = wheel.startswith(site)
    if installs and served and not (folder / WHEELS_FOLDER / wheel_name()).is_file():
        problems.append(f"installs {WHEELS_FOLDER}/{wheel_name()}, which the folder lacks")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (found := MYST_LEFTOVERS.search(cell.source)):
            problems.append(f"shows MyST as raw text in plain Jupyter: {found.group().strip()!r}")
    return problems


def check_site(
    folder: Path, addresses: Sequence[str], root: Path = ROOT, site: str | None = None
) -> list[Problem]:
    """Every reason ``folder`` cannot be published under ``addresses`` as it is.

    Parameters
    ----------
    folder : Path
        The folder to upload.
    addresses : sequence of str
        The course's addresses (see :func:`course_addresses`): links on them are allowed,
        and Binder and Colab links must open the GitHub repository among them.
    root : Path
        The build machine's repository, whose absolute path no file may contain.
    site : str, optional
        The site's address (see :func:`site_address`). When given, every downloadable
        notebook must install the course library from the wheel the folder serves there,
        and no chapter notebook may show MyST syntax as raw text.

    Returns
    -------
    list of Problem
        Empty when the folder can be published.
    """
    folder = Path(os.path.normpath(folder.absolute()))
    if not folder.is_dir():
        return [Problem(str(folder), "is not a folder")]
    machine = [re.compile(re.escape(str(path))) for path in {root, root.resolve()}]
    machine += MACHINE_PATHS
    placeholder = _placeholder_pattern()
    problems: list[Problem] = []
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        problems.append(Problem(".", "is empty"))
    for path in files:
        name = path.relative_to(folder).as_posix()
        # latin-1 reads any bytes, so binary files are searched too.
        text = path.read_bytes().decode("latin-1")
        # one line a file, the most specific path first: a clone under /home/ matches the
        # repository's path and /home/ at the same place
        if found := next(filter(None, (pattern.search(text) for pattern in machine)), None):
            problems.append(Problem(name, f"names the build machine: {found.group()!r}"))
        if placeholder.search(text):
            problems.append(Problem(name, f"carries the placeholder address {PLACEHOLDER_URL}"))
        if site and path.suffix == ".ipynb":
            problems += [Problem(name, text) for text in _notebook_problems(path, folder, site)]
        if _is_page(path, folder):
            parser = _Links()
            parser.feed(text)
            for link in dict.fromkeys(parser.links):
                if link in parser.followed and link.startswith(CITED_SOURCES):
                    continue
                if message := _link_problem(link, path, folder, addresses):
                    problems.append(Problem(name, message))
    return problems


def check_repository_notebooks(config: Path = CONFIG) -> list[Problem]:
    """Whether the repository's student notebooks install from the site's address.

    Colab opens a student notebook from the repository, not from the site, so the copies
    in ``exercises/`` must carry the install step for the address ``make site`` publishes.

    Parameters
    ----------
    config : Path
        The book's ``_config.yml``, beside the course's ``exercises/``.

    Returns
    -------
    list of Problem
        One per notebook whose install step fetches from elsewhere, or has none.
    """
    from lstm_grader.course import CourseLayout

    wheel = install_requirement(site_address(config))
    layout = CourseLayout.from_root(config.parent)
    problems = []
    for assignment in layout.released_assignments():
        for notebook in sorted(layout.release(assignment).glob("*.ipynb")):
            cells = nbformat.read(notebook, as_version=4).cells
            installs = [cell for cell in cells if INSTALL_TAG in cell.metadata.get("tags", [])]
            if not any(f'"{wheel}"' in cell.source for cell in installs):
                name = notebook.relative_to(config.parent).as_posix()
                problems.append(Problem(name, f"does not install the course library from {wheel}"))
    return problems


def _addresses(urls: Iterable[str] | None, config: Path) -> list[str]:
    if not urls:
        return course_addresses(config)
    urls = list(urls)
    for url in urls:
        if _placeholder_text() in url.lower():
            raise AddressError(f"{url} is the placeholder address, not the course's")
    return urls


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 on any problem).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 when everything is in order, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="python -m lstm_grader.site", description=__doc__)
    parser.add_argument("--config", type=Path, default=CONFIG, help="the book's _config.yml")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("address", help="print the course's addresses, or say what to set")
    config = commands.add_parser("config", help="write _config.yml with $COURSE_URL in it")
    config.add_argument("output", type=Path)
    build = commands.add_parser("assemble", help="make the folder to publish from the HTML")
    build.add_argument("html", type=Path)
    build.add_argument("site", type=Path)
    build.add_argument(
        "--address", help="the site's address; by default derived from _config.yml's"
    )
    check = commands.add_parser("check", help="list every reason the folder cannot go out")
    check.add_argument("folder", type=Path)
    check.add_argument(
        "--url",
        action="append",
        help="a course address (repeatable); by default _config.yml's, or $COURSE_URL",
    )
    check.add_argument(
        "--address", help="the site's address the notebooks install from (as for assemble)"
    )
    commands.add_parser(
        "notebooks",
        help="check that the student notebooks Colab opens install from the site's address",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "address":
            print("\n".join(course_addresses(args.config)))
        elif args.command == "config":
            settings = site_config(args.config, course_addresses(args.config)[0])
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        elif args.command == "assemble":
            copied = assemble(args.html, args.site, address=args.address)
            print(f"{args.site}: the book and {len(copied)} notebook files")
        elif args.command == "notebooks":
            problems = check_repository_notebooks(args.config)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(
                    "The student notebooks were generated for another address: regenerate "
                    "them (`make exercises`) and commit them, so the notebooks Colab opens "
                    "from the repository install from the site."
                )
                return 1
            print("The student notebooks install from", site_address(args.config))
        else:
            problems = check_site(
                args.folder,
                _addresses(args.url, args.config),
                site=args.address or site_address(args.config),
            )
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(f"{args.folder} cannot be published: {len(problems)} problems")
                return 1
            print(f"{args.folder} is ready to publish")
    except (AddressError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
