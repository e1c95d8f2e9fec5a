"""RFC 5322 address lists as Dovecot's message_address_parse() reads them, and the normalized
form message_address_write() prints (what FROM/TO/CC/BCC searches match against).

A group is two entries, as in Dovecot: a start (mailbox = group name, domain None) and an end
(mailbox and domain None). A missing mailbox or domain is filled with MISSING_MAILBOX /
MISSING_DOMAIN; a comment stands in for a missing display name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Address", "parse_addresses", "write_addresses"]

_TOKEN = re.compile(
    r'\s+|"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)?|[<>@,;:.\[\]]|[^\s"(),;:<>@.\[\]]+'
)
_ATEXT_SPECIALS = set("!#$%&'*+-/=?^_`{|}~")


@dataclass(frozen=True)
class Address:
    name: str | None
    mailbox: str | None
    domain: str | None
    route: str | None = None

    @property
    def is_group_start(self) -> bool:
        return self.domain is None and self.mailbox is not None

    @property
    def is_group_end(self) -> bool:
        return self.domain is None and self.mailbox is None


def _tokens(text: str) -> list[str]:
    return [tok for tok in _TOKEN.findall(text) if tok and not tok.isspace()]


def _unquote(token: str) -> str:
    if token.startswith('"'):
        inner = token[1:-1] if token.endswith('"') and len(token) > 1 else token[1:]
        return re.sub(r"\\(.)", r"\1", inner)
    return token


def _comment_text(token: str) -> str:
    inner = token[1:-1] if token.endswith(")") else token[1:]
    return re.sub(r"\\(.)", r"\1", inner).strip()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> list[Address]:
        out: list[Address] = []
        while self.peek() is not None:
            if self.peek() in (",", ";"):
                self.take()
                continue
            self._mailbox_or_group(out)
        return out

    def _words_until(self, stops: set[str]) -> tuple[list[str], list[str]]:
        """Words and comments up to a stop token (not consumed)."""
        words: list[str] = []
        comments: list[str] = []  # only those after the last word count as a name
        while (tok := self.peek()) is not None and tok not in stops:
            self.take()
            if tok.startswith("("):
                comments.append(_comment_text(tok))
            else:
                words.append(tok)
                comments = []
        return words, comments

    def _mailbox_or_group(self, out: list[Address]) -> None:
        start = self.pos
        words, comments = self._words_until({"<", ":", ",", ";"})
        tok = self.peek()
        if tok == ":":
            self.take()
            out.append(Address(None, _phrase(words), None))
            while (tok := self.peek()) is not None and tok != ";":
                if tok == ",":
                    self.take()
                    continue
                self._mailbox(out)
            if self.peek() == ";":
                self.take()
            out.append(Address(None, None, None))
            return
        self.pos = start
        self._mailbox(out)

    def _mailbox(self, out: list[Address]) -> None:
        words, comments = self._words_until({"<", ",", ";"})
        if self.peek() == "<":
            self.take()
            inner, _ = self._words_until({">", ",", ";"})
            if self.peek() == ">":
                self.take()
            trailing, more = self._words_until({",", ";"})
            route, mailbox, domain = _addr_spec(inner)
            name = _phrase(words) or (comments[-1] if comments else "") or (more[-1] if more else "")
            out.append(Address(name or None, mailbox, domain, route))
            return
        if not words and not comments:
            return
        route, mailbox, domain = _addr_spec(words)
        out.append(Address(comments[-1] if comments else None, mailbox, domain, route))


def _phrase(words: list[str]) -> str:
    return " ".join(_unquote(w) for w in words)


def _addr_spec(words: list[str]) -> tuple[str | None, str, str]:
    route = None
    if ":" in words:  # obsolete route: @a,@b:user@host
        idx = words.index(":")
        route, words = "".join(words[:idx]), words[idx + 1 :]
    if "@" in words:
        idx = words.index("@")
        local, domain = words[:idx], words[idx + 1 :]
    else:
        local, domain = words, []
    mailbox = "".join(_unquote(w) for w in local) or "MISSING_MAILBOX"
    return route, mailbox, "".join(domain) or "MISSING_DOMAIN"


def parse_addresses(text: str) -> list[Address]:
    return _Parser(text).parse()


def _is_atext(char: str) -> bool:
    return not char.isascii() or char.isalnum() or char in _ATEXT_SPECIALS


def _maybe_escape(text: str, quote_dot: bool) -> str:
    """str_append_maybe_escape(): quoted (with `"` and `\\` escaped) unless every character is
    atext (8-bit counts as atext), a dot counting as atext only when quote_dot is false."""
    if all(_is_atext(ch) or (ch == "." and not quote_dot) for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_addresses(addresses: list[Address]) -> str:
    """message_address_write() of Dovecot 2.3: `Name <box@domain>`, `<box@domain>`,
    `group: <a@b>, <c@d>;` (the form FROM/TO/CC/BCC searches look into)."""
    out = ""
    first = True
    in_group = False
    for addr in addresses:
        if not first:
            out += ", "
        first = False
        if addr.domain is None:
            if not in_group:
                name = addr.mailbox or ""
                if not name:
                    out += '""'
                else:
                    out += name if "=?" in name else _maybe_escape(name, True)
                out += ": "
                first = True
            else:
                out = (out[:-2] if out.endswith(", ") else out[:-1]) + ";"
            in_group = not in_group
            continue
        mailbox = addr.mailbox or ""
        if addr.name is not None:
            out += addr.name if "=?" in addr.name else _maybe_escape(addr.name, True)
        if addr.route is not None or mailbox or addr.domain:
            if addr.name:
                out += " "
            route = f"{addr.route}:" if addr.route else ""
            box = _maybe_escape(mailbox, False) if mailbox else '""'
            domain = f"@{addr.domain}" if addr.domain else ""
            out += f"<{route}{box}{domain}>"
    return out
