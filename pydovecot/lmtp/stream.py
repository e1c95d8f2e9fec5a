"""Reading LMTP input: command lines, DATA up to the lone dot, BDAT chunks.

The buffer never rescans bytes it has already looked at, so a client sending one byte at a time
or a 50 MB body costs linear time (see STYLE.md on h11).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

READ_SIZE = 256 * 1024


class LineTooLong(Exception):
    """A command line exceeded the limit; the rest of it was read and dropped."""

    def __init__(self, head: bytes) -> None:
        super().__init__("line too long")
        self.head = head
        """The line's first bytes (enough to tell a too-long command name from long parameters)."""


class InputStream:
    def __init__(self, reader: asyncio.StreamReader, *, idle_timeout: float | None = None,
                 before_wait: Callable[[], None] | None = None) -> None:
        self.reader = reader
        self.buffer = bytearray()
        self.idle_timeout = idle_timeout
        self.before_wait = before_wait
        """Called before every read from the peer (the session sends its held-back replies)."""

    def has_line(self) -> bool:
        """A complete line is already buffered: the client pipelined another command."""
        return b"\n" in self.buffer

    async def _fill(self) -> bool:
        if self.before_wait is not None:
            self.before_wait()
        # asyncio.timeout, not wait_for: no extra task per read.
        async with asyncio.timeout(self.idle_timeout):
            chunk = await self.reader.read(READ_SIZE)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    async def readline(self, limit: int) -> bytes | None:
        """One line without its LF (a CR before it stays, for the caller); None at EOF."""
        scanned = 0
        head: bytes | None = None
        while True:
            pos = self.buffer.find(b"\n", scanned)
            if pos >= 0:
                line = bytes(self.buffer[:pos])
                del self.buffer[: pos + 1]
                if head is not None or len(line) > limit:
                    raise LineTooLong(line[:64] if head is None else head)
                return line
            if len(self.buffer) > limit:
                # Keep the head, drop the rest and read on to the end of this line.
                if head is None:
                    head = bytes(self.buffer[:64])
                self.buffer.clear()
            scanned = len(self.buffer)
            if not await self._fill():
                return None

    async def read_dot_data(self) -> bytes | None:
        """DATA: everything up to ``CRLF . CRLF`` (also accepting bare LFs), dot-unstuffed; None at EOF."""
        scanned = 0
        while True:
            end = _find_terminator(self.buffer, scanned)
            if end is not None:
                body_end, after = end
                raw = bytes(self.buffer[:body_end])
                del self.buffer[:after]
                return unstuff(raw)
            # Keep the last two bytes unscanned: a terminator may straddle the chunk boundary.
            scanned = max(0, len(self.buffer) - 2)
            if not await self._fill():
                return None

    async def read_exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not await self._fill():
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def discard_pending(self) -> None:
        self.buffer.clear()


def _find_terminator(buf: bytearray, start: int) -> tuple[int, int] | None:
    """(end of message incl. its last LF, end of terminator) for a line holding only '.'."""
    if start == 0 and buf[:1] == b".":
        hit = _dot_line_end(buf, 0)
        if hit is not None:
            return 0, hit
        if len(buf) < 3:
            return None
    pos = max(start - 1, 0)
    while True:
        pos = buf.find(b"\n.", pos)
        if pos < 0:
            return None
        hit = _dot_line_end(buf, pos + 1)
        if hit is not None:
            return pos + 1, hit
        if hit is None and len(buf) - pos < 4 and _incomplete(buf, pos + 1):
            return None
        pos += 1


def _dot_line_end(buf: bytearray, dot: int) -> int | None:
    if buf[dot + 1: dot + 3] == b"\r\n":
        return dot + 3
    if buf[dot + 1: dot + 2] == b"\n":
        return dot + 2
    return None


def _incomplete(buf: bytearray, dot: int) -> bool:
    """The bytes after the dot may still become CRLF when more input arrives."""
    rest = bytes(buf[dot + 1:])
    return rest in (b"", b"\r")


def unstuff(raw: bytes) -> bytes:
    """Remove the first dot of every line that starts with one (RFC 5321 4.5.2)."""
    data = raw.replace(b"\n.", b"\n")
    return data[1:] if data.startswith(b".") else data
