"""Turn the book's MyST cells into cells that JupyterLab 4 and Colab show as intended.

A chapter downloaded from the book as ``.ipynb`` is a jupytext conversion of its MyST
source: its Markdown cells still hold MyST syntax (``:::{admonition}``, ``{ref}`` roles,
``(label)=`` targets, ``{glue:}`` roles), which plain Jupyter front ends show as raw text,
and its code cells import ``myst_nb.glue``, which a learner's Colab does not have.

:func:`plain_markdown` rewrites one Markdown cell into CommonMark (plus the ``<details>`` and
``<kbd>`` HTML that JupyterLab and Colab render); :func:`strip_glue` removes what needs
``myst_nb`` from one code cell. Both are pure: the caller supplies the cross-reference
targets, the glued values and the included files.

>>> plain_markdown(
...     "(intro)=\\n# Intro\\n\\nSee {ref}`intro`.",
...     link_for=lambda label: ("Intro", "https://example.test/intro"),
...     glued={},
...     include=lambda path: "",
... )
'# Intro\\n\\nSee [Intro](https://example.test/intro).'
>>> strip_glue('from myst_nb import glue\\n\\nx = 3\\nglue("x", x)')
'x = 3'
"""

from __future__ import annotations

import ast
import html
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lstm_lib.prose import code_span

__all__ = ["LinkFor", "plain_markdown", "strip_glue"]

LinkFor = Callable[[str], tuple[str, str] | None]
"""A cross-reference resolver: label (or document path) -> (title, absolute url), or None."""

# --- block structure ---------------------------------------------------------------------

# MyST targets: "(label)=" alone on its line.
_TARGET = re.compile(r"^[ \t]*\([^()\s][^()]*\)=[ \t\r]*$")
# Directive openers of either fence kind. Any indentation is accepted, so a directive inside
# a list item is still found; its output is indented the same way.
_COLON_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>:{3,})\{(?P<name>[^{}\s]+)\}(?P<arg>.*)$")
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_DIRECTIVE_INFO = re.compile(r"^\{(?P<name>[^{}\s]+)\}(?P<arg>.*)$")
# A directive option line: ":name:" or ":name: value".
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w.+-]+):(?:[ \t]+(?P<value>.*?))?[ \t\r]*$")
_DISPLAY_MATH = re.compile(r"^[ \t]*\$\$[ \t\r]*$")

_ADMONITIONS = frozenset(
    {
        "note",
        "tip",
        "warning",
        "important",
        "caution",
        "attention",
        "danger",
        "error",
        "hint",
        "seealso",
    }
)
# The title Sphinx prints, where capitalising the name would not give it.
_ADMONITION_TITLES = {"seealso": "See also"}
_CODE_DIRECTIVES = frozenset({"code-block", "code", "sourcecode", "code-cell"})
# jupytext's and MyST's kernel names are not fence languages a renderer knows.
_LANGUAGE_ALIASES = {"ipython3": "python", "ipython": "python", "python3": "python"}

# --- inline syntax -----------------------------------------------------------------------

# A backtick run, optionally preceded by a role name; an escaped backtick opens nothing.
_TICKS_OR_ROLE = re.compile(r"(?P<role>\{(?P<name>[A-Za-z][\w:+.-]*)\})?(?<!\\)(?P<ticks>`+)")
# "text <target>", the explicit-title form of a role's content.
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>\s*$", re.DOTALL)
_REF_ROLES = frozenset({"ref", "numref", "doc"})


@dataclass(frozen=True)
class _Context:
    link_for: LinkFor
    glued: Mapping[str, str]
    include: Callable[[str], str]


