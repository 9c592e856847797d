"""The grader reads only well-formed messages from a learner's kernel."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Iterator
from queue import Empty
from typing import Any

import pytest
import zmq
import zmq.asyncio
from hypothesis import given
from hypothesis import strategies as st
from jupyter_client.session import Session

from lstm_grader import kernel_messages
from lstm_grader.kernel_messages import CheckedChannel, message_problem
from lstm_grader.sandbox import SandboxKernelClient

KEY = b"a-key-the-kernel-also-holds"

text = st.text(max_size=20)
lines = text | st.lists(text, max_size=3)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
bundle = st.dictionaries(st.sampled_from(["text/plain", "text/html", "image/png"]), lines) | (
    st.dictionaries(st.sampled_from(["application/json", "application/vnd.x+json"]), json_value)
)
transient = st.none() | st.fixed_dictionaries({}, optional={"display_id": text})
display = st.fixed_dictionaries(
    {"data": bundle, "metadata": st.dictionaries(text, json_value, max_size=2)},
    optional={"transient": transient},
)
count = st.none() | st.integers(min_value=0)
#: Contents of the message types the check looks into, as a kernel writes them.
CONTENTS = {
    "stream": st.fixed_dictionaries({"name": st.sampled_from(["stdout", "stderr"]), "text": text}),
    "display_data": display,
    "update_display_data": display,
    "execute_result": display.flatmap(
        lambda content: count.map(lambda n: {**content, "execution_count": n})
    ),
    "error": st.fixed_dictionaries(
        {"ename": text, "evalue": text, "traceback": st.lists(text, max_size=3)}
    ),
    "status": st.fixed_dictionaries(
        {"execution_state": st.sampled_from(["busy", "idle", "starting"])}
    ),
    "execute_input": st.fixed_dictionaries({"code": text, "execution_count": count}),
    "execute_reply": st.fixed_dictionaries(
        {
            "status": st.just("ok"),
            "execution_count": count,
            "user_expressions": st.dictionaries(text, st.dictionaries(text, json_value)),
        }
    )
    | st.fixed_dictionaries(
        {"status": st.sampled_from(["error", "aborted"])},
        optional={"ename": json_value, "evalue": json_value, "traceback": json_value},
    ),
    "clear_output": st.fixed_dictionaries({"wait": st.booleans()}),
    "comm_msg": st.fixed_dictionaries({"comm_id": text, "data": json_value}),
}
messages = st.sampled_from(sorted(CONTENTS)).flatmap(
    lambda msg_type: CONTENTS[msg_type].map(lambda content: (msg_type, content))
)


def _received(msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The message as the grader's client has it: serialized by a kernel's session and
    deserialized by the client's (dates parsed, buffers listed)."""
    parent = Session(key=KEY).msg("execute_request", {"code": ""})
    frames = Session(key=KEY).serialize(Session(key=KEY).msg(msg_type, content, parent=parent))
    return Session(key=KEY).deserialize(Session(key=KEY).feed_identities(frames)[1])


@given(messages)
def test_what_a_kernel_sends_passes(message: tuple[str, dict]) -> None:
    """Does every well-formed message of the types the grader reads get through?"""
    assert message_problem(_received(*message)) is None


#: Fields nbclient or the grader read, each with a value of the wrong type.
WRONG_FIELDS = [
    ("stream", ("text",), ["a", "b"]),
    ("stream", ("name",), {"a": 1}),
    ("display_data", ("data",), "plain"),
    ("display_data", ("data", "text/plain"), 5),
    ("display_data", ("metadata",), []),
    ("display_data", ("transient",), "id"),
    ("display_data", ("transient", "display_id"), {"not": "hashable"}),
    ("update_display_data", ("transient", "display_id"), ["d"]),
    ("execute_result", ("execution_count",), "x" * 100),
    ("execute_result", ("execution_count",), True),
    ("execute_result", ("execution_count",), -1),
    ("status", ("execution_count",), -3),
    ("error", ("traceback",), "not a list"),
    ("error", ("ename",), None),
    ("status", ("execution_state",), 1),
    ("execute_input", ("execution_count",), 1.5),
    ("execute_reply", ("status",), None),
    ("execute_reply", ("user_expressions",), []),
    ("kernel_info_reply", ("language_info",), "python"),
    ("stream", ("text",), "a lone surrogate: \ud800"),
    ("display_data", ("data",), {"application/json": {"\udc00": 1}}),
    ("execute_reply", ("user_expressions",), {"q1": {"data": {"text/plain": "\udfff"}}}),
]
GOOD = {
    "stream": {"name": "stdout", "text": "x"},
    "display_data": {"data": {"text/plain": "x"}, "metadata": {}, "transient": {"display_id": "d"}},
    "update_display_data": {"data": {}, "metadata": {}, "transient": {"display_id": "d"}},
    "execute_result": {"data": {}, "metadata": {}, "execution_count": 1},
    "error": {"ename": "E", "evalue": "v", "traceback": []},
    "status": {"execution_state": "idle"},
    "execute_input": {"code": "", "execution_count": 1},
    "execute_reply": {"status": "ok", "execution_count": 1, "user_expressions": {}},
    "kernel_info_reply": {"language_info": {"name": "python"}, "protocol_version": "5.3"},
}


