"""Is the published site a folder that works for a learner anywhere, and is it refused if not?

The checker (``lstm_grader.site``) is tried on small site folders made here: one clean, the
others each with one flaw (a build machine's path, the placeholder address, a link outside
the course, a broken local link). The course address and its placeholder are tried on
throwaway configs. The Pages workflow is linted with actionlint. The slow test runs
``make site`` itself on the real book, with a test address given through ``COURSE_URL``
(``_config.yml`` is never edited), and with the placeholder, which must fail saying what to
set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT, require_or_skip
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_grader.self_install import (
    WHEELS_FOLDER,
    install_requirement,
    set_install_cell,
    wheel_name,
)
from lstm_grader.site import (
    ADDRESS_VARIABLE,
    CONFIG,
    PLACEHOLDER_URL,
    AddressError,
    assemble,
    check_repository_notebooks,
    check_site,
    course_addresses,
    main,
    site_address,
)

URL = "https://github.com/course-team/keras-course"
BINDER = "https://mybinder.org/v2/gh/course-team/keras-course/main?urlpath=lab/tree/ex/a.ipynb"
COLAB = "https://colab.research.google.com/github/course-team/keras-course/blob/main/ex/a.ipynb"
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def page(links: list[str], body: str = "", up: str = "") -> str:
    """A page with the theme's script (``up`` leads from the page's folder to the site's
    root) and an anchor for each link."""
    anchors = "".join(f'<a href="{link}">x</a>' for link in links)
    head = f'<head><script src="{up}_static/app.js"></script></head>'
    return f"<html>{head}<body>{anchors}{body}</body></html>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small publishable folder: pages, an asset, a notebook and its sealed file."""
    folder = tmp_path / "site"
    (folder / "_static").mkdir(parents=True)
    (folder / "_static" / "app.js").write_text("// the theme's script\n")
    # The theme's Jinja macros sit in _static as .html; they are assets, not pages.
    (folder / "_static" / "macros.html").write_text("<link href=\"{{ pathto('x', 1) }}\">")
    notebooks = folder / "_sources" / "ex"
    notebooks.mkdir(parents=True)
    (notebooks / "a.ipynb").write_text(json.dumps({"cells": []}))
    (notebooks / "mistakes.sealed.json").write_text("{}")
    (folder / "book").mkdir()
    (folder / "book" / "one.html").write_text(page(["../index.html#top", "#here"], up="../"))
    (folder / "index.html").write_text(
        page(
            ["book/one.html", "book/", "_sources/ex/a.ipynb", BINDER, COLAB, f"{URL}/issues"],
            body='<img src="data:image/png;base64,AAAA">',
        )
    )
    (folder / "book" / "index.html").write_text(page([], up="../"))
    return folder


def messages(folder: Path, *addresses: str) -> list[str]:
    return [str(problem) for problem in check_site(folder, list(addresses or [URL]))]


def test_a_clean_folder_passes(site: Path) -> None:
    assert messages(site) == []


@pytest.mark.parametrize(
    "leak", [str(ROOT), "/root/.cache/x", "/home/runner/work", "lib/python3.11/site-packages/x"]
)
def test_a_build_machine_path_is_found(site: Path, leak: str) -> None:
    (site / "book" / "two.txt").write_text(f"File {leak}/a.py, line 3\n")
    found = messages(site)
    assert len(found) == 1 and found[0].startswith("book/two.txt: names the build machine")


def test_a_word_that_only_starts_like_root_is_not_a_path(site: Path) -> None:
    (site / "_static" / "app.js").write_text("el.querySelector('/rootElement'); a/rooted\n")
    assert messages(site) == []


def test_the_placeholder_is_found_anywhere(site: Path) -> None:
    (site / "_sources" / "ex" / "a.ipynb").write_text(json.dumps({"url": PLACEHOLDER_URL}))
    assert messages(site) == [
        f"_sources/ex/a.ipynb: carries the placeholder address {PLACEHOLDER_URL}"
    ]


