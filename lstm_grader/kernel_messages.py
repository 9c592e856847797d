"""What the grader reads from a learner's kernel: well-formed Jupyter messages only.

The kernel holds its session's key, so everything it sends is signed, whatever it says: a
learner can hand-craft a message whose header is a list, whose ``transient`` is a string or
whose ``execution_count`` is eight megabytes of text. nbclient reads such fields without
looking, so one forged message would crash the run (reported as the grader's own error, with
the learner's earned points lost) or put a field nbformat rejects into the autograded
notebook. The grader's client reads every shell and IOPub message through
:class:`CheckedChannel`, which drops a message :func:`message_problem` finds fault with and
keeps a note of it in a :class:`RefusedMessages` for the grading report.

Only what the grader and nbclient read is checked, and only for its type, so that every
message a real kernel sends passes; a dropped message is one nbclient could not have used.

How much the kernel's messages can make the grader hold is bounded too, by
:func:`bounded_client_memory`: ZMQ's size limit is per frame, not per message. And how much
they can make it read: past :data:`MAX_READ_BYTES` from one kernel, only the small replies
and status messages that running the notebook needs are still read
(:data:`NEEDED_PAST_BUDGET`); every other message is dropped unread, and counted.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import resource
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from jupyter_client.channels import AsyncZMQSocketChannel

__all__ = ["CheckedChannel", "RefusedMessages", "bounded_client_memory", "message_problem"]

#: How many refused messages a report names; the rest are only counted.
MAX_NOTED = 10
#: The longest note kept of one refused message.
MAX_NOTE_CHARS = 200

#: How much more data memory the grading process may take while the kernel runs.
CLIENT_MEMORY_BYTES = 1 << 30
#: How much more it may take before the kernel's connections are cut, well before that
#: bound; past :data:`CLIENT_MEMORY_KILL_BYTES`, the kernel is killed. ZMQ
#: holds each frame of a message that has not ended in 64 bytes of its own queue, and it
#: aborts the whole process (``FATAL ERROR: OUT OF MEMORY (src/yqueue.hpp)``) when the
#: bound refuses it another block of them. A kernel that wrote 60 million empty frames of
#: one message to its output socket (2 bytes each on the wire, two lines of Python) took
#: the grading process down with it: under ``lstm-grade`` a grader error, under plain
#: ``nbgrader autograde`` the rest of the class ungraded.
CLIENT_MEMORY_WATCH_BYTES = CLIENT_MEMORY_BYTES // 2
#: Cut connections drop the frames they held, but the process may keep the memory for
#: reuse: past this much more, still growing, the kernel floods again, and is killed.
CLIENT_MEMORY_KILL_BYTES = CLIENT_MEMORY_BYTES * 3 // 4
#: Once a kernel's output connection is cut, how much further the grading process's data
#: memory grows before its connections are looked for again: each look reads every
#: descriptor the process holds, and memory that stays put after a cut (kept by the process
#: for reuse) would have it look every :data:`CLIENT_MEMORY_POLL_S`. Memory that grows by
#: this much is a kernel that connected again and floods again: it is cut again, well
#: before :data:`CLIENT_MEMORY_KILL_BYTES`.
CLIENT_MEMORY_RESCAN_BYTES = CLIENT_MEMORY_BYTES // 32
#: How often the grading process's data memory is read while a kernel runs.
CLIENT_MEMORY_POLL_S = 0.005
#: How many bytes of messages the grader reads from one kernel in all. Reading costs the
#: grader's own CPU, not the sandbox's: a kernel that resent one signed 16 MB message every
#: 3 s kept a grader core busy for as long as it ran. The notebook's outputs keep at most
#: 2 MB; a Keras fit that prints every batch sends about 1 kB a batch.
MAX_READ_BYTES = 128 * 2**20
#: The messages still read past :data:`MAX_READ_BYTES`, up to :data:`MAX_NEEDED_BYTES`
#: each: without them no cell would finish, and a check cell's reply carries its answers.
NEEDED_PAST_BUDGET = frozenset({"status", "execute_reply", "kernel_info_reply", "shutdown_reply"})
MAX_NEEDED_BYTES = 4 * 2**20
#: How many bytes of those the grader reads past :data:`MAX_READ_BYTES`, in all: a kernel
#: can pad a status message with 2 million numbers and resend it too. Past this nothing
#: more is read; the notebook's cells then run out of time.
MAX_NEEDED_PAST_BUDGET_BYTES = 32 * 2**20
#: The longest header frame read to find a message's type past the budget.
_MAX_HEADER_BYTES = 4096

#: The media types whose value in a bundle is JSON data rather than text (nbformat's rule).
_JSON_MEDIA_TYPE = re.compile(r"^application/(.*\+)?json$")


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _lines(value: Any) -> bool:
    """Text as nbformat stores it: a string, or a list of strings."""
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(line, str) for line in value)
    )


def _execution_count(value: Any) -> bool:
    """A prompt number as nbformat takes it: none yet, or a whole number from 0."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


