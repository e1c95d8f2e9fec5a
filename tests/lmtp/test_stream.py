"""DATA/BDAT/command input: dot-unstuffing edge cases, split reads, one byte at a time, limits."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydovecot.lmtp.stream import InputStream, LineTooLong, unstuff


def _stream(chunks: list[bytes]) -> InputStream:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return InputStream(reader)


async def _data(chunks: list[bytes]) -> tuple[bytes | None, bytes]:
    stream = _stream(chunks)
    body = await stream.read_dot_data()
    rest = await stream.read_exactly(len(stream.buffer)) or b""
    return body, rest


@pytest.mark.parametrize(("raw", "body", "rest"), [
    (b".\r\n", b"", b""),
    (b"a\r\n.\r\nNOOP\r\n", b"a\r\n", b"NOOP\r\n"),
    (b"..\r\n...\r\n.x\r\n.\r\n", b".\r\n..\r\nx\r\n", b""),
    (b"..a\r\n.\r\n", b".a\r\n", b""),
    (b"a\n.\n", b"a\n", b""),  # bare LFs end the data too
    (b"a\r\n.b\r\n. \r\n.\r\n", b"a\r\nb\r\n \r\n", b""),
    (b"x\0y\rz\r\n.\r\n", b"x\0y\rz\r\n", b""),
])
def test_dot_data(raw: bytes, body: bytes, rest: bytes) -> None:
    assert asyncio.run(_data([raw])) == (body, rest)


def test_dot_data_one_byte_at_a_time() -> None:
    raw = b"a\r\n..b\r\n\r\n.\r\nQUIT\r\n"
    assert asyncio.run(_data([raw[i:i + 1] for i in range(len(raw))])) == (b"a\r\n.b\r\n\r\n", b"QUIT\r\n")


def test_dot_data_eof_is_none() -> None:
    assert asyncio.run(_data([b"a\r\n.\r"]))[0] is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20), st.data())
def test_dot_data_roundtrip(lines: list[bytes], data: st.DataObject) -> None:
    """Whatever the lines, stuffing then reading gives them back, however the input is split."""
    text = b"".join(line + b"\r\n" for line in lines)
    stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stuffed)), max_size=5)))
    chunks = [stuffed[a:b] for a, b in zip([0, *cuts], [*cuts, len(stuffed)], strict=True)]
    assert asyncio.run(_data(chunks)) == (text, b"")


def _reference(raw: bytes) -> tuple[bytes, bytes] | None:
    """(body, rest) by the definition: the first line holding only a dot ends the data, every
    other line starting with a dot loses that dot; None while no such line came."""
    starts = [0] + [i + 1 for i, byte in enumerate(raw) if byte == 0x0A]
    for start in starts:
        for end in (b".\r\n", b".\n"):
            if raw.startswith(end, start):
                lines = raw[:start].split(b"\n")
                return b"\n".join(line[1:] if line.startswith(b".") else line for line in lines), raw[start + len(end):]
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b".", b"\r", b"\n", b"a", b"\r\n", b"\n.", b".\r\n"]), max_size=30), st.data())
def test_dot_data_any_bytes_any_split(parts: list[bytes], data: st.DataObject) -> None:
    """Dots, CRs and LFs in any order, cut anywhere: the same as the definition (the scan
    remembers what it saw across reads, and skips unstuffing only when no line needs it)."""
    raw = b"".join(parts) + b"\r\n.\r\nRSET\r\n"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert asyncio.run(_data(chunks)) == _reference(raw)


def test_unstuff() -> None:
    assert unstuff(b"..a\n..\n.b\nc.\n") == b".a\n.\nb\nc.\n"


def test_command_line_limit_keeps_head_and_resyncs() -> None:
    async def run() -> tuple[bytes, bytes | None]:
        stream = _stream([b"NOOP " + b"x" * 100_000 + b"\r\nQUIT\r\n"])
        with pytest.raises(LineTooLong) as exc:
            await stream.readline(4096)
        return exc.value.head, await stream.readline(4096)

    head, after = asyncio.run(run())
    assert head.startswith(b"NOOP xxx") and after == b"QUIT\r"


def test_big_body_is_linear() -> None:
    """50 MB in 64 KB pieces with no terminator until the end: read once, no rescans."""
    piece = (b"y" * 1000 + b"\r\n") * 64
    chunks = [piece] * 800 + [b".\r\n"]
    body, rest = asyncio.run(_data(chunks))
    assert body is not None and len(body) == len(piece) * 800 and rest == b""


def test_idle_timeout_ends_a_silent_wait() -> None:
    async def run() -> float:
        stream = InputStream(asyncio.StreamReader(), idle_timeout=0.2)
        start = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await stream.readline(4096)
        return asyncio.get_running_loop().time() - start

    assert 0.15 <= asyncio.run(run()) < 2


def test_idle_timeout_counts_only_waiting() -> None:
    """Reads that each come within the timeout, and time spent between reads (a delivery),
    never add up to a timeout."""
    async def run() -> list[bytes | None]:
        reader = asyncio.StreamReader()
        stream = InputStream(reader, idle_timeout=0.2)
        loop = asyncio.get_running_loop()
        lines = []
        for n in range(6):
            loop.call_later(0.12, reader.feed_data, b"NOOP %d\r\n" % n)
            lines.append(await stream.readline(4096))
            if n == 3:
                await asyncio.sleep(0.25)  # busy, not waiting for the client
        stream.close()
        return lines

    assert asyncio.run(run()) == [b"NOOP %d\r" % n for n in range(6)]