@pytest.mark.parametrize(("msg_type", "path", "value"), WRONG_FIELDS)
def test_a_field_of_the_wrong_type_is_refused(msg_type: str, path: tuple, value: Any) -> None:
    """Is a message refused when a field the grader reads has the wrong type, though the
    same message with the right one passes?"""
    good = _received(msg_type, GOOD[msg_type])
    assert message_problem(good) is None
    bad = copy.deepcopy(good)
    where = bad["content"]
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    assert message_problem(bad)


@pytest.mark.parametrize("part", ["header", "parent_header", "metadata", "content"])
def test_a_part_that_is_not_a_mapping_is_refused(part: str) -> None:
    msg = _received("stream", GOOD["stream"])
    msg[part] = [1, 2]
    assert message_problem(msg) == f"its {part} is not a mapping"


def _frames(session: Session, *parts: bytes) -> list[bytes]:
    return [b"<IDS|MSG>", session.sign(list(parts)), *parts]


@contextlib.contextmanager
def _kernel_and_channel(
    address: str,
) -> Iterator[tuple[zmq.asyncio.Socket, Session, CheckedChannel]]:
    """A socket the test writes to as the kernel, the kernel's session (same key), and the
    grader's checked channel reading from it."""
    context = zmq.asyncio.Context()
    reader, writer = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    reader.bind(address)
    writer.connect(address)
    try:
        yield writer, Session(key=KEY), CheckedChannel(reader, Session(key=KEY))
    finally:
        reader.close(linger=0)
        writer.close(linger=0)
        context.term()


def test_the_channel_drops_bad_messages_and_notes_why() -> None:
    """Does ``get_msg`` skip unreadable and malformed messages (signed with the key, so
    only their content is wrong), return the good one after them, note each, and give up
    at its timeout when only bad ones come?"""

    async def scenario() -> tuple[dict, list[str], int, bool]:
        with _kernel_and_channel("inproc://kernel-messages") as (writer, kernel, channel):
            channel.name = "iopub"
            await writer.send_multipart(_frames(kernel, b"not json", b"{}", b"{}", b"{}"))
            await writer.send_multipart([b"<IDS|MSG>", b"bad signature", b"{}", b"{}", b"{}"])
            kernel.send(writer, "stream", {"name": "stdout"})
            kernel.send(writer, "stream", {"name": "stdout", "text": "good"})
            good = await channel.get_msg(timeout=5)
            kernel.send(writer, "status", {"execution_state": "idle", "execution_count": "x"})
            try:
                await channel.get_msg(timeout=0.2)
            except Empty:
                gave_up = True
            else:
                gave_up = False
            return good, channel.refused.notes, channel.refused.count, gave_up

    good, notes, count, gave_up = asyncio.run(scenario())
    assert good["content"]["text"] == "good"
    assert count == 4 and gave_up
    assert notes[0].startswith("iopub: unreadable")
    assert "Signature" in notes[1]
    assert notes[2:] == [
        "iopub: stream: its text is not a string",
        "iopub: status: its execution count is not a whole number from 0",
    ]


