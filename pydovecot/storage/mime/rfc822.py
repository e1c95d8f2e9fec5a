"""RFC 822 lexical helpers as Dovecot's ``rfc822-parser.c`` and ``rfc2231-parser.c`` do them.

A tiny cursor over bytes: comments and folding whitespace are skipped (the last comment is kept,
as Dovecot uses it for an address's display name), atoms use Dovecot's atext table (8-bit bytes
count as atext), quoted strings are unescaped and lose their folding newlines.
"""

from __future__ import annotations

_ATEXT_EXTRA = b"!#$%&'*+-/=?^_`{|}~"
ATEXT = frozenset(
    [c for c in range(0x30, 0x3A)] + [c for c in range(0x41, 0x5B)] + [c for c in range(0x61, 0x7B)]
    + list(_ATEXT_EXTRA) + list(range(0x80, 0x100))
)
_TSPECIALS = frozenset(b'()<>@,;:\\"/[]?=')
# MIME token characters: any CHAR except SPACE, CTLs and tspecials; 8-bit bytes count (as atext).
MIME_TOKEN = frozenset(c for c in range(0x21, 0x100) if c not in _TSPECIALS and c != 0x7F)


class Cursor:
    """Position in a byte string plus the last comment seen."""

    __slots__ = ("data", "pos", "end", "last_comment")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.last_comment: bytes | None = None

    def peek(self) -> int:
        return self.data[self.pos] if self.pos < self.end else -1

    def at_end(self) -> bool:
        return self.pos >= self.end

    def skip_comment(self) -> int:
        """At '(': skip a (nested) comment. -1 when unterminated."""
        data = self.data
        self.pos += 1
        depth = 1
        out = bytearray()
        while self.pos < self.end:
            c = data[self.pos]
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    self.last_comment = bytes(out)
                    return 1
            elif c == 0x5C:
                self.pos += 1
                if self.pos >= self.end:
                    return -1
                c = data[self.pos]
            elif c in (0x0D, 0x0A):
                self.pos += 1
                continue
            out.append(c)
            self.pos += 1
        return -1

    def skip_lwsp(self) -> int:
        """Skip whitespace, newlines and comments: 1 if data remains, 0 at end, -1 on bad comment."""
        data = self.data
        while self.pos < self.end:
            c = data[self.pos]
            if c in (0x20, 0x09, 0x0D, 0x0A):
                self.pos += 1
            elif c == 0x28:
                if self.skip_comment() < 0:
                    return -1
            else:
                break
        return 1 if self.pos < self.end else 0

    def parse_atom(self, out: bytearray) -> int:
        start = self.pos
        while self.pos < self.end and self.data[self.pos] in ATEXT:
            self.pos += 1
        if self.pos == start:
            return -1
        out += self.data[start:self.pos]
        return self.skip_lwsp()

    def parse_dot_atom(self, out: bytearray) -> int:
        if self.pos >= self.end or self.data[self.pos] not in ATEXT:
            return -1
        while True:
            start = self.pos
            while self.pos < self.end and self.data[self.pos] in ATEXT:
                self.pos += 1
            out += self.data[start:self.pos]
            if self.pos >= self.end:
                return 0
            ret = self.skip_lwsp()
            if ret <= 0:
                return ret
            if self.data[self.pos] != 0x2E:
                return 1
            self.pos += 1
            out.append(0x2E)
            ret = self.skip_lwsp()
            if ret <= 0:
                return ret

    def parse_quoted_string(self, out: bytearray) -> int:
        data = self.data
        self.pos += 1
        start = self.pos
        while self.pos < self.end:
            c = data[self.pos]
            if c == 0x22:
                out += data[start:self.pos]
                self.pos += 1
                return self.skip_lwsp()
            if c == 0x0A:
                seg = data[start:self.pos]
                out += seg[:-1] if seg.endswith(b"\r") else seg
                start = self.pos + 1
            elif c == 0x5C:
                self.pos += 1
                if self.pos >= self.end:
                    return -1
                out += data[start:self.pos - 1]
                start = self.pos
            self.pos += 1
        return -1

    def parse_phrase(self, out: bytearray) -> int:
        """phrase = 1*word / obs-phrase; words joined with one space."""
        if self.pos >= self.end:
            return 0
        if self.data[self.pos] == 0x2E:
            return -1
        while True:
            c = self.data[self.pos]
            if c == 0x22:
                ret = self.parse_quoted_string(out)
            else:
                ret = self._parse_atom_or_dot(out)
            if ret <= 0:
                return ret
            c = self.data[self.pos]
            if c not in ATEXT and c != 0x22 and c != 0x2E:
                break
            out.append(0x20)
        return self.skip_lwsp()

    def _parse_atom_or_dot(self, out: bytearray) -> int:
        start = self.pos
        while self.pos < self.end and (self.data[self.pos] in ATEXT or self.data[self.pos] == 0x2E):
            self.pos += 1
        if self.pos == start:
            return -1
        out += self.data[start:self.pos]
        return self.skip_lwsp()

    def parse_domain(self, out: bytearray) -> int:
        """At '@': domain = dot-atom / domain-literal."""
        self.pos += 1
        ret = self.skip_lwsp()
        if ret <= 0:
            return ret
        if self.data[self.pos] == 0x5B:
            return self._parse_domain_literal(out)
        return self.parse_dot_atom(out)

    def _parse_domain_literal(self, out: bytearray) -> int:
        data = self.data
        start = self.pos
        self.pos += 1
        while self.pos < self.end:
            c = data[self.pos]
            if c == 0x5C:
                self.pos += 1
            elif c == 0x5D:
                self.pos += 1
                out += data[start:self.pos]
                return self.skip_lwsp()
            self.pos += 1
        return -1

    def parse_mime_token(self, out: bytearray) -> int:
        """Like rfc822_parse_mime_token: 0 at end of data (even after a token), else skip_lwsp().

        An empty token is not an error here; callers check what they got.
        """
        start = self.pos
        while self.pos < self.end and self.data[self.pos] in MIME_TOKEN:
            self.pos += 1
        out += self.data[start:self.pos]
        if self.pos >= self.end:
            return 0
        return self.skip_lwsp()


