"""Row output of the -f formatters (Dovecot's doveadm-print-{flow,tab,table,pager,json}.c).

A command declares its columns (``header``) and then prints values one at a time, left to
right, row after row; a value may also be streamed in chunks (``stream``, an empty chunk ends
it), as fetch does for message text. Each formatter reacts to those calls exactly as its C
counterpart does, quirks included (tab writes an extra tab after a streamed value; the table
formatter buffers up to 100 rows to size its columns before it writes its titles).
"""

from __future__ import annotations

import fcntl
import struct
import sys
import termios
from dataclasses import dataclass, field

_TABLE_DEFAULT_COLUMNS = 80
_TABLE_MIN_COLUMNS = 30
_TABLE_BUFFER_LINES = 100


@dataclass
class Header:
    key: str
    title: str
    hide_title: bool = False
    length: int = 0
    min_length: int = 0
    max_length: int = 0
    right: bool = False
    """DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY (the table formatter aligns it right)."""
    expand: bool = False
    """DOVEADM_PRINT_HEADER_FLAG_EXPAND (the table formatter gives it the spare width)."""

    def pad(self, text: str) -> str:
        return f"{text:>{self.length}}" if self.right else f"{text:<{self.length}}"


class TableMultiLineError(Exception):
    """The table formatter cannot show a value with a line break (real doveadm dies)."""


