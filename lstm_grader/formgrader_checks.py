"""Checking the gradebook before each opening the formgrader's own pages make.

The formgrader's buttons run nbgrader's converters, which the course checks once per
command (:mod:`lstm_grader.converter_checks`). Its pages and their API open the gradebook
themselves, outside any converter: ``BaseHandler.gradebook`` (one ``Gradebook`` kept for
the server's life, used to edit due dates, learners, manual grades, comments and flags)
and ``NbGraderAPI.gradebook`` (a new ``Gradebook`` for each listing). nbgrader's
``Gradebook`` makes the tables it misses as it opens: merely listing the assignments of an
emptied gradebook filled it with empty tables, and one missing its ``grade`` table got it
back empty, after which the course's check passed the file and every grade was lost in
silence; a due date or learner edit wrote into a damaged file and answered success.

:func:`check_formgrader_openings` puts a check (the course's:
:class:`lstm_grader.gradebook_guard.OpeningCheck`) in front of both openings, and in front
of each of the formgrader's pages; and, where the course's collector reads the due date
from the gradebook (``before_duedate``), in front of the *Collect* button, which then
answers a refused gradebook as the converters' buttons do. A gradebook it
refuses is not opened, and the request fails with the check's one line: an API request's
answer (status 500) is that line as plain text, and a page shows it as its error, where
nbgrader's pages, whose scripts show no failed API request, would show an empty table.
Tornado logs it as one warning, without a traceback. The course's ``nbgrader_config.py``
installs it (through :func:`lstm_grader.gradebook_guard.guard_gradebook`) in every process
that reads the course's configuration, the formgrader's server among them.
"""

from __future__ import annotations

import functools
import html
import inspect
from collections.abc import Callable
from typing import Any

from tornado import web

__all__ = ["REFUSED_HEADER", "GradebookRefused", "check_formgrader_openings"]

#: The mark of the installed wrappers, so a second install changes nothing.
_INSTALLED = "checks_the_gradebook_for_lstm_grader"
#: The attribute on a request's handler saying its gradebook was checked for this
#: request: a handler lives for one request, which may reach the gradebook several times.
_CHECKED = "gradebook_checked_for_this_request"
#: The setting in which the formgrader's settings name the file its kept gradebook is in.
_KEPT_FILE = "lstm_grader_kept_gradebook_file"
#: The header that marks an API answer as the check's refusal, for the pages' script.
REFUSED_HEADER = "X-Gradebook-Refused"
#: What every formgrader page gets before ``</body>``: nbgrader's scripts show no failed
#: list or edit (a score typed into a damaged gradebook looked saved), so a request the
#: check refused shows its line in nbgrader's own dialog, once.
_SHOW_REFUSALS = f"""<script>
$(document).ajaxError(function (event, request) {{
  if (!request.getResponseHeader("{REFUSED_HEADER}") || $("#gradebook-refused").length) return;
  var line = $("<p/>").addClass("alert alert-danger").text(request.responseText);
  createModal("gradebook-refused", "The gradebook cannot be used", line);
}});
</script>
"""
#: A page of the formgrader's own (not a file of a learner's it serves): it loads this.
_FORMGRADER_PAGE = "/formgrader/static/js/utils.js"
#: The page shown for a refused gradebook: nbgrader's own frame, the line as its error.
_REFUSED_PAGE = """{%- extends 'base.tpl' -%}
{%- block title -%}The gradebook cannot be used{%- endblock -%}
{%- block body -%}
<div class="panel-body"><p id="gradebook-problem" class="alert alert-danger">{{ line }}</p></div>
{%- endblock -%}"""


class GradebookRefused(web.HTTPError):
    """The formgrader's request stopped before opening a gradebook the check refused.

    Parameters
    ----------
    line : str
        The check's one line, kept as :attr:`line` and shown to the instructor.
    """

    def __init__(self, line: str) -> None:
        # no arguments: tornado then logs log_message as it is, a % in a path kept
        super().__init__(500, line, reason="Gradebook Unusable")
        self.line = line


def _is_writing(handler: Any) -> bool:
    """Whether ``handler``'s request may write the gradebook: every method but a read."""
    return handler.request.method not in ("GET", "HEAD", "OPTIONS")