def _content_param(cur: Cursor) -> tuple[int, bytes, bytes]:
    """rfc822_parse_content_param: (1 ok / 0 end / -1 broken, key, value)."""
    if cur.at_end():
        return 0, b"", b""
    if cur.peek() != 0x3B:
        return -1, b"", b""
    cur.pos += 1
    if cur.skip_lwsp() <= 0:
        return -1, b"", b""
    key = bytearray()
    if cur.parse_mime_token(key) <= 0 or cur.peek() != 0x3D:
        return -1, b"", b""
    cur.pos += 1
    value = bytearray()
    ret = cur.skip_lwsp()
    if ret <= 0:
        pass  # broken / no value
    elif cur.peek() == 0x22:
        ret = cur.parse_quoted_string(value)
    elif cur.peek() == 0x3D:
        # broken input like name==?utf-8?b?...?= : take everything up to ';' or whitespace
        start = cur.pos
        while not cur.at_end() and cur.data[cur.pos] not in b"; \t\r\n":
            cur.pos += 1
        value += cur.data[start:cur.pos]
    else:
        ret = cur.parse_mime_token(value)
    return (-1 if ret < 0 else 1), bytes(key), bytes(value)


def _parse_params(cur: Cursor) -> list[tuple[bytes, bytes]]:
    """The rfc2231_parse() loop: broken parameters are skipped one byte at a time."""
    result: list[tuple[bytes, bytes]] = []
    while True:
        ret, key, value = _content_param(cur)
        if ret == 0:
            break
        if ret < 0:
            if cur.at_end():
                break
            cur.pos += 1
            continue
        result.append((key, value))
    return result


# attribute-char: any CHAR except SPACE, CTLs, "*", "'", "%", or tspecials (RFC 2231)
_ATTR_CHAR = frozenset(c for c in range(0x21, 0x7F) if c not in _TSPECIALS and c not in b"*'%")