@pytest.mark.parametrize(
    "link",
    [
        "https://keras.io/api/layers/",
        "//cdn.example.net/lib.js",
        "http://github.com/course-team/keras-course",  # not the address's scheme
        "https://github.com/course-team/keras-course-fork",  # only shares a prefix
        "https://mybinder.org/v2/gh/someone-else/keras-course/main",
        "https://colab.research.google.com/github/someone-else/keras-course/blob/main/a.ipynb",
    ],
)
def test_a_link_outside_the_course_is_found(site: Path, link: str) -> None:
    (site / "book" / "one.html").write_text(page([link], up="../"))
    assert messages(site) == [f"book/one.html: links outside the course's address: {link}"]


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("two.html", "links to a missing file: two.html"),
        ("../_sources/ex/b.ipynb", "links to a missing file: ../_sources/ex/b.ipynb"),
        ("../../elsewhere/x.html", "links outside the folder: ../../elsewhere/x.html"),
        ("/_static/app.js", "links from the server's root, not relative to the page"),
    ],
)
def test_a_broken_local_link_is_found(site: Path, link: str, message: str) -> None:
    (site / "book" / "one.html").write_text(page([link], up="../"))
    found = messages(site)
    assert len(found) == 1 and found[0].startswith(f"book/one.html: {message}"), found


def test_a_cited_source_may_be_followed_but_never_loaded(site: Path) -> None:
    """Does a reader's link to a source the book cites pass, while the same address as
    a page's resource (a script, an image) and an uncited link are still found?"""
    cited = "https://blog.keras.io/introducing-keras-2.html"
    (site / "book" / "one.html").write_text(page([cited], up="../"))
    assert messages(site) == []
    resources = f'<script src="{cited}"></script><a href="https://keras.io">k</a>'
    (site / "book" / "one.html").write_text(page([], body=resources, up="../"))
    assert messages(site) == [
        f"book/one.html: links outside the course's address: {cited}",
        "book/one.html: links outside the course's address: https://keras.io",
    ]


def test_links_to_the_sites_own_address_pass(site: Path) -> None:
    home = "https://course-team.github.io/keras-course/"
    (site / "book" / "one.html").write_text(page([f"{home}book/one.html"], up="../"))
    assert messages(site, URL) != []
    assert messages(site, URL, home) == []


def test_the_cli_exits_1_listing_each_problem(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(site), "--url", URL]) == 0
    (site / "book" / "one.html").write_text(page(["https://keras.io", "gone.html"], up="../"))
    assert main(["check", str(site), "--url", URL]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "book/one.html: links outside the course's address: https://keras.io",
        "book/one.html: links to a missing file: gone.html",
    ]


def test_the_cli_refuses_the_placeholder_as_the_address(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(site), "--url", PLACEHOLDER_URL]) == 1
    assert "placeholder" in capsys.readouterr().err


@pytest.mark.slow
def test_the_cli_runs_as_a_module(site: Path) -> None:
    command = [sys.executable, "-m", "lstm_grader.site", "check", str(site), "--url", URL]
    assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 0
    shutil.rmtree(site / "_static")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "links to a missing file: _static/app.js" in result.stderr


def config(tmp_path: Path, url: str | None, baseurl: str | None = None) -> Path:
    settings: dict = {"title": "t", "repository": {"url": url} if url else {}}
    if baseurl:
        settings["html"] = {"baseurl": baseurl}
    path = tmp_path / "_config.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


def test_the_address_is_the_configs_repository_and_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    home = "https://course-team.github.io/keras-course/"
    assert course_addresses(config(tmp_path, f"{URL}.git", home)) == [URL, home]
    monkeypatch.setenv(ADDRESS_VARIABLE, "https://github.com/other/course")
    assert course_addresses(config(tmp_path, URL)) == ["https://github.com/other/course"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (PLACEHOLDER_URL, "still the placeholder"),
        (None, "no public address"),
        ("https://example.org/keras-course", "not a GitHub repository"),
    ],
)
def test_an_unusable_address_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str | None, says: str
) -> None:
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    with pytest.raises(AddressError, match=says) as raised:
        course_addresses(config(tmp_path, url))
    assert "Set repository.url in _config.yml" in str(raised.value)