#: The deepest a message's content may nest lists and mappings. A display's JSON data is
#: kept in the notebook, which nbformat writes with one indent per level and each item on
#: its own line: a list nested 400 deep in 2 MB of output (within the caps) became a
#: 270 MB notebook, and 650 deep made nbformat itself fail (RecursionError). Plots and
#: widget states nest about ten deep.
MAX_CONTENT_DEPTH = 32


def _content_problem(value: Any) -> str | None:
    """Whether ``value`` nests past :data:`MAX_CONTENT_DEPTH`, or any string in it (a key
    included) holds a lone surrogate, which JSON can spell but no notebook file can hold.

    (``lstm_lib.answers.is_text`` asks the same of an answer; the grader's client does not
    import ``lstm_lib``, which a course folder may hold a broken copy of.)
    """
    # one iterator per open container, so memory grows with the depth, never with the
    # size: a list of 30 million numbers in one message passed the grader's memory bound
    open_containers: list[Iterator[Any]] = [iter((value,))]
    while open_containers:
        for item in open_containers[-1]:
            kind = type(item)
            if kind is str:
                if not item.isascii():
                    try:
                        item.encode("utf-8")
                    except UnicodeEncodeError:
                        return "it holds a lone surrogate, which is not text"
            elif kind is list or kind is dict:
                if len(open_containers) > MAX_CONTENT_DEPTH:
                    return f"it nests more than {MAX_CONTENT_DEPTH} levels deep"
                open_containers.append(
                    itertools.chain(item.keys(), item.values()) if kind is dict else iter(item)
                )
                break
        else:
            open_containers.pop()
    return None


def _bundle_problem(content: dict[str, Any]) -> str | None:
    """What is wrong with a display's ``data``, ``metadata`` and ``transient``, if anything."""
    data = content.get("data")
    if not isinstance(data, dict):
        return "its data is not a mapping"
    for media_type, value in data.items():
        if not (_JSON_MEDIA_TYPE.match(media_type) or _lines(value)):
            return f"its {media_type[:40]!r} is not text"
    if not isinstance(content.get("metadata"), dict):
        return "its metadata is not a mapping"
    transient = content.get("transient")
    if transient is not None:
        if not isinstance(transient, dict):
            return "its transient part is not a mapping"
        display_id = transient.get("display_id")
        if display_id is not None and not isinstance(display_id, str):
            return "its display id is not a string"
    return None


def _result_problem(content: dict[str, Any]) -> str | None:
    if "execution_count" not in content:
        return "it has no execution count"
    return _bundle_problem(content)


def _stream_problem(content: dict[str, Any]) -> str | None:
    if not _text(content.get("name")):
        return "its stream name is not a string"
    if not _text(content.get("text")):
        return "its text is not a string"
    return None