def plain_markdown(
    text: str,
    *,
    link_for: LinkFor,
    glued: Mapping[str, str],
    include: Callable[[str], str],
) -> str:
    """Convert the text of one MyST Markdown cell into Markdown Jupyter front ends render.

    Targets ``(label)=`` are dropped; admonitions become blockquotes with a bold title,
    dropdowns ``<details>`` blocks, ``{include}`` the included text, ``{code-block}`` a plain
    fence, and any other directive its body; roles become links (``ref``, ``numref``,
    ``doc``), glued values (``glue``), ``$math$``, ``<kbd>`` or their text. Code fences and
    inline code spans are left alone, and so is every line that holds no MyST syntax.

    Parameters
    ----------
    text : str
        The cell's source.
    link_for : LinkFor
        Resolves a label (or a ``{doc}`` path) to ``(title, absolute url)``, or None when it
        has no target, in which case the reference becomes plain text.
    glued : Mapping[str, str]
        The text of each value the chapter glued, by name. A role naming a value missing
        here becomes the name as inline code.
    include : Callable[[str], str]
        Returns the text of the file an ``{include}`` directive names, with the path as
        written in the directive (relative to the chapter).

    Returns
    -------
    str
        The converted text.

    Raises
    ------
    ValueError
        If an ``{include}``'s ``:start-after:`` or ``:end-before:`` marker is not in the
        included text, as Sphinx refuses it too.
    """
    context = _Context(link_for=link_for, glued=glued, include=include)
    return "\n".join(_convert_lines(text.split("\n"), context))


def _convert_lines(lines: list[str], context: _Context) -> list[str]:
    out: list[str] = []
    prose: list[str] = []  # consecutive ordinary lines: a code span may run across them

    def flush_prose() -> None:
        if prose:
            out.extend(_convert_inline("\n".join(prose), context).split("\n"))
            prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if _TARGET.match(line):
            i += 1
            continue
        colon = _COLON_OPEN.match(line)
        fence = None if colon else _FENCE_OPEN.match(line)
        if fence and fence["fence"][0] == "`" and "`" in fence["info"]:
            fence = None  # CommonMark: a backtick fence's info string holds no backtick
        if colon or fence:
            match = colon or fence
            assert match is not None
            marker = match["fence"]
            end = _closing_fence(lines, i + 1, marker)
            body = lines[i + 1 : end]
            after = min(end + 1, len(lines))
            if colon:
                name, arg = colon["name"], colon["arg"]
            else:
                directive = _DIRECTIVE_INFO.match(match["info"].strip())
                if directive is None:
                    # A plain code fence: nothing inside is MyST, copy it as it is.
                    flush_prose()
                    out.extend(lines[i:after])
                    i = after
                    continue
                name, arg = directive["name"], directive["arg"]
            flush_prose()
            indent = match["indent"]
            block = _directive(name, arg.strip(), _dedent(body, len(indent)), context)
            block = [indent + b if b.strip() else b for b in block]
            if name in _CODE_DIRECTIVES:
                out.extend(block)  # a fence ends by itself, no blank lines needed around it
            elif block:
                # Blank lines around it: a text line right after a blockquote would join it
                # lazily, and one after "</details>" would stay raw HTML.
                if out and out[-1].strip():
                    out.append("")
                out.extend(block)
                if after < len(lines) and lines[after].strip():
                    out.append("")
            i = after
            continue
        if _DISPLAY_MATH.match(line):
            # $$ ... $$ is LaTeX, where "{x}`" could pass for a role.
            end = next((j for j in range(i + 1, len(lines)) if _DISPLAY_MATH.match(lines[j])), None)
            if end is not None:
                flush_prose()
                out.extend(lines[i : end + 1])
                i = end + 1
                continue
        prose.append(line)
        i += 1
    flush_prose()
    return out


def _closing_fence(lines: list[str], start: int, marker: str) -> int:
    """The index of the line closing a fence opened with ``marker``, or ``len(lines)``.

    As in markdown-it (and so MyST), the body is not parsed while the end is looked for: the
    first line of only the same character, at least as many times, closes it. That is why
    a directive nests inside another only when the outer fence is longer.
    """
    closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t\r]*$")
    for j in range(start, len(lines)):
        if closing.match(lines[j]):
            return j
    return len(lines)  # an unclosed fence runs to the end, as in CommonMark


def _dedent(lines: list[str], width: int) -> list[str]:
    out = []
    for line in lines:
        stripped = len(line) - len(line.lstrip(" \t"))
        out.append(line[min(stripped, width) :])
    return out


