"""The receive buffer: framing of lines and literals, limits, and linear cost byte by byte."""

from __future__ import annotations

from pydovecot.imap.protocol.buffer import (
    BadLiteral,
    BufferEvent,
    CommandLine,
    ContinuationNeeded,
    LineTooLong,
    ReceiveBuffer,
)


def _drain(buffer: ReceiveBuffer) -> list[BufferEvent]:
    events = []
    while (event := buffer.next_event()) is not None:
        events.append(event)
    return events


def _feed_bytewise(buffer: ReceiveBuffer, data: bytes) -> list[BufferEvent]:
    events = []
    for i in range(len(data)):
        buffer.feed(data[i : i + 1])
        events.extend(_drain(buffer))
    return events


def test_lines_are_split_on_crlf_and_bare_lf() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"a NOOP\r\nb CHECK\nc LOG")
    assert _drain(buffer) == [CommandLine(b"a NOOP"), CommandLine(b"b CHECK")]
    buffer.feed(b"OUT\r\n")
    assert _drain(buffer) == [CommandLine(b"c LOGOUT")]
    assert buffer.pending == 0


def test_synchronising_literal_asks_for_continuation_and_keeps_crlf_in_body() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"a APPEND INBOX {7}\r\n")
    assert _drain(buffer) == [ContinuationNeeded(7, binary=False)]
    buffer.feed(b"x\r\ny\r\nz")  # the literal's own CRLFs are not line ends
    assert _drain(buffer) == []
    buffer.feed(b"\r\n")
    assert _drain(buffer) == [CommandLine(b"a APPEND INBOX {7}\r\nx\r\ny\r\nz")]


def test_literal_plus_minus_and_binary() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"a LOGIN {5+}\r\nalice {3-}\r\nabc\r\nb APPEND X ~{2}\r\n\x00\x01\r\n")
    assert _drain(buffer) == [
        CommandLine(b"a LOGIN {5+}\r\nalice {3-}\r\nabc"),
        ContinuationNeeded(2, binary=True),
        CommandLine(b"b APPEND X ~{2}\r\n\x00\x01"),
    ]


def test_literal_minus_over_4096_is_refused_and_framing_resumes() -> None:
    buffer = ReceiveBuffer()
    buffer.feed(b"a APPEND INBOX {4097-}\r\nb NOOP\r\n")
    assert _drain(buffer) == [BadLiteral(b"a APPEND INBOX ", too_large=False), CommandLine(b"b NOOP")]
    buffer.feed(b"c APPEND INBOX {4096-}\r\n")
    assert _drain(buffer) == []  # exactly 4096 is allowed and waits for its bytes


def test_bad_and_too_large_literal_sizes() -> None:
    buffer = ReceiveBuffer(max_literal_size=1000)
    buffer.feed(b"a LOGIN {12x}\r\nb LOGIN {1001}\r\n")
    assert _drain(buffer) == [
        BadLiteral(b"a LOGIN ", too_large=False),
        BadLiteral(b"b LOGIN ", too_large=True),
    ]


def test_too_long_line_is_reported_once_and_skipped() -> None:
    buffer = ReceiveBuffer(max_line_length=100)
    buffer.feed(b"a SELECT " + b"x" * 300)
    events = _drain(buffer)
    assert len(events) == 1 and isinstance(events[0], LineTooLong)
    assert events[0].prefix.startswith(b"a SELECT xx")
    buffer.feed(b"x" * 500 + b"\r\nb NOOP\r\n")
    assert _drain(buffer) == [CommandLine(b"b NOOP")]


def test_limit_applies_to_each_line_part_not_to_literals() -> None:
    buffer = ReceiveBuffer(max_line_length=50)
    body = b"y" * 10_000
    buffer.feed(b"a APPEND INBOX {%d+}\r\n" % len(body) + body + b" more\r\n")
    assert _drain(buffer) == [CommandLine(b"a APPEND INBOX {10000+}\r\n" + body + b" more")]


def test_one_megabyte_command_fed_byte_by_byte_is_scanned_linearly() -> None:
    # A 1 MB command: many short line parts joined by literals, plus a long literal body.
    parts = [b"a APPEND INBOX"]
    for _ in range(2000):
        parts.append(b" {400+}\r\n" + b"z" * 400)
    parts.append(b" {200000+}\r\n" + b"q" * 200_000)
    line_part = b"x" * 60_000  # long line parts count too: each must be scanned once only
    command = b"".join(parts) + b" " + line_part + b"\r\n"
    assert len(command) > 1_000_000
    buffer = ReceiveBuffer()
    events = _feed_bytewise(buffer, command)
    assert events == [CommandLine(command[:-2])]
    # Every byte is looked at at most once by the LF search (literal bodies not at all).
    assert buffer.bytes_scanned <= len(command)
    assert buffer.bytes_scanned >= 60_000  # the long line part was really scanned


def test_byte_by_byte_equals_all_at_once() -> None:
    data = b"a LOGIN {5}\r\nalice secret\r\nb NOOP\r\nc X {3-}\r\nabc\r\nd {1x}\r\n"
    assert _feed_bytewise(ReceiveBuffer(), data) == _drain(_fed(data))


def _fed(data: bytes) -> ReceiveBuffer:
    buffer = ReceiveBuffer()
    buffer.feed(data)
    return buffer