def test_make_sites_first_step_refuses_the_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make site`` starts with ``address``: with the placeholder it stops there, before
    the build, saying what to set; with an address it prints it."""
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    assert main(["--config", str(config(tmp_path, PLACEHOLDER_URL)), "address"]) == 1
    error = capsys.readouterr().err
    assert "still the placeholder" in error and "Set repository.url in _config.yml" in error
    assert main(["--config", str(config(tmp_path, URL)), "address"]) == 0
    assert capsys.readouterr().out == f"{URL}\n"


def test_assemble_puts_each_notebooks_files_beside_its_download(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "ex" / "a").mkdir(parents=True)
    (root / "ex" / "a" / "a.ipynb").write_text("{}")
    (root / "ex" / "a" / "mistakes.sealed.json").write_text("{}")
    (root / "ex" / "a" / ".ipynb_checkpoints").mkdir()
    (root / CONFIG.name).write_text(yaml.safe_dump({"repository": {"url": URL}}))
    html = root / "_build" / "html"
    (html / "_sources" / "ex" / "a").mkdir(parents=True)
    built = new_notebook(cells=[new_markdown_cell("as built"), new_code_cell("import lstm_lib")])
    set_install_cell(built, "https://elsewhere.test/")
    nbformat.write(built, html / "_sources" / "ex" / "a" / "a.ipynb")
    (html / "index.html").write_text(page([]))
    wheel = tmp_path / wheel_name()
    wheel.write_bytes(b"a wheel")
    site = root / "_build" / "site"
    (site / "stale").mkdir(parents=True)
    copied = assemble(html, site, root, wheel=wheel)
    assert copied == [site / "_sources" / "ex" / "a" / "mistakes.sealed.json"]
    assert not (site / "stale").exists() and (site / ".nojekyll").exists()
    assert (site / WHEELS_FOLDER / wheel_name()).read_bytes() == b"a wheel"
    published = nbformat.read(site / "_sources" / "ex" / "a" / "a.ipynb", as_version=4)
    assert published.cells[0].source == "as built"
    install = published.cells[1].source
    assert install_requirement("https://course-team.github.io/keras-course/") in install
    assert '"https://course-team.github.io/keras-course/_sources/ex/a/"' in install
    assert "['mistakes.sealed.json']" in install
    with pytest.raises(ValueError, match="refusing"):
        assemble(html, root, root)


def test_the_sites_address_is_the_base_url_or_github_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    assert site_address(config(tmp_path, URL)) == "https://course-team.github.io/keras-course/"
    home = "https://courses.example.edu/keras"
    assert site_address(config(tmp_path, URL, home)) == home + "/"
    monkeypatch.setenv(ADDRESS_VARIABLE, "https://github.com/Other/Course")
    assert site_address(config(tmp_path, URL)) == "https://other.github.io/course/"
    monkeypatch.delenv(ADDRESS_VARIABLE)
    with pytest.raises(AddressError, match="set html.baseurl"):
        site_address(config(tmp_path, "https://example.org/keras-course"))


def test_the_placeholders_pages_address_is_found_too(site: Path) -> None:
    (site / "_sources" / "ex" / "a.ipynb").write_text(
        json.dumps({"url": "https://example-org.github.io/keras-recurrent-course/packages/"})
    )
    assert messages(site) == [
        f"_sources/ex/a.ipynb: carries the placeholder address {PLACEHOLDER_URL}"
    ]


HOME = "https://course-team.github.io/keras-course/"


def downloadable(site: Path, *cells: nbformat.NotebookNode, address: str | None = HOME) -> None:
    notebook = new_notebook(cells=list(cells))
    if address:
        set_install_cell(notebook, address)
    nbformat.write(notebook, site / "_sources" / "ex" / "a.ipynb")
    (site / WHEELS_FOLDER).mkdir(exist_ok=True)
    (site / WHEELS_FOLDER / wheel_name()).write_bytes(b"a wheel")


def notebook_problems(site: Path) -> list[str]:
    return [str(problem) for problem in check_site(site, [URL], site=HOME)]


def test_a_notebook_that_installs_from_the_site_passes(site: Path) -> None:
    downloadable(site, new_markdown_cell("> **Note**"), new_code_cell("import lstm_lib"))
    assert notebook_problems(site) == []


def test_a_notebook_without_an_install_step_is_found(site: Path) -> None:
    downloadable(site, new_code_cell("from lstm_lib import checks"), address=None)
    assert notebook_problems(site) == [
        "_sources/ex/a.ipynb: imports lstm_lib but has no install step"
    ]


def test_a_notebook_installing_from_elsewhere_is_found(site: Path) -> None:
    downloadable(site, new_code_cell("import lstm_lib"), address="https://elsewhere.test/")
    assert notebook_problems(site) == [
        "_sources/ex/a.ipynb: does not install the course library from " + install_requirement(HOME)
    ]


def test_a_missing_wheel_is_found(site: Path) -> None:
    downloadable(site, new_code_cell("import lstm_lib"))
    (site / WHEELS_FOLDER / wheel_name()).unlink()
    (found,) = notebook_problems(site)
    assert f"installs {WHEELS_FOLDER}/{wheel_name()}, which the folder lacks" in found


@pytest.mark.parametrize(
    "myst",
    [":::{admonition} Predict first", "See {ref}`dense`.", "(dense)=", "{glue:}`count` weights"],
)
def test_myst_left_in_a_downloadable_notebook_is_found(site: Path, myst: str) -> None:
    downloadable(site, new_markdown_cell(f"Text\n{myst}\nmore"), new_code_cell("import lstm_lib"))
    (found,) = notebook_problems(site)
    assert "shows MyST as raw text in plain Jupyter" in found


def test_the_committed_student_notebooks_install_from_the_configs_site(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Colab opens them from the repository; another address makes each one stale."""
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    assert check_repository_notebooks(CONFIG) == []
    monkeypatch.setenv(ADDRESS_VARIABLE, URL)
    stale = check_repository_notebooks(CONFIG)
    assert len(stale) == len(list((ROOT / "exercises").glob("*/*.ipynb"))) > 0
    assert main(["notebooks"]) == 1


