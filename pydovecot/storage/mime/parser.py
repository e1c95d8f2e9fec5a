"""Split a message into Dovecot's part tree, by offsets only (no copy of the body).

The state machine follows Dovecot's ``message-parser.c`` so that part boundaries, sizes and line
counts agree byte for byte:

* a header ends at the first empty line, at EOF, or at a line that is a ``--boundary`` of an
  enclosing multipart (then the newline before it belongs to the parent's body);
* the ``[CR]LF`` before ``--boundary`` belongs to the boundary, not to the part before it;
* a boundary only has to be a *prefix* of the line; the longest matching one wins, the newest
  one on ties (the same boundary reused in a nested multipart);
* ``--boundary--`` closes its multipart; the rest (epilogue) stays in the multipart's body until
  an enclosing boundary shows up;
* nesting stops at ``MAX_NESTED_PARTS``: deeper multiparts and message/rfc822 parts are kept as
  plain leaves (Dovecot's ``message_max_nested_mime_parts``, CVE-2020-12100).

Work is linear: boundaries are found with ``bytes.find(b"\\n--")``; sizes and line counts are
computed on demand with ``bytes.count`` over a part's range.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntFlag

from pydovecot.storage.mime import rfc822

# Dovecot 2.3.19 defaults: message_parser_settings max_nested_mime_parts / max_total_mime_parts.
MAX_NESTED_PARTS = 100
MAX_TOTAL_PARTS = 10000


class PartFlag(IntFlag):
    MULTIPART = 0x01
    MULTIPART_DIGEST = 0x02
    MESSAGE_RFC822 = 0x04
    TEXT = 0x08
    HAS_NULS = 0x20
    IS_MIME = 0x40


@dataclass(eq=False, slots=True)
class HeaderField:
    """One header field (with its continuation lines) as offsets into the message."""

    data: bytes
    start: int
    end: int  # after the field's final newline (or at EOF)
    name: bytes  # LWSP before ':' dropped; the whole first line when there is no ':'
    value_start: int  # -1 when the line has no ':'

    @property
    def raw(self) -> bytes:
        return self.data[self.start:self.end]

    @property
    def value(self) -> bytes:
        """Dovecot's ``full_value``: continuation newlines kept, final newline dropped."""
        if self.value_start < 0:
            return b""
        end = self.end
        if end > self.value_start and self.data[end - 1:end] == b"\n":
            end -= 1
            if end > self.value_start and self.data[end - 1:end] == b"\r":
                end -= 1
        return self.data[self.value_start:end]


@dataclass(eq=False)
class Part:
    """A MIME part: ``[header_start, body_start)`` is the header, ``[body_start, body_end)`` the body."""

    data: bytes
    header_start: int
    parent: Part | None = None
    body_start: int = -1
    body_end: int = -1
    flags: PartFlag = PartFlag(0)
    headers: list[HeaderField] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)
    eoh: bytes = b""  # the empty line that ended the header ("" when it ended otherwise)

    @property
    def is_multipart(self) -> bool:
        return bool(self.flags & PartFlag.MULTIPART)

    @property
    def is_rfc822(self) -> bool:
        return bool(self.flags & PartFlag.MESSAGE_RFC822)

    def header_bytes(self) -> bytes:
        return self.data[self.header_start:self.body_start]

    def body_bytes(self) -> bytes:
        return self.data[self.body_start:self.body_end]

    def header_fields(self, name: bytes) -> Iterator[HeaderField]:
        low = name.lower()
        return (h for h in self.headers if h.name.lower() == low)

    def first_header(self, name: bytes) -> HeaderField | None:
        return next(self.header_fields(name), None)

    # Sizes the way Dovecot counts them: "virtual" counts each bare LF as CRLF.
    def header_size(self) -> tuple[int, int, int]:
        return _sizes(self.data, self.header_start, self.body_start)

    def body_size(self) -> tuple[int, int, int]:
        return _sizes(self.data, self.body_start, self.body_end)


def _sizes(data: bytes, start: int, end: int) -> tuple[int, int, int]:
    """(physical, virtual, lines) of ``data[start:end]``."""
    lines = data.count(b"\n", start, end)
    crlf = data.count(b"\r\n", start, end)
    if start > 0 and end > start and data[start] == 0x0A and data[start - 1] == 0x0D:
        crlf += 1  # Dovecot remembers the last byte of the previous block
    return end - start, end - start + lines - crlf, lines


@dataclass(eq=False)
class Message:
    """A parsed message: the raw bytes plus the root of the part tree."""

    data: bytes
    root: Part

    def walk(self) -> Iterator[Part]:
        stack = [self.root]
        while stack:
            part = stack.pop()
            yield part
            stack.extend(reversed(part.children))


_FIELD = re.compile(rb"([^:\n]*)(:?)[^\n]*(?:\n[ \t][^\n]*)*\n?")
_LWSP = re.compile(rb"[ \t]*")
_Step = tuple[str, "Part | None", int]  # ("header" | "body" | "eof", part, offset)


@dataclass(eq=False, slots=True)
class _Boundary:
    text: bytes
    part: Part