def _split_options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """The directive's options (``:key: value`` lines or a ``---`` YAML block) and its body."""
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":
        end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), None)
        if end is not None:
            for line in body[1:end]:
                key, sep, value = line.partition(":")
                if sep and not line[:1].isspace():
                    options[key.strip()] = value.strip()
            return options, body[end + 1 :]
    i = 0
    while i < len(body):
        option = _OPTION.match(body[i])
        if option is None:
            break
        options[option["key"]] = (option["value"] or "").strip()
        i += 1
    return options, body[i:]


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _directive(name: str, arg: str, body: list[str], context: _Context) -> list[str]:
    """The lines that replace one directive (already dedented to its own fence)."""
    options, content = _split_options(body)
    if name in _CODE_DIRECTIVES:
        language = arg.split()[0] if arg else ("python" if name == "code-cell" else "")
        return _code_fence(_LANGUAGE_ALIASES.get(language, language), content)
    if name in ("include", "literalinclude"):
        included = _cut(context.include(arg), options, arg)
        language = options.get("code") or options.get("language")
        if name == "literalinclude" or "literal" in options or language is not None:
            return _code_fence(language or "", included.split("\n"))
        return _convert_lines(_trim_blank(included.split("\n")), context)
    if name == "math":
        return ["$$", *_trim_blank(content), "$$"]
    if name.startswith("glue"):  # myst-nb's glue directives: {glue}, {glue:any}, {glue:md}...
        value = context.glued.get(arg)
        shown = [value if value is not None else code_span(arg)]
        caption = _convert_lines(_trim_blank(content), context)
        return shown + ([""] + caption if caption else [])

    converted = _convert_lines(_trim_blank(content), context)
    if name in ("figure", "image"):
        return [f"![{options.get('alt', '')}]({arg})"] + ([""] + converted if converted else [])
    dropdown_class = "dropdown" in options.get("class", "").split()
    if name == "admonition" or name in _ADMONITIONS:
        inline_arg = _convert_inline(arg, context) if arg else ""
        if name == "admonition":
            title = inline_arg
        else:
            label = _ADMONITION_TITLES.get(name, name.capitalize())
            title = f"{label}: {inline_arg}" if inline_arg else label
        if dropdown_class:  # sphinx-book-theme draws these folded, as <details> does
            return _details(title, converted, "open" in options)
        quoted = [f"> **{title}**", ">"] if title else []
        if not converted and quoted:
            quoted.pop()
        return quoted + [f"> {line}" if line.strip() else ">" for line in converted]
    if name == "dropdown":
        title = _convert_inline(arg, context) if arg else "Show"
        return _details(title, converted, "open" in options)
    return converted


def _details(title: str, body: list[str], is_open: bool) -> list[str]:
    opening = "<details open>" if is_open else "<details>"
    return [opening, f"<summary>{title}</summary>", "", *body, "", "</details>"]


def _code_fence(language: str, lines: list[str]) -> list[str]:
    lines = _trim_blank(lines)
    longest = max(
        (len(m) for line in lines for m in re.findall(r"^[ \t]*(`{3,})", line)), default=0
    )
    fence = "`" * max(3, longest + 1)
    return [fence + language, *lines, fence]


def _cut(text: str, options: Mapping[str, str], path: str) -> str:
    start = options.get("start-after")
    if start:
        at = text.find(start)
        if at < 0:
            raise ValueError(f"include {path}: start-after marker {start!r} is not in the file")
        text = text[at + len(start) :]
    end = options.get("end-before")
    if end:
        at = text.find(end)
        if at < 0:
            raise ValueError(f"include {path}: end-before marker {end!r} is not in the file")
        text = text[:at]
    return text


def _convert_inline(text: str, context: _Context) -> str:
    """Replace the roles in running text, leaving inline code spans as they are."""
    out: list[str] = []
    pos = 0
    while True:
        match = _TICKS_OR_ROLE.search(text, pos)
        if match is None:
            out.append(text[pos:])
            return "".join(out)
        ticks = match["ticks"]
        # A code span (or role content) ends at the next backtick run of exactly its length.
        closing = re.compile(rf"(?<!`){ticks}(?!`)").search(text, match.end())
        if closing is None:
            # An unmatched backtick run is literal text, and so is a role name before it.
            out.append(text[pos : match.end()])
            pos = match.end()
            continue
        out.append(text[pos : match.start()])
        if match["role"]:
            content = text[match.end() : closing.start()]
            out.append(_role(match["name"], content, context))
        else:
            out.append(text[match.start() : closing.end()])
        pos = closing.end()


