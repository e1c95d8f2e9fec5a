"""Reading LMTP input: command lines, DATA up to the lone dot, BDAT chunks.

The buffer never rescans bytes it has already looked at, so a client sending one byte at a time
or a 50 MB body costs linear time (see STYLE.md on h11).
"""

from __future__ import annotations

import asyncio
import re
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
        # The idle timeout: one timer per session that checks, when it fires, whether the
        # current wait began a whole timeout ago (re-armed otherwise), instead of a timeout
        # scope per read -- a message arrives in several reads, each of which would schedule
        # and cancel its own timer.
        self._waiting_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def has_line(self) -> bool:
        """A complete line is already buffered: the client pipelined another command."""
        return b"\n" in self.buffer

    async def _fill(self) -> bool:
        if self.before_wait is not None:
            self.before_wait()
        if self.idle_timeout is not None:
            loop = asyncio.get_running_loop()
            self._waiting_since = loop.time()
            if self._timer is None:
                self._timer = loop.call_at(self._waiting_since + self.idle_timeout, self._check_idle, loop)
        try:
            chunk = await self.reader.read(READ_SIZE)
        finally:
            self._waiting_since = None
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _check_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        """The timer: a read waiting for the whole timeout fails with TimeoutError."""
        self._timer = None
        since = self._waiting_since
        if since is None or self.idle_timeout is None:
            return  # not waiting now: the next wait arms the timer again
        if loop.time() - since >= self.idle_timeout:
            self.reader.set_exception(TimeoutError())
        else:
            self._timer = loop.call_at(since + self.idle_timeout, self._check_idle, loop)

    def close(self) -> None:
        """The session is over: drop the idle timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
        scan = _DotScan()
        while True:
            end = scan.terminator(self.buffer)
            if end is not None:
                body_end, after = end
                raw = bytes(self.buffer[:body_end])
                del self.buffer[:after]
                # Most mail has no line starting with a dot: the search for the terminator has
                # seen every such line already, so the unstuffing pass is skipped then.
                return unstuff(raw) if scan.stuffed else raw
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


# A line start holding a dot. A regular expression: the search for its literal prefix is some
# twice as fast as bytes.find for a two-byte needle, and DATA scans every byte of the message.
_LINE_DOT = re.compile(rb"\n\.")


class _DotScan:
    """The search for the line holding only ``.`` over a buffer that grows between calls.

    Never rescans: each call starts where the previous one could not decide (the last bytes
    may begin the terminator). Remembers whether any other line starts with a dot (a stuffed
    one: the message needs unstuffing)."""

    def __init__(self) -> None:
        self.pos = 0
        self.stuffed = False

    def terminator(self, buf: bytearray) -> tuple[int, int] | None:
        """(end of message incl. its last LF, end of terminator) for a line holding only '.'."""
        if self.pos == 0 and buf[:1] == b".":
            hit = _dot_line_end(buf, 0)
            if hit is not None:
                return 0, hit
            if _incomplete(buf, 0):
                return None
            self.stuffed = True
            self.pos = 1
        while True:
            match = _LINE_DOT.search(buf, max(self.pos - 1, 0))
            if match is None:
                # The next search starts at the last byte: an LF there may begin a dot line.
                self.pos = len(buf)
                return None
            dot = match.end() - 1
            hit = _dot_line_end(buf, dot)
            if hit is not None:
                return dot, hit
            if _incomplete(buf, dot):
                self.pos = dot  # decide once more bytes are here
                return None
            self.stuffed = True
            self.pos = dot + 1


def _dot_line_end(buf: bytearray, dot: int) -> int | None:
    if buf[dot + 1: dot + 3] == b"\r\n":
        return dot + 3
    if buf[dot + 1: dot + 2] == b"\n":
        return dot + 2
    return None


def _incomplete(buf: bytearray, dot: int) -> bool:
    """The bytes after the dot may still become CRLF when more input arrives."""
    return len(buf) - dot <= 2 and bytes(buf[dot + 1:]) in (b"", b"\r")


def unstuff(raw: bytes) -> bytes:
    """Remove the first dot of every line that starts with one (RFC 5321 4.5.2)."""
    data = raw.replace(b"\n.", b"\n")
    return data[1:] if data.startswith(b".") else data