def _rfc2231_escape(value: bytes) -> bytes:
    """%-encode a plain continuation that is joined to extended (charset'lang') ones."""
    return b"".join(bytes([c]) if c in _ATTR_CHAR else b"%%%02X" % c for c in value)


def rfc2231_merge(params: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Merge ``key*<n>[*]`` continuations into ``key[*]`` (rfc2231_parse)."""
    plain: list[tuple[bytes, bytes]] = []
    ext: list[tuple[bytes, int, bool, bytes, bytes]] = []  # key, idx, extended, value, original key
    for key, value in params:
        star = key.find(b"*")
        if star < 0:
            plain.append((key, value))
            continue
        rest = key[star + 1:]
        digits = len(rest) - len(rest.lstrip(b"0123456789"))
        idx = int(rest[:digits]) if digits else 0
        tail = rest[digits:]
        if tail not in (b"", b"*"):
            plain.append((key, value))
            continue
        # "name*" alone is an extended (charset'lang'value) parameter with index 0
        ext.append((key[:star], idx, tail == b"*" or rest == b"", value, key))
    if not ext:
        return plain
    ext.sort(key=lambda e: (e[0].lower(), e[1]))
    i = 0
    while i < len(ext):
        j = i
        ok = True
        while j < len(ext) and ext[j][0].lower() == ext[i][0].lower():
            if ext[j][1] != j - i:
                ok = False
            j += 1
        group = ext[i:j]
        if ok:
            extended = any(g[2] for g in group)
            value = bytearray(b"''" if extended and not group[0][2] else b"")
            for g in group:
                value += _rfc2231_escape(g[3]) if extended and not g[2] else g[3]
            plain.append((group[0][0] + (b"*" if extended else b""), bytes(value)))
        else:
            plain.extend((g[4], g[3]) for g in group)
        i = j
    return plain


def parse_content_type(value: bytes) -> tuple[bytes, bytes, bool, list[tuple[bytes, bytes]]]:
    """(type, subtype, parsed-ok, params) like rfc822_parse_content_type + rfc2231_parse.

    On failure Dovecot keeps the type only when it ran into the end of the value right after it
    ("text"), otherwise the type is empty; the subtype is then "".
    """
    cur = Cursor(value)
    if cur.skip_lwsp() <= 0:
        return b"", b"", False, []
    typ = bytearray()
    if cur.parse_mime_token(typ) <= 0 or not typ:
        return bytes(typ), b"", False, []
    if cur.peek() != 0x2F:
        return b"", b"", False, []
    cur.pos += 1
    if cur.skip_lwsp() <= 0:
        return b"", b"", False, []
    sub = bytearray()
    if cur.parse_mime_token(sub) < 0:
        return b"", b"", False, []
    return bytes(typ), bytes(sub), True, rfc2231_merge(_parse_params(cur))


def parse_token_and_params(value: bytes) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
    """Content-Disposition: a MIME token then parameters."""
    cur = Cursor(value)
    cur.skip_lwsp()
    out = bytearray()
    if cur.parse_mime_token(out) < 0:
        return None, []
    return bytes(out), rfc2231_merge(_parse_params(cur))


def parse_mime_token_only(value: bytes) -> bytes | None:
    """Content-Transfer-Encoding: one token and nothing else."""
    cur = Cursor(value)
    cur.skip_lwsp()
    out = bytearray()
    if cur.parse_mime_token(out) < 0 or cur.skip_lwsp() != 0 or not out:
        return None
    return bytes(out)


def parse_language(value: bytes) -> list[bytes]:
    cur = Cursor(value)
    cur.skip_lwsp()
    langs: list[bytes] = []
    while True:
        out = bytearray()
        if cur.parse_atom(out) < 0:
            break
        langs.append(bytes(out))
        if cur.at_end() or cur.peek() != 0x2C:
            break
        cur.pos += 1
        cur.skip_lwsp()
    return langs