@dataclass
class RowPrinter:
    formatter: str
    hide_titles: bool = False
    headers: list[Header] = field(default_factory=list)
    out: bytearray = field(default_factory=bytearray)
    err: bytearray = field(default_factory=bytearray)
    _idx: int = 0
    _streaming: bool = False
    _first_page: bool = True
    _first_row: bool = True
    _tab_header_written: bool = False
    _table_buffer: list[str] = field(default_factory=list)
    _table_stream: bytearray = field(default_factory=bytearray)
    _table_sized: bool = False

    def header(self, key: str, title: str | None = None, *, hide_title: bool = False, right: bool = False,
               expand: bool = False) -> None:
        title = key if title is None else title
        self.headers.append(Header(key, title, hide_title, len(title), len(title), len(title), right, expand))
        if self.formatter == "tab" and not self.hide_titles:
            if len(self.headers) > 1:
                self.out += b"\t"
            self.out += title.encode()

    # --- values ------------------------------------------------------------------------------

    def value(self, text: str) -> None:
        getattr(self, f"_value_{self._kind}")(text)

    def stream(self, chunk: bytes) -> None:
        """A piece of a streamed value; ``b""`` ends the value."""
        getattr(self, f"_stream_{self._kind}")(chunk)

    def stream_value(self, data: bytes) -> None:
        if data:
            self.stream(data)
        self.stream(b"")

    @property
    def _kind(self) -> str:
        return self.formatter if self.formatter in ("tab", "table", "pager", "json") else "flow"

    def _next(self) -> bool:
        """Advance to the next column; True when the row just ended."""
        self._idx += 1
        if self._idx >= len(self.headers):
            self._idx = 0
            return True
        return False

    # flow
    def _flow_title(self) -> None:
        hdr = self.headers[self._idx]
        if not hdr.hide_title:
            self.out += hdr.title.encode() + b"="

    def _flow_next(self) -> None:
        self.out += b"\n" if self._next() else b" "

    def _value_flow(self, text: str) -> None:
        self._flow_title()
        self.out += text.encode()
        self._flow_next()

    def _stream_flow(self, chunk: bytes) -> None:
        if not self._streaming:
            self._streaming = True
            self._flow_title()
        self.out += chunk
        if not chunk:
            self._flow_next()
            self._streaming = False

    # pager
    def _value_pager(self, text: str) -> None:
        hdr = self.headers[self._idx]
        if self._idx == 0 and not self._first_page:
            self.out += b"\f\n"
        self._first_page = False
        if not hdr.hide_title:
            self.out += hdr.title.encode() + b": "
        self.out += text.encode() + b"\n"
        self._next()

    def _stream_pager(self, chunk: bytes) -> None:
        hdr = self.headers[self._idx]
        if not self._streaming:
            self._streaming = True
            if not hdr.hide_title:
                self.out += hdr.title.encode() + b":\n"
        self.out += chunk
        if not chunk:
            self._next()
            self._streaming = False

    # tab
    def _tab_flush_header(self) -> None:
        if not self._tab_header_written:
            if not self.hide_titles:
                self.out += b"\n"
            self._tab_header_written = True

    def _value_tab(self, text: str) -> None:
        self._tab_flush_header()
        if self._idx > 0:
            self.out += b"\t"
        self.out += text.encode()
        if self._next():
            self.out += b"\n"

    def _stream_tab(self, chunk: bytes) -> None:
        if not chunk:
            self._value_tab("")
            return
        self._tab_flush_header()
        if self._idx > 0:
            self.out += b"\t"
        self.out += chunk

    # json
    def _json_key(self) -> None:
        if self._idx == 0:
            self.out += b"[" if self._first_row else b","
            self._first_row = False
            self.out += b"{"
        else:
            self.out += b","
        self.out += b'"' + json_escape(self.headers[self._idx].key).encode() + b'":'

    def _json_end(self) -> None:
        if self._next():
            self.out += b"}"

    def _value_json(self, text: str) -> None:
        self._json_key()
        self.out += b'"' + json_escape(text).encode() + b'"'
        self._json_end()

    def _stream_json(self, chunk: bytes) -> None:
        if not self._streaming:
            self._json_key()
            self.out += b'"'
            self._streaming = True
        if not chunk:
            self.out += b'"'
            self._json_end()
            self._streaming = False
            return
        self.out += json_escape(chunk.decode("utf-8", "replace")).encode()

    # table
    def _value_table(self, text: str) -> None:
        if not self._table_sized:
            if len(self._table_buffer) // len(self.headers) < _TABLE_BUFFER_LINES:
                self._table_buffer.append(text)
                return
            self._table_flush_buffer()
        self._table_next(text)

    def _stream_table(self, chunk: bytes) -> None:
        if b"\n" in chunk:
            raise TableMultiLineError("table formatter doesn't support multi-line values")
        if chunk:
            self._table_stream += chunk
        else:
            self._value_table(self._table_stream.decode("utf-8", "replace"))
            self._table_stream.clear()

    def _table_flush_buffer(self) -> None:
        self._table_sizes()
        self._table_titles()
        for text in self._table_buffer:
            self._table_next(text)
        self._table_buffer.clear()

    def _table_sizes(self) -> None:
        self._table_sized = True
        headers, columns = self.headers, _terminal_columns()
        count = len(headers)
        for line in range(len(self._table_buffer) // count):
            for i, hdr in enumerate(headers):
                length = len(self._table_buffer[line * count + i])
                hdr.min_length = min(hdr.min_length, length)
                if hdr.max_length < length:
                    hdr.max_length = hdr.length = length
        total = sum(h.max_length + 1 for h in headers) - 1
        while total > columns:
            before = total
            for i in range(count - 1, -1, -1):
                diff = headers[i].length - headers[i].min_length
                if total - diff <= columns:
                    diff = total - columns
                    headers[i].length -= diff
                    total -= diff
                    break
                if diff > 0:
                    # C shrinks the column but not max_length: the loop ends when nothing fits
                    headers[i].length -= 1 if diff == 1 else diff // 2
            if total == before:
                break
        if total < columns:
            # the DOVEADM_PRINT_HEADER_FLAG_EXPAND column grows, else the last one
            grow = next((h for h in headers if h.expand), headers[-1])
            grow.length += (columns - total) // 2

    def _table_titles(self) -> None:
        if self.hide_titles or all(h.hide_title for h in self.headers):
            return
        # (2.3.19 writes the titles to stdout; later versions moved them to stderr)
        self.out += (" ".join(h.pad(h.title) for h in self.headers) + "\n").encode()

    def _table_next(self, text: str) -> None:
        hdr = self.headers[self._idx]
        self.out += hdr.pad(text).encode()
        self.out += b"\n" if self._next() else b" "

    # --- end ---------------------------------------------------------------------------------

    def finish(self) -> None:
        """The formatter's flush at the end of the command."""
        kind = self._kind
        if kind in ("flow", "pager") and self._idx != 0:
            self.out += b"\n"
            self._idx = 0
        elif kind == "tab":
            self._tab_flush_header()
        elif kind == "json":
            self.out += b"]" if not self._first_row else b"[]"
        elif kind == "table" and not self._table_sized and self.headers:
            self._table_flush_buffer()

    def write(self) -> None:
        """Send what was printed: the formatter writes to the descriptors directly."""
        sys.stdout.flush()
        sys.stdout.buffer.write(bytes(self.out))
        sys.stdout.buffer.flush()
        if self.err:
            sys.stderr.flush()
            sys.stderr.buffer.write(bytes(self.err))
            sys.stderr.buffer.flush()
        self.out.clear()
        self.err.clear()


def _terminal_columns() -> int:
    try:
        packed = fcntl.ioctl(sys.stdout.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
    except (OSError, ValueError, AttributeError):
        return _TABLE_DEFAULT_COLUMNS
    cols = struct.unpack("HHHH", packed)[1]
    return max(cols, _TABLE_MIN_COLUMNS)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_escape(text: str) -> str:
    """Dovecot's json_append_escaped: the short escapes, other controls as \\u00XX."""
    out = []
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ch < " " or ch in ("\u2028", "\u2029"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
