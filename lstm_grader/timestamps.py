"""Reading a submission's time from text a learner may have written.

nbgrader takes the time of a submission from ``timestamp.txt`` in its folder
(``CourseDirectory.get_existing_timestamp``, with ``nbgrader.utils.parse_utc``). Whoever
writes that file chooses its text, and nbgrader trusts it in three ways that matter to a
grader running as root or as the instructor:

- a third word is a time zone, which ``dateutil.tz.gettz`` looks up as a path: an absolute
  one, or ``../../proc/kmsg`` below the zone database, is opened and read;
- text that is not a time ends in an ``AttributeError`` of nbgrader's own, which blames the
  grader instead of the file;
- the whole file is read into memory, however large.

:func:`read_timestamp` reads a time the way nbgrader does, after refusing a zone that is
neither an offset nor a name inside the zone database; :func:`timestamp_problem` says what
is wrong with a folder's ``timestamp.txt`` before nbgrader reads it.
"""

from __future__ import annotations

import datetime
import os
import re
import stat
from pathlib import Path

#: The file nbgrader reads a submission's time from.
TIMESTAMP_FILE = "timestamp.txt"

#: The longest ``timestamp.txt`` the grader reads; ``nbgrader submit`` writes 30 bytes.
MAX_TIMESTAMP_BYTES = 200

#: Why :func:`read_timestamp` refuses text that names no file but is still no time.
NOT_A_TIME = "nbgrader cannot read it as a time"

#: A zone name that stays inside the zone database: words of letters, digits, ``_+-``
#: joined by ``/``, so no absolute path, ``..`` or ``:``-prefixed name.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*\Z")


def read_timestamp(text: str) -> datetime.datetime:
    """The time ``text`` gives, as nbgrader reads it: a naive UTC datetime.

    ``text`` is parsed by ``nbgrader.utils.parse_utc``, so a time the grader accepts is
    the time nbgrader records; but a third space-separated word must be an integer offset
    or a zone name inside the zone database (``UTC``, ``Europe/Paris``), never a path.

    Parameters
    ----------
    text : str
        The text of a ``timestamp.txt``, stripped, such as
        ``"2026-01-05 14:03:27.000000 UTC"``.

    Returns
    -------
    datetime.datetime
        The time in UTC, without a ``tzinfo``.

    Raises
    ------
    ValueError
        If ``text`` is longer than :data:`MAX_TIMESTAMP_BYTES`, names a zone that could
        be a path, or is not a time.

    Examples
    --------
    >>> read_timestamp("2026-01-05 14:03:27.000000 UTC")
    datetime.datetime(2026, 1, 5, 14, 3, 27)
    >>> read_timestamp("2026-01-05 14:03:27 ../../../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: its time zone '../../../../etc/passwd' is neither an offset nor a zone name
    """
    from nbgrader.utils import parse_utc

    if len(text.encode("utf-8", "surrogatepass")) > MAX_TIMESTAMP_BYTES:
        raise ValueError(f"it is longer than a time ({MAX_TIMESTAMP_BYTES} bytes at most)")
    words = text.split(" ")
    if len(words) == 3 and not _is_integer(words[2]) and not _ZONE_NAME.match(words[2]):
        raise ValueError(f"its time zone {words[2]!r} is neither an offset nor a zone name")
    try:
        moment = parse_utc(text)
    except Exception as error:  # the parser's every failure (decimal's too) says the same
        raise ValueError(NOT_A_TIME) from error
    if not isinstance(moment, datetime.datetime):
        raise ValueError(NOT_A_TIME)
    return moment


def _is_integer(word: str) -> bool:
    try:
        int(word)
    except ValueError:
        return False
    return True


def timestamp_problem(folder: str | Path) -> str | None:
    """What keeps nbgrader from reading the time in ``folder``'s ``timestamp.txt``, or None.

    None also when there is no such file, or it is empty: nbgrader then records the
    submission without a time, as it always has.

    Parameters
    ----------
    folder : str or Path
        A submission's folder, ``submitted/<student>/<assignment>``.

    Returns
    -------
    str or None
        ``"timestamp.txt: <why>"``, in words an instructor can act on, or None.
    """
    from lstm_grader import safefiles

    path = os.path.join(folder, TIMESTAMP_FILE)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{TIMESTAMP_FILE}: cannot be examined ({error.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return f"{TIMESTAMP_FILE}: a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return f"{TIMESTAMP_FILE}: not a regular file"
    if info.st_size > MAX_TIMESTAMP_BYTES:
        return (
            f"{TIMESTAMP_FILE}: {info.st_size} bytes, longer than a time "
            f"({MAX_TIMESTAMP_BYTES} bytes at most)"
        )
    try:
        text = safefiles.read_text(path, limit=MAX_TIMESTAMP_BYTES).strip()
    except UnicodeDecodeError:
        return f"{TIMESTAMP_FILE}: not UTF-8 text"
    except OSError as error:
        return f"{TIMESTAMP_FILE}: cannot be read ({error.strerror or error})"
    if not text:
        return None
    try:
        read_timestamp(text)
    except ValueError as error:
        return f"{TIMESTAMP_FILE}: holds {text!r}; {error}"
    return None
