"""A cursor over one framed command line: atoms, quoted strings, literals, parentheses.

The receive buffer has already framed the literals, so `{N}\\r\\n` is followed by exactly N bytes.
Every method either consumes what it read or raises `ImapProtocolError` with Dovecot's wording.
"""

from __future__ import annotations

import re

from .errors import ImapProtocolError

# RFC 3501 atom-specials: ( ) { SP CTL list-wildcards quoted-specials resp-specials.
_ATOM = re.compile(rb"[^(){ \x00-\x1f\x7f%*\"\\\]]+")
_ASTRING_ATOM = re.compile(rb"[^(){ \x00-\x1f\x7f%*\"\\]+")
# Anything up to a space or a parenthesis: how Dovecot reads a "word" it will check afterwards.
_WORD = re.compile(rb"[^() \x00-\x1f\x7f]+")
_LITERAL = re.compile(rb"(~?)\{([0-9]+)([+-]?)\}\r?\n")


class Lexer:
    def __init__(self, raw: bytes, pos: int = 0) -> None:
        self.raw = raw
        self.pos = pos

    # -- position

    def at_end(self) -> bool:
        return self.pos >= len(self.raw)

    def peek(self) -> int | None:
        return self.raw[self.pos] if self.pos < len(self.raw) else None

    def peek_is(self, char: bytes) -> bool:
        return self.raw.startswith(char, self.pos)

    def skip_space(self) -> bool:
        """Consume one SP; False (and nothing consumed) when there is none."""
        if self.peek_is(b" "):
            self.pos += 1
            return True
        return False

    def expect_end(self, reason: str = "Too many arguments") -> None:
        if not self.at_end():
            raise ImapProtocolError(reason)

    # -- tokens

    def read_atom(self) -> bytes | None:
        match = _ATOM.match(self.raw, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def read_word(self) -> bytes | None:
        """A run of non-space, non-paren bytes (sequence sets, flags, fetch items)."""
        match = _WORD.match(self.raw, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def read_quoted(self) -> bytes:
        """A quoted string; a backslash escapes whichever character follows, as Dovecot allows."""
        assert self.peek_is(b'"')
        out = bytearray()
        i = self.pos + 1
        raw = self.raw
        while i < len(raw):
            ch = raw[i]
            if ch == 0x22:
                self.pos = i + 1
                return bytes(out)
            if ch == 0x5C and i + 1 < len(raw):
                i += 1
                ch = raw[i]
            if ch in (0x0D, 0x0A, 0x00):
                break
            out.append(ch)
            i += 1
        raise ImapProtocolError("Missing '\"'", lexical=True)

    def read_literal(self) -> tuple[bytes, bool] | None:
        """A literal `{N}CRLF<N bytes>`: (bytes, is_binary), or None if none starts here."""
        match = _LITERAL.match(self.raw, self.pos)
        if match is None:
            if self.peek_is(b"{") or self.peek_is(b"~{"):
                raise ImapProtocolError("Invalid literal size", lexical=True)
            return None
        size = int(match.group(2))
        start = match.end()
        if start + size > len(self.raw):
            raise ImapProtocolError("Invalid literal size", lexical=True)
        self.pos = start + size
        return self.raw[start : start + size], match.group(1) == b"~"

    def read_string(self) -> bytes | None:
        """quoted / literal, or None when neither starts here."""
        if self.peek_is(b'"'):
            return self.read_quoted()
        literal = self.read_literal()
        return literal[0] if literal is not None else None

    def read_astring(self) -> bytes | None:
        """atom (']' allowed) / quoted / literal, or None."""
        string = self.read_string()
        if string is not None:
            return string
        match = _ASTRING_ATOM.match(self.raw, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def read_nstring(self) -> bytes | None:
        """A string or NIL (None); raises when neither."""
        if self.raw[self.pos : self.pos + 3].upper() == b"NIL" and self._word_ends(self.pos + 3):
            self.pos += 3
            return None
        string = self.read_string()
        if string is None:
            raise ImapProtocolError("Invalid arguments")
        return string

    def read_mailbox_pattern(self) -> bytes | None:
        """list-mailbox: like astring, but % and * are allowed in the atom form."""
        string = self.read_string()
        if string is not None:
            return string
        match = re.compile(rb"[^(){ \x00-\x1f\x7f\"\\]+").match(self.raw, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def open_paren(self) -> bool:
        if self.peek_is(b"("):
            self.pos += 1
            return True
        return False

    def close_paren(self) -> bool:
        if self.peek_is(b")"):
            self.pos += 1
            return True
        return False

    def read_word_list(self) -> list[bytes]:
        """`(word word ...)` of flat words; the '(' has been consumed."""
        words: list[bytes] = []
        while True:
            if self.close_paren():
                return words
            if words and not self.skip_space():
                raise ImapProtocolError("Missing ')'")
            if self.close_paren():
                return words
            word = self.read_word()
            if word is None:
                if self.at_end():
                    raise ImapProtocolError("Missing ')'")
                raise ImapProtocolError("Invalid arguments")
            words.append(word)

    def _word_ends(self, pos: int) -> bool:
        return pos >= len(self.raw) or self.raw[pos] in b" ()"