def parse_message(data: bytes) -> Message:
    """Parse ``data`` into a part tree; never fails (broken input gives Dovecot's best effort)."""
    return Message(data, _Parser(data).run())


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.n = len(data)
        self.boundaries: list[_Boundary] = []  # newest last
        self.nested = 0
        self.total = 1  # the root counts
        self._rx_cache: dict[tuple[bytes, ...], re.Pattern[bytes]] = {}

    def run(self) -> Part:
        root = Part(self.data, 0)
        # A flat loop over steps (no recursion, whatever the number of parts): each step says
        # whether a header or a body scan starts at pos for part.
        step: _Step = ("header", root, 0)
        while step[0] != "eof":
            kind, part, pos = step
            assert part is not None
            step = self._header_and_body(part, pos) if kind == "header" else self._body_to_boundary(part, pos)
        return root

    # --- headers --------------------------------------------------------------------------------

    def _header_and_body(self, part: Part, pos: int) -> _Step:
        data, n = self.data, self.n
        last_boundary: bytes | None = None
        seen_ct = False
        multipart = False
        prev_nl = 0
        hit: tuple[_Boundary, bool] | None = None
        line = pos
        while True:
            if pos >= n:
                break  # EOF ends the header without an empty line
            c = data[pos]
            if c == 0x0A or (c == 0x0D and data[pos + 1:pos + 2] == b"\n"):
                if last_boundary is not None and part.flags & PartFlag.IS_MIME:
                    if self.nested + 1 < MAX_NESTED_PARTS and self.total < MAX_TOTAL_PARTS:
                        self.boundaries.append(_Boundary(last_boundary, part))
                        multipart = True
                    else:
                        part.flags &= ~PartFlag.MULTIPART
                part.eoh = b"\n" if c == 0x0A else b"\r\n"
                pos += len(part.eoh)
                # Dovecot looks for an enclosing --boundary once more before it ends the header:
                # if one follows the empty line at once, that newline goes to the parent too.
                if self.boundaries and data.startswith(b"--", pos):
                    found = self._find_boundary(pos)
                    if found is not None and found[0].part is not part:
                        hit, line = found, pos
                        pos -= len(part.eoh)
                        part.eoh = b""
                break
            if self.boundaries and c == 0x2D and data[pos + 1:pos + 2] == b"-":
                found = self._find_boundary(pos)
                if found is not None and found[0].part is not part:
                    hit, line = found, pos
                    pos -= prev_nl  # the newline before --boundary is the parent's
                    break
            hdr, pos = self._read_field(pos)
            part.headers.append(hdr)
            if data[pos - 1] != 0x0A:
                prev_nl = 0
            else:
                prev_nl = 2 if pos >= 2 and data[pos - 2] == 0x0D else 1
            if len(hdr.name) != 12:  # both names below have 12 characters
                continue
            lname = hdr.name.lower()
            if lname == b"mime-version":
                part.flags |= PartFlag.IS_MIME
            elif lname == b"content-type":
                part.flags |= PartFlag.IS_MIME
                if not seen_ct:
                    seen_ct = True
                    last_boundary = self._content_type(part, hdr.value)
        part.body_start = pos
        if hit is not None:
            return self._header_cut_by_boundary(part, hit, line, seen_ct)
        return self._end_of_header(part, pos, seen_ct, multipart)

    def _read_field(self, pos: int) -> tuple[HeaderField, int]:
        """One field with its continuation lines (lines starting with space or tab)."""
        data = self.data
        m = _FIELD.match(data, pos)
        assert m is not None
        end = m.end()
        if not m.group(2):
            # no ':' - the whole first line is the name
            first_end = data.find(b"\n", pos, end)
            if first_end < 0:
                first_end = end
            elif first_end > pos and data[first_end - 1] == 0x0D:
                first_end -= 1
            return HeaderField(data, pos, end, data[pos:first_end], -1), end
        name = data[pos:m.end(1)].rstrip(b" \t")
        colon_end = m.end(2)
        v = _LWSP.match(data, colon_end).end()
        if v > colon_end:
            tail = data[v:v + 2]
            if not tail or tail[0] == 0x0A or tail == b"\r\n":
                v = colon_end + 1  # the value is all LWSP: skip just one
        return HeaderField(data, pos, end, name, v), end

    def _content_type(self, part: Part, value: bytes) -> bytes | None:
        typ, sub, ok, params = rfc822.parse_content_type(value)
        low = (typ + b"/" + sub if ok else typ).lower()
        if low == b"message/rfc822":
            part.flags |= PartFlag.MESSAGE_RFC822
        elif low.startswith(b"text") and (len(low) == 4 or low[4:5] == b"/"):
            part.flags |= PartFlag.TEXT
        elif low.startswith(b"multipart/"):
            part.flags |= PartFlag.MULTIPART
            if low[10:] == b"digest":
                part.flags |= PartFlag.MULTIPART_DIGEST
        if not ok or not part.flags & PartFlag.MULTIPART:
            return None
        for key, val in params:
            if key.lower() == b"boundary":
                return val
        return None

    @staticmethod
    def _default_flags(part: Part, seen_ct: bool) -> None:
        if not part.flags & PartFlag.IS_MIME:
            part.flags = PartFlag(0)
        if not seen_ct or not part.flags & PartFlag.IS_MIME:
            if part.parent is not None and part.parent.flags & PartFlag.MULTIPART_DIGEST:
                part.flags |= PartFlag.MESSAGE_RFC822
            else:
                part.flags |= PartFlag.TEXT

    def _header_cut_by_boundary(
        self, part: Part, hit: tuple[_Boundary, bool], line: int, seen_ct: bool
    ) -> _Step:
        """A header ended by an enclosing --boundary: the part's body is empty."""
        self._default_flags(part, seen_ct)
        part.body_end = part.body_start
        last = part
        if part.flags & PartFlag.MESSAGE_RFC822 and self.nested + 1 < MAX_NESTED_PARTS:
            last = self._append(part, part.body_start)
            last.body_start = last.body_end = part.body_start
            self._default_flags(last, False)
        else:
            part.flags &= ~PartFlag.MESSAGE_RFC822
        return self._part_finish(last, hit, line, line)

    def _end_of_header(
        self, part: Part, pos: int, seen_ct: bool, multipart: bool
    ) -> _Step:
        self._default_flags(part, seen_ct)
        if multipart:
            return ("body", part, pos)
        if (part.flags & PartFlag.MESSAGE_RFC822 and self.nested + 1 < MAX_NESTED_PARTS
                and self.total < MAX_TOTAL_PARTS):
            return ("header", self._append(part, pos), pos)
        part.flags &= ~PartFlag.MESSAGE_RFC822
        if self.boundaries:
            return ("body", part, pos)
        self._close_all(part)
        return ("eof", None, self.n)

    # --- bodies ---------------------------------------------------------------------------------

    def _append(self, parent: Part, pos: int) -> Part:
        child = Part(self.data, pos, parent)
        parent.children.append(child)
        self.nested += 1
        self.total += 1
        if self.total >= MAX_TOTAL_PARTS:
            # the last part Dovecot creates: boundaries are forgotten, it runs to EOF
            self.boundaries.clear()
        return child

    def _find_boundary(self, line: int) -> tuple[_Boundary, bool] | None:
        """Match ``--boundary`` at ``line`` (which starts with "--")."""
        data = self.data
        best: _Boundary | None = None
        for b in reversed(self.boundaries):
            blen = len(b.text)
            if (best is None or len(best.text) < blen) and data.startswith(b.text, line + 2):
                best = b
        if best is None:
            return None
        after = line + 2 + len(best.text)
        return best, data[after:after + 2] == b"--"

    def _boundary_regex(self) -> re.Pattern[bytes]:
        """``\\n--`` followed by any open boundary (cached per boundary stack)."""
        key = tuple(b.text for b in self.boundaries)
        rx = self._rx_cache.get(key)
        if rx is None:
            alts = b"|".join(re.escape(t) for t in sorted(set(key), key=len))
            rx = self._rx_cache[key] = re.compile(b"\n--(?:" + alts + b")")
        return rx

    def _body_to_boundary(self, part: Part, pos: int) -> _Step:
        data = self.data
        start = pos
        if data.startswith(b"--", pos):
            found = self._find_boundary(pos)
            if found is not None:
                return self._part_finish(part, found, pos, pos)
        m = self._boundary_regex().search(data, pos)
        if m is None:
            self._close_all(part)
            return ("eof", None, self.n)
        idx = m.start()
        found = self._find_boundary(idx + 1)
        assert found is not None
        nl_start = idx - 1 if idx > start and data[idx - 1] == 0x0D else idx
        return self._part_finish(part, found, nl_start, idx + 1)

    def _part_finish(
        self, part: Part, found: tuple[_Boundary, bool], body_end: int, line: int
    ) -> _Step:
        boundary, epilogue = found
        cur: Part = part
        while cur is not boundary.part:
            if cur.body_end < 0:
                cur.body_end = body_end
            assert cur.parent is not None
            cur = cur.parent
            self.nested -= 1
        idx = self.boundaries.index(boundary)
        del self.boundaries[idx if epilogue else idx + 1:]
        after = line + 2 + len(boundary.text) + (2 if epilogue else 0)
        nl = self.data.find(b"\n", after)
        pos = self.n if nl < 0 else nl + 1
        if not self.boundaries or self.boundaries[-1].part is not cur:
            # epilogue of cur: runs to an enclosing boundary or EOF
            if self.boundaries:
                return ("body", cur, pos)
            self._close_all(cur)
            return ("eof", None, self.n)
        if self.total >= MAX_TOTAL_PARTS:
            # no more parts: the rest of the message is this multipart's body
            self.boundaries.clear()
            self._close_all(cur)
            return ("eof", None, self.n)
        child = self._append(cur, pos)
        child.flags |= PartFlag.IS_MIME
        return ("header", child, pos)

    def _close_all(self, part: Part | None) -> None:
        while part is not None:
            if part.body_end < 0:
                part.body_end = self.n
            part = part.parent