def actionlint() -> str | None:
    """The actionlint binary: in this interpreter's bin (the venv's), else on PATH."""
    return shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
        "actionlint"
    )


def test_the_pages_workflow_lints_clean() -> None:
    binary = actionlint()
    require_or_skip(binary is not None, "actionlint")
    result = subprocess.run(
        [binary, "-no-color", str(WORKFLOW)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pages_workflow_publishes_what_make_site_builds() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"] == {"tags": ["v*"]} and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["group"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    steps = {step.get("uses", "").split("@")[0]: step for step in build["steps"]}
    assert steps["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert any(step.get("run") == "make site" for step in build["steps"])
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/site"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


def make_site(url: str) -> subprocess.CompletedProcess:
    """``make site`` with ``url`` as the address; the stamp is taken as current (-o), as the
    suite already runs in the installed environment."""
    env = {**os.environ, ADDRESS_VARIABLE: url}
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed-stamp", "site"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )


@pytest.mark.slow
def test_make_site_builds_a_publishable_folder() -> None:
    refused = make_site(PLACEHOLDER_URL)
    assert refused.returncode != 0
    assert "still the placeholder" in refused.stderr
    assert "Set repository.url in _config.yml" in refused.stderr

    site = ROOT / "_build" / "site"
    assert not site.exists(), "a refused run left a folder to upload"

    result = make_site(URL)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "_build/site is ready to publish" in result.stdout
    assert check_site(site, [URL]) == []
    for notebook in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        published = site / "_sources" / notebook.relative_to(ROOT)
        assert published.is_file(), f"{published} is missing"
        for needed in notebook.parent.glob("*.json"):
            assert (published.parent / needed.name).is_file(), f"{needed.name} not beside it"
    launches = (site / "exercises" / "04-lstm" / "04-lstm.html").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/course-team/keras-course/" in launches
    assert "colab.research.google.com/github/course-team/keras-course/" in launches


def test_a_clone_under_home_is_named_once_a_file(tmp_path: Path) -> None:
    """A course cloned under /home/ matches both the repository's own path and /home/: is
    each file that names it reported once, by the more specific path?"""
    site = tmp_path / "site"
    (site / "book").mkdir(parents=True)
    (site / "book" / "two.txt").write_text("File /home/ada/course/lstm_lib/a.py, line 3\n")
    found = check_site(site, [URL], root=Path("/home/ada/course"))
    assert [str(problem) for problem in found] == [
        "book/two.txt: names the build machine: '/home/ada/course'"
    ]