def check_formgrader_openings(
    problem_of: Callable[[str, bool], str | None],
    collect_opens: Callable[[Any], bool],
    file_of: Callable[[str], str | None],
) -> None:
    """Make the formgrader ask ``problem_of`` before each opening of the gradebook, and
    before each of its pages.

    Parameters
    ----------
    problem_of : callable
        Takes the gradebook's URL and whether the request may write it (any method but
        GET, HEAD or OPTIONS), and returns None to open it, or the one line to refuse it
        with (as :meth:`lstm_grader.gradebook_guard.OpeningCheck.problem` does). A refused
        gradebook is not opened: the request raises :class:`GradebookRefused`, whose line
        the formgrader answers with, and the gradebook the server kept open is closed, so
        the file restored is opened anew. Installing a check again changes nothing.
    collect_opens : callable
        Takes the formgrader's ``NbGraderAPI`` and says whether its *Collect* button's
        collector opens the gradebook (for the due date): such a press is checked first,
        and answers a refused gradebook with the line as its error, as the buttons that
        run a converter do.
    file_of : callable
        Takes the gradebook's URL and names the file it is in (as
        :func:`lstm_grader.gradebook_guard.pages_checked_mark` does), or None. The
        gradebook the server keeps is opened anew when another file was put in its place:
        it would go on writing the file removed, every edit lost.
    """
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.server_extensions.formgrader.base import BaseApiHandler, BaseHandler

    if getattr(BaseHandler.gradebook.fget, _INSTALLED, False):
        return

    def refuse_unless_usable(handler: Any) -> None:
        """Raise :class:`GradebookRefused` for a gradebook ``handler`` must not open,
        dropping the one the server kept; checked once per request."""
        if getattr(handler, _CHECKED, False):
            return
        line = problem_of(handler.db_url, _is_writing(handler))
        if line is not None:
            kept = handler.settings.get("nbgrader_gradebook")
            if kept is not None:
                kept.close()
                handler.settings["nbgrader_gradebook"] = None
            raise GradebookRefused(line)
        setattr(handler, _CHECKED, True)

    kept_gradebook = BaseHandler.gradebook.fget

    @functools.wraps(kept_gradebook)
    def handler_gradebook(handler: Any) -> Any:
        refuse_unless_usable(handler)
        settings = handler.settings
        kept = settings.get("nbgrader_gradebook")
        if kept is not None and settings.get(_KEPT_FILE) != file_of(handler.db_url):
            kept.close()
            settings["nbgrader_gradebook"] = None
        gradebook = kept_gradebook(handler)
        settings[_KEPT_FILE] = file_of(handler.db_url)
        return gradebook

    new_gradebook = NbGraderAPI.gradebook.fget

    @functools.wraps(new_gradebook)
    def api_gradebook(api: Any) -> Any:
        # the API lists; its callers that write use the handler's gradebook
        line = problem_of(api.coursedir.db_url, False)
        if line is not None:
            raise GradebookRefused(line)
        return new_gradebook(api)

    uncollected = NbGraderAPI.collect

    @functools.wraps(uncollected)
    def collect(api: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if collect_opens(api):
            line = problem_of(api.coursedir.db_url, False)
            if line is not None:
                api.log.error(line)
                # nbgrader's capture_log answer, which the page shows
                return {"success": False, "error": line, "log": f"[ERROR] {line}"}
        return uncollected(api, *args, **kwargs)

    unprepared = BaseHandler.prepare

    @functools.wraps(unprepared)
    async def prepare(handler: Any, *args: Any, **kwargs: Any) -> None:
        prepared = unprepared(handler, *args, **kwargs)
        if inspect.isawaitable(prepared):
            await prepared
        # a page's scripts show no failed API request: the page itself says what is wrong;
        # only to a signed-in instructor, to whom the login page leads first
        if not isinstance(handler, BaseApiHandler) and handler.current_user:
            refuse_unless_usable(handler)

    unwritten_error = BaseHandler.write_error

    @functools.wraps(unwritten_error)
    def write_error(handler: Any, status_code: int, **kwargs: Any) -> None:
        refused = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(refused, GradebookRefused):
            unwritten_error(handler, status_code, **kwargs)
            return
        if isinstance(handler, BaseApiHandler):
            handler.set_header("Content-Type", "text/plain; charset=UTF-8")
            handler.set_header(REFUSED_HEADER, "1")
            handler.finish(refused.line)
            return
        page = handler.settings["nbgrader_jinja2_env"].from_string(_REFUSED_PAGE)
        handler.finish(page.render(base_url=handler.base_url, line=html.escape(refused.line)))

    unshown = BaseHandler.write

    @functools.wraps(unshown)
    def write(handler: Any, chunk: Any) -> None:
        # pages are written whole, as text; the files a learner submitted are bytes
        if isinstance(chunk, str) and _FORMGRADER_PAGE in chunk and "</body>" in chunk:
            before, body_end, after = chunk.rpartition("</body>")
            chunk = before + _SHOW_REFUSALS + body_end + after
        unshown(handler, chunk)

    for wrapper in (handler_gradebook, api_gradebook, collect, prepare, write_error, write):
        setattr(wrapper, _INSTALLED, True)
    BaseHandler.gradebook = property(handler_gradebook)  # type: ignore[method-assign]
    NbGraderAPI.gradebook = property(api_gradebook)  # type: ignore[method-assign]
    NbGraderAPI.collect = collect  # type: ignore[method-assign]
    BaseHandler.prepare = prepare  # type: ignore[method-assign]
    BaseHandler.write_error = write_error  # type: ignore[method-assign]
    BaseHandler.write = write  # type: ignore[method-assign]