def _error_problem(content: dict[str, Any]) -> str | None:
    if not (_text(content.get("ename")) and _text(content.get("evalue"))):
        return "its error name or value is not a string"
    traceback = content.get("traceback")
    if not (isinstance(traceback, list) and all(_text(line) for line in traceback)):
        return "its traceback is not a list of strings"
    return None


def _status_problem(content: dict[str, Any]) -> str | None:
    return None if _text(content.get("execution_state")) else "its state is not a string"


def _reply_problem(content: dict[str, Any]) -> str | None:
    # an error reply's name, value and traceback are only ever printed, so any will do
    if not _text(content.get("status")):
        return "its status is not a string"
    if not isinstance(content.get("user_expressions", {}), dict):
        return "its user expressions are not a mapping"
    return None


def _kernel_info_problem(content: dict[str, Any]) -> str | None:
    if not isinstance(content.get("language_info", {}), dict):
        return "its language info is not a mapping"
    if not _text(content.get("protocol_version", "")):
        return "its protocol version is not a string"
    return None


#: The content checks of the message types nbclient and the grader read fields of; other
#: types (comms, which the grader ignores, ``execute_input``, ...) need only be mappings.
_CONTENT_PROBLEMS = {
    "display_data": _bundle_problem,
    "update_display_data": _bundle_problem,
    "execute_result": _result_problem,
    "stream": _stream_problem,
    "error": _error_problem,
    "status": _status_problem,
    "execute_reply": _reply_problem,
    "kernel_info_reply": _kernel_info_problem,
}


def message_problem(msg: Any) -> str | None:
    """Why the grader will not read ``msg``, a deserialized message, or None if it may.

    Examples
    --------
    >>> header = {"msg_id": "1", "msg_type": "stream"}
    >>> good = {"header": header, "parent_header": {}, "metadata": {},
    ...         "content": {"name": "stdout", "text": "hi"}}
    >>> message_problem(good) is None
    True
    >>> message_problem({**good, "content": {"name": "stdout", "text": ["h", "i"]}})
    'stream: its text is not a string'
    >>> message_problem({**good, "parent_header": [1]})
    'its parent_header is not a mapping'
    """
    if not isinstance(msg, dict):
        return "it is not a mapping"
    for part in ("header", "parent_header", "metadata", "content"):
        if not isinstance(msg.get(part), dict):
            return f"its {part} is not a mapping"
    header, content = msg["header"], msg["content"]
    msg_type = header.get("msg_type")
    if not (_text(msg_type) and _text(header.get("msg_id"))):
        return "its header has no message type or id"
    if not _text(msg["parent_header"].get("msg_id", "")):
        return "its parent's id is not a string"
    if "execution_count" in content and not _execution_count(content["execution_count"]):
        return f"{msg_type[:40]}: its execution count is not a whole number from 0"
    check = _CONTENT_PROBLEMS.get(msg_type)
    problem = check(content) if check else None
    if problem is None:
        problem = _content_problem(content)
    return f"{msg_type[:40]}: {problem}" if problem else None


@dataclass
class RefusedMessages:
    """The messages a kernel client dropped: how many, and why for the first few; and how
    many bytes it read, and dropped unread past :data:`MAX_READ_BYTES`."""

    count: int = 0
    notes: list[str] = field(default_factory=list)
    read_bytes: int = 0
    unread: int = 0

    def note(self, channel: str, problem: str) -> None:
        """Count one dropped message of ``channel`` and, among the first, say why."""
        self.count += 1
        if len(self.notes) < MAX_NOTED:
            self.notes.append(f"{channel}: {problem}"[:MAX_NOTE_CHARS])