def _role(name: str, content: str, context: _Context) -> str:
    explicit = _EXPLICIT.match(content)
    text, target = (explicit["text"], explicit["target"].strip()) if explicit else ("", "")
    if name in _REF_ROLES:
        if not explicit:
            target = content.strip()
        link = context.link_for(target)
        title = link[0] if link else target
        if name == "numref" and text:
            text = text.replace("%s", title).replace("{number}", title).replace("{name}", title)
        shown = text or title
        return f"[{shown}]({link[1]})" if link else shown
    if name == "glue" or name.startswith("glue:"):
        key, fmt = content.strip(), ""
        if name == "glue:text" and ":" in key:
            key, fmt = key.rsplit(":", 1)  # as myst-nb splits it: the format comes last
        value = context.glued.get(key)
        if value is None:
            return code_span(key)
        if name == "glue:text":
            return _glued_text(value, fmt)
        return value
    if name == "math":
        return f"${content}$"
    if name == "kbd":
        return f"<kbd>{html.escape(content, quote=False)}</kbd>"
    return text if explicit and text else content


def _glued_text(value: str, fmt: str) -> str:
    """A glued value's plain text as myst-nb's ``{glue:text}`` shows it: a string without
    its quotes, a number in the format given after the name.

    Examples
    --------
    >>> _glued_text("'(batch, 3, 1)'", ""), _glued_text("12416", ","), _glued_text("1.9e-08", ".1e")
    ('(batch, 3, 1)', '12,416', '1.9e-08')
    """
    try:  # the chapter's own output, from the book's build: the text is a repr
        shown = ast.literal_eval(value)
    except (SyntaxError, ValueError):
        shown = value
    if not fmt:
        return str(shown)
    try:
        if fmt[-1] == "s":
            return format(str(shown), fmt)
        if fmt[-1] in "bcdoxX":
            return format(int(shown), fmt)
        if fmt[-1] in "eEfFgGn%":
            return format(float(shown), fmt)
        return format(shown, fmt)
    except (TypeError, ValueError):
        return str(shown)


# --- code cells --------------------------------------------------------------------------


def strip_glue(source: str) -> str:
    """Remove from one code cell the statements that need ``myst_nb``.

    Removed: imports of ``myst_nb`` (``from myst_nb import glue``, ``import myst_nb``,
    ``from myst_nb.x import ...``) and expression statements calling ``glue(...)`` or
    ``myst_nb.glue(...)``, however many lines they span, at top level or inside a block
    (where an emptied block gets ``pass``). Every other line stays byte-identical; a run of
    blank lines the removal leaves behind becomes one, and blank lines it leaves at the
    start or end of the cell go.

    Parameters
    ----------
    source : str
        The code cell's Python source. IPython line magics (``%...``, ``!...``) are allowed.

    Returns
    -------
    str
        The source without those statements: ``""`` if nothing else was in it, ``source``
        itself if it has none of them or does not parse.
    """
    tree = _parse(source)
    if tree is None:
        return source
    modules, functions = _myst_nb_names(tree)
    # The final newline ends the last line; it is not a blank line of its own.
    terminated = source.endswith("\n")
    lines = (source[:-1] if terminated else source).split("\n")
    removed: set[int] = set()  # 0-based indexes of the lines cut whole
    # Rewrites of a statement's own text: (first line, start col, last line, end col, text).
    edits: list[tuple[int, int, int, int, str]] = []

    for parent, body in _statement_lists(tree):
        drops = [_needs_myst_nb(stmt, modules, functions) for stmt in body]
        # A block left with no statement is a syntax error; a cell left empty is fine.
        emptied = not isinstance(parent, ast.Module) and all(d is not None for d in drops)
        for index, (stmt, drop) in enumerate(zip(body, drops, strict=True)):
            if drop is None:
                continue
            first, last = stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) - 1
            start = _char_col(lines[first], stmt.col_offset)
            end = _char_col(lines[last], stmt.end_col_offset or 0)
            rest = lines[last][end:].strip()
            alone = not lines[first][:start].strip() and (not rest or rest.startswith("#"))
            replacement = drop or ("pass" if emptied and index == 0 else "")
            if alone and not replacement:
                removed.update(range(first, last + 1))
            else:
                # It shares a line with other code, or must leave something behind: rewrite
                # just its own text ("pass" keeps "x = 1; pass" and an emptied block valid).
                edits.append((first, start, last, end, replacement or "pass"))
                removed.update(range(first + 1, last + 1))
    if not removed and not edits:
        return source

    for first, start, last, end, text in sorted(edits, reverse=True):
        lines[first] = lines[first][:start] + text + lines[last][end:]
    stripped = _join_without(lines, removed)
    return stripped + "\n" if stripped and terminated else stripped