def test_past_the_read_budget_only_small_replies_and_status_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kernel that resent one signed 16 MB message every 3 s kept a grader core busy for
    as long as it ran. Past the bytes the grader reads from one kernel, is every other
    message dropped unread and counted, while the status and reply messages that let each
    cell finish are still read, unless they are large themselves?"""
    monkeypatch.setattr(kernel_messages, "MAX_READ_BYTES", 4000)
    monkeypatch.setattr(kernel_messages, "MAX_NEEDED_BYTES", 2000)

    async def scenario() -> tuple[list[str], int, int]:
        read = []
        with _kernel_and_channel("inproc://read-budget") as (writer, kernel, channel):
            for _ in range(20):  # about 400 bytes each: the budget runs out on the way
                kernel.send(writer, "stream", {"name": "stdout", "text": "x" * 100})
            kernel.send(writer, "status", {"execution_state": "idle", "padding": "x" * 3000})
            kernel.send(writer, "execute_reply", {"status": "ok", "user_expressions": {}})
            kernel.send(writer, "status", {"execution_state": "idle"})
            while True:
                try:
                    msg = await channel.get_msg(timeout=0.5)
                except Empty:
                    break
                read.append(msg["header"]["msg_type"])
            return read, channel.refused.unread, channel.refused.count

    read, unread, refused = asyncio.run(scenario())
    streams = read.count("stream")
    assert 0 < streams < 20 and read[streams:] == ["execute_reply", "status"]
    assert unread == 20 - streams + 1 and refused == 0


def test_past_the_read_budget_needed_messages_have_an_end_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kernel past the budget pads status messages (2 million numbers fit under the size
    a needed message may have) and resends them. Does the grader stop reading those too,
    once their own allowance is spent?"""
    monkeypatch.setattr(kernel_messages, "MAX_READ_BYTES", 1000)
    monkeypatch.setattr(kernel_messages, "MAX_NEEDED_PAST_BUDGET_BYTES", 3000)

    async def scenario() -> tuple[int, int]:
        read = 0
        with _kernel_and_channel("inproc://needed-allowance") as (writer, kernel, channel):
            for _ in range(20):  # about 500 bytes each
                kernel.send(writer, "status", {"execution_state": "idle", "pad": [0] * 100})
            while True:
                try:
                    await channel.get_msg(timeout=0.5)
                except Empty:
                    break
                read += 1
            return read, channel.refused.unread

    read, unread = asyncio.run(scenario())
    assert 2 <= read < 10 and unread == 20 - read


def test_checking_a_message_holds_memory_by_its_depth_not_its_size() -> None:
    """A single message of 30 million numbers (60 MB, under ZMQ's frame limit) made the
    check's list of pending items pass the grader's memory bound, and the notebook was
    the grader's error. Does the check of a million numbers now hold almost nothing?"""
    import tracemalloc

    content = {"data": [0] * 1_000_000}
    tracemalloc.start()
    try:
        assert kernel_messages._content_problem(content) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_the_notes_stop_at_a_few_and_the_count_goes_on() -> None:
    refused = kernel_messages.RefusedMessages()
    for i in range(kernel_messages.MAX_NOTED + 5):
        refused.note("iopub", f"problem {i} " + "x" * 500)
    assert refused.count == kernel_messages.MAX_NOTED + 5
    assert len(refused.notes) == kernel_messages.MAX_NOTED
    assert all(len(note) <= kernel_messages.MAX_NOTE_CHARS for note in refused.notes)


def test_a_client_notes_every_channel_in_one_place() -> None:
    """Do the shell and IOPub channels, and an IOPub channel made again after a lost
    one, all note into the client's one record?"""
    client = SandboxKernelClient(ip="127.0.0.1", shell_port=1, iopub_port=2)
    try:
        shell, iopub = client.shell_channel, client.iopub_channel
        assert isinstance(shell, CheckedChannel) and isinstance(iopub, CheckedChannel)
        assert shell.refused is iopub.refused is client.refused_messages
        assert (shell.name, iopub.name) == ("shell", "iopub")
        iopub.close()
        client._iopub_channel = None
        assert client.iopub_channel is not iopub
        assert client.iopub_channel.refused is client.refused_messages
    finally:
        client.stop_channels()


def test_the_client_memory_bound_holds_and_is_lifted() -> None:
    """Inside the block, does taking more than the bound fail with MemoryError (and taking
    less succeed); after it, is the process's own limit back?"""
    import resource

    before = resource.getrlimit(resource.RLIMIT_DATA)
    extra = 256 * 2**20
    with kernel_messages.bounded_client_memory(extra) as bounded:
        assert bounded
        small = bytearray(extra // 4)
        with pytest.raises(MemoryError):
            bytearray(2 * extra)
        del small
    assert resource.getrlimit(resource.RLIMIT_DATA) == before
    bytearray(2 * extra)  # allowed again


@pytest.mark.parametrize("depth", [kernel_messages.MAX_CONTENT_DEPTH - 3, 400, 650])
def test_json_nested_past_the_limit_is_refused(depth: int) -> None:
    """nbformat writes a notebook one indent per level, each item on its own line: a list
    nested 400 deep in 2 MB of output made a 270 MB notebook, and 650 deep made nbformat
    fail (RecursionError, the whole notebook a grader error). Is a display's data, or its
    metadata, nested past the limit refused, while one within it passes?"""
    nested: Any = [0] * 10
    for _ in range(depth):
        nested = [nested]
    for content in (
        {"data": {"application/json": nested, "text/plain": "x"}, "metadata": {}},
        {"data": {"text/plain": "x"}, "metadata": {"deep": nested}},
    ):
        problem = message_problem(_received("display_data", content))
        if depth < kernel_messages.MAX_CONTENT_DEPTH:
            assert problem is None
        else:
            assert problem == "display_data: it nests more than 32 levels deep"
