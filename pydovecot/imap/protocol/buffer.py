"""The receive buffer: bytes in, complete IMAP command lines (literals included) out.

A command is one or more line parts joined by literals: `a LOGIN {5}\\r\\nalice {6+}\\r\\nsecret\\r\\n`.
The buffer only frames; it does not tokenise. It never rescans bytes it has already looked at:
`_scan_from` remembers how far the search for the next LF got, and literal bodies are skipped by
counting, so a client feeding one byte at a time costs linear time. `bytes_scanned` counts every
byte examined so tests can prove that without timing anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# Dovecot's imap_max_line_length default; RFC 2683 recommends at least 8000 octets per line.
DEFAULT_MAX_LINE_LENGTH = 64 * 1024
# A literal larger than this is refused with "* BYE Literal size too large" (Dovecot caps at 2^32-1
# for APPEND; other commands' literals are far smaller in practice).
DEFAULT_MAX_LITERAL_SIZE = 0xFFFFFFFF
# RFC 7888: a LITERAL- non-synchronising literal may carry at most 4096 octets.
LITERAL_MINUS_MAX = 4096

# The end of a line part that announces a literal: `{12}`, `{12+}`, `{12-}`, `~{12}`.
_LITERAL_TAIL = re.compile(rb"(~?)\{([^{}]*)\}\r?$")
_LITERAL_SIZE = re.compile(rb"([0-9]{1,20})([+-]?)")
# The longest tail the literal announcement can have, so the check stays constant-time.
_MAX_TAIL = 32


class LiteralMode(Enum):
    SYNCHRONIZING = "{N}"  # the server must answer "+ OK" before the client sends the bytes
    LITERAL_PLUS = "{N+}"
    LITERAL_MINUS = "{N-}"


@dataclass(frozen=True)
class CommandLine:
    """One complete command: its raw bytes with literal headers and bodies, without the final CRLF."""

    raw: bytes


@dataclass(frozen=True)
class ContinuationNeeded:
    """A synchronising literal was announced; send `+ OK` before the client may go on."""

    size: int
    binary: bool


@dataclass(frozen=True)
class LineTooLong:
    """A line part went past the limit; `prefix` is its start (to name the tag and command).

    The rest of the line is discarded up to the next LF, then framing resumes.
    """

    prefix: bytes


@dataclass(frozen=True)
class BadLiteral:
    """A literal announcement that can not be honoured; the command is dropped.

    `too_large` is fatal (Dovecot closes the connection); otherwise the size was not a number or
    a LITERAL- literal was over 4096 octets, and the bytes after the announcement are read as
    the next command.
    """

    prefix: bytes
    too_large: bool


BufferEvent = CommandLine | ContinuationNeeded | LineTooLong | BadLiteral


class _Mode(Enum):
    LINE = 1
    LITERAL = 2
    DISCARD = 3


class ReceiveBuffer:
    """Frames IMAP command lines; feed with `feed()`, drain with `next_event()` until it gives None."""

    def __init__(
        self,
        max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
        max_literal_size: int = DEFAULT_MAX_LITERAL_SIZE,
        literal_plus: bool = True,
    ) -> None:
        self.max_line_length = max_line_length
        self.max_literal_size = max_literal_size
        # With LITERAL+ advertised any size may be non-synchronising; without it only LITERAL- ones.
        self.literal_plus = literal_plus
        self.bytes_scanned = 0
        self._buf = bytearray()
        self._mode = _Mode.LINE
        self._part_start = 0  # where the current line part begins in _buf
        self._scan_from = 0  # bytes before this index in the current part hold no LF
        self._literal_left = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    def take_all(self) -> bytes:
        """Everything received and not handed out, from the start of the current line; the
        buffer starts afresh (a login process passes this to the mail process)."""
        data = bytes(self._buf)
        del self._buf[:]
        self._mode = _Mode.LINE
        self._reset_line()
        return data

    @property
    def pending(self) -> int:
        """Bytes received but not yet handed out."""
        return len(self._buf)

    def next_event(self) -> BufferEvent | None:
        while True:
            if self._mode is _Mode.LITERAL:
                available = len(self._buf) - self._part_start
                if available < self._literal_left:
                    return None
                self._part_start += self._literal_left
                self._scan_from = self._part_start
                self._literal_left = 0
                self._mode = _Mode.LINE
                continue
            lf = self._buf.find(b"\n", self._scan_from)
            end = len(self._buf) if lf < 0 else lf + 1
            self.bytes_scanned += end - self._scan_from
            if self._mode is _Mode.DISCARD:
                if lf < 0:
                    del self._buf[:]
                    self._scan_from = 0
                    return None
                del self._buf[: lf + 1]
                self._reset_line()
                continue
            if lf < 0:
                self._scan_from = len(self._buf)
                if self._scan_from - self._part_start > self.max_line_length:
                    return self._too_long()
                return None
            if lf - self._part_start > self.max_line_length:
                return self._too_long()
            event = self._line_part_complete(lf)
            if event is not None:
                return event

    def _reset_line(self) -> None:
        self._mode = _Mode.LINE
        self._part_start = 0
        self._scan_from = 0

    def _too_long(self) -> LineTooLong:
        prefix = bytes(self._buf[: min(len(self._buf), 256)])
        # Drop what we have and skip input up to the end of this line.
        del self._buf[: self._scan_from]
        self._mode = _Mode.DISCARD
        self._part_start = 0
        self._scan_from = 0
        return LineTooLong(prefix)

    def _line_part_complete(self, lf: int) -> BufferEvent | None:
        """Finish a line part: a whole command, or a literal to skip (None when none to announce)."""
        tail_start = max(self._part_start, lf - _MAX_TAIL)
        match = _LITERAL_TAIL.search(bytes(self._buf[tail_start:lf]))
        if match is None:
            end = lf - 1 if lf > 0 and self._buf[lf - 1] == 0x0D else lf
            raw = bytes(self._buf[:end])
            del self._buf[: lf + 1]
            self._reset_line()
            return CommandLine(raw)
        binary = match.group(1) == b"~"
        size_match = _LITERAL_SIZE.fullmatch(match.group(2))
        prefix_end = tail_start + match.start()
        if size_match is None:
            return self._drop_command(prefix_end, lf, too_large=False)
        size = int(size_match.group(1))
        marker = size_match.group(2)
        if size > self.max_literal_size:
            return self._drop_command(prefix_end, lf, too_large=True)
        if marker == b"-" and size > LITERAL_MINUS_MAX:
            # Dovecot refuses an oversized LITERAL- literal even while it advertises LITERAL+.
            return self._drop_command(prefix_end, lf, too_large=False)
        self._mode = _Mode.LITERAL
        self._literal_left = size
        self._part_start = lf + 1
        self._scan_from = lf + 1
        if marker == b"" or (marker == b"+" and not self.literal_plus):
            return ContinuationNeeded(size, binary)
        return None

    def _drop_command(self, prefix_end: int, lf: int, too_large: bool) -> BadLiteral:
        prefix = bytes(self._buf[:prefix_end])
        del self._buf[: lf + 1]
        self._reset_line()
        return BadLiteral(prefix, too_large)