def _parse(source: str) -> ast.Module | None:
    for candidate in (source, _mask_magics(source)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. invalid escapes: not ours to report
                return ast.parse(candidate)
        except (SyntaxError, ValueError):
            continue
    return None


def _mask_magics(source: str) -> str:
    # Same number of lines, so the statements' line numbers still index the real source.
    return "\n".join(
        re.sub(r"^([ \t]*)[%!].*$", r"\1pass", line) if not line.startswith("%%") else line
        for line in source.split("\n")
    )


def _myst_nb_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names bound to the myst_nb module and to its glue function in this cell."""
    modules, functions = {"myst_nb"}, {"glue"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_myst_nb(alias.name):
                    modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_myst_nb(node.module):
            functions.update(a.asname or a.name for a in node.names if a.name == "glue")
    return modules, functions


def _is_myst_nb(module: str | None) -> bool:
    return module is not None and (module == "myst_nb" or module.startswith("myst_nb."))


def _statement_lists(tree: ast.AST) -> list[tuple[ast.AST, list[ast.stmt]]]:
    lists = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                lists.append((node, body))
    return lists


def _needs_myst_nb(stmt: ast.stmt, modules: set[str], functions: set[str]) -> str | None:
    """None to keep ``stmt``; else what replaces it: "" to drop it, or a rewritten import."""
    if isinstance(stmt, ast.ImportFrom):
        return "" if stmt.level == 0 and _is_myst_nb(stmt.module) else None
    if isinstance(stmt, ast.Import):
        kept = [alias for alias in stmt.names if not _is_myst_nb(alias.name)]
        if len(kept) == len(stmt.names):
            return None
        return ast.unparse(ast.Import(names=kept)) if kept else ""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Name) and func.id in functions:
            return ""
        if isinstance(func, ast.Attribute) and func.attr == "glue":
            root = func.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                return ""
    return None


def _char_col(line: str, byte_col: int) -> int:
    # ast's column offsets count UTF-8 bytes, not characters.
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _join_without(lines: list[str], removed: set[int]) -> str:
    """Join the kept lines, tidying only the blank lines next to a removal."""
    kept: list[str] = []
    cut_before: list[bool] = []  # whether a removed line came right before kept[i]
    pending = False
    for index, line in enumerate(lines):
        if index in removed:
            pending = True
            continue
        kept.append(line)
        cut_before.append(pending)
        pending = False
    cut_at_end = pending

    out: list[str] = []
    i = 0
    while i < len(kept):
        if kept[i].strip():
            out.append(kept[i])
            i += 1
            continue
        # A run of blank lines: was a removal inside it or on either side of it?
        j = i
        while j < len(kept) and not kept[j].strip():
            j += 1
        touched = any(cut_before[i : j + 1] if j < len(kept) else cut_before[i:]) or (
            j == len(kept) and cut_at_end
        )
        run = kept[i:j]
        if touched:
            at_start, at_end = not out, j == len(kept)
            run = [] if at_start or at_end else run[:1]
        out.extend(run)
        i = j
    if not any(line.strip() for line in out):
        return ""
    return "\n".join(out)