class CheckedChannel(AsyncZMQSocketChannel):
    """An asyncio ZMQ channel whose ``get_msg`` returns well-formed messages only.

    A message that cannot be deserialized (a bad signature, frames that are not JSON, a
    header without an id) or that :func:`message_problem` refuses is dropped and noted in
    :attr:`refused`, and the wait for a good one goes on until ``timeout``.
    """

    #: Which channel this is, for the notes.
    name = "kernel"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Where dropped messages are noted; a client shares one among its channels.
        self.refused = RefusedMessages()

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next well-formed message.

        Raises
        ------
        queue.Empty
            If none arrives within ``timeout`` seconds (None: wait for ever).
        """
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not await self.socket.poll(None if left is None else int(left * 1000)):
                raise Empty
            frames = await self.socket.recv_multipart()
            size = sum(map(len, frames))
            after = self.refused.read_bytes + size
            if after > MAX_READ_BYTES and (
                after > MAX_READ_BYTES + MAX_NEEDED_PAST_BUDGET_BYTES or not _needed(frames, size)
            ):
                self.refused.unread += 1
                continue
            self.refused.read_bytes += size
            try:
                _identities, message_frames = self.session.feed_identities(frames)
                msg = self.session.deserialize(message_frames)
            except Exception as exc:  # whatever the bytes make the parser raise
                problem = f"unreadable ({type(exc).__name__}: {exc})"
            else:
                problem = message_problem(msg)
                if problem is None:
                    return msg
            self.refused.note(self.name, problem)


def _needed(frames: list[bytes], size: int) -> bool:
    """Whether a message is one of :data:`NEEDED_PAST_BUDGET`, read from its header frame
    alone (the first after the delimiter and the signature), within
    :data:`MAX_NEEDED_BYTES`."""
    if size > MAX_NEEDED_BYTES or b"<IDS|MSG>" not in frames:
        return False
    at = frames.index(b"<IDS|MSG>") + 2
    if at >= len(frames) or len(frames[at]) > _MAX_HEADER_BYTES:
        return False
    try:
        header = json.loads(frames[at])
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("msg_type") in NEEDED_PAST_BUDGET


def _data_bytes() -> int | None:
    """This process's data memory now (``VmData``: heap and private writable mappings, what
    ``RLIMIT_DATA`` limits), or None where Linux does not say."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    return None


@contextlib.contextmanager
def bounded_client_memory(
    extra: int = CLIENT_MEMORY_BYTES,
    *,
    on_growth: Callable[[int], None] | None = None,
    watch: int = CLIENT_MEMORY_WATCH_BYTES,
) -> Iterator[bool]:
    """Limit this process's data memory to what it holds now plus ``extra`` bytes, until
    the block ends; yields whether the limit was set.

    ZMQ's size limit is per frame, and a message may have any number of frames (its
    buffers), each the same bytes for the kernel that sends them: one message could make
    the grader hold more memory than the host has, before any of it is read. Under this
    limit ZMQ drops the connection that brings more large frames (as it does for a frame
    over the size limit) and Python raises ``MemoryError``; the host keeps its memory.
    But ZMQ aborts the process when the limit refuses it room to queue small frames, so
    ``on_growth`` is called, from a thread of its own, with the bytes the process holds
    more than at the start whenever they pass ``watch``, to stop the kernel that sends
    them before the limit is reached. Start the kernel first: a process started inside the
    block would inherit the limit.
    """
    now = _data_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if now is None:
        yield False
        return
    wanted = now + extra
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY:
        wanted = min(wanted, soft)
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    done = threading.Event()
    watcher = None
    if on_growth is not None:
        watcher = threading.Thread(
            target=_watch_growth,
            args=(now, watch, on_growth, done),
            name="lstm-grade-memory-watch",
            daemon=True,
        )
        watcher.start()
    try:
        yield True
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _watch_growth(
    start: int, watch: int, on_growth: Callable[[int], None], done: threading.Event
) -> None:
    """Call ``on_growth`` with this process's data memory past ``start`` each time it is
    found more than ``watch`` past, until ``done`` is set."""
    while not done.wait(CLIENT_MEMORY_POLL_S):
        held = _data_bytes()
        if held is not None and held - start > watch:
            on_growth(held - start)
