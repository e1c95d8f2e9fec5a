"""A receive buffer that splits lines in linear time, with Dovecot's istream size limit.

Dovecot reads into a buffer of `max_size` bytes: a line fits when its content plus the LF fits,
so the longest acceptable line has `max_size - 1` bytes; a longer one (complete or not) is a
protocol violation. A CR before the LF is dropped, as i_stream_next_line does.
"""

from __future__ import annotations


class LineTooLong(Exception):
    pass


class LineBuffer:
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already known to hold no LF

    def __len__(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_line(self) -> bytes | None:
        """The next complete line (without CRLF/LF), None if none is complete yet.

        Raises LineTooLong when the line being assembled cannot fit Dovecot's buffer."""
        end = self._buffer.find(b"\n", self._scanned)
        if end < 0:
            self._scanned = len(self._buffer)
            if self._scanned >= self.max_size:
                raise LineTooLong(self._scanned)
            return None
        if end >= self.max_size:
            raise LineTooLong(end)
        line = bytes(self._buffer[:end])
        # Deleting the consumed prefix of a bytearray is amortised O(1) in CPython.
        del self._buffer[:end + 1]
        self._scanned = 0
        if line.endswith(b"\r"):
            line = line[:-1]
        return line
