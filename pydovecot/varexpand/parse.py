"""Scanning a template into literal bytes and ``%`` references, the way Dovecot reads it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .modifiers import MODIFIERS
from .text import to_bytes, to_text

MODIFIER_LETTERS = bytes(sorted(MODIFIERS))
MAX_MODIFIERS = 10  # Dovecot stops collecting modifiers after ten; the eleventh is the variable

@dataclass(frozen=True)
class VarRef:
    """One parsed ``%`` reference. ``key`` is a letter, or the raw text inside ``{}``."""

    offset: int
    width: int
    zero_padding: bool
    modifiers: bytes
    key: bytes
    is_long: bool


Token = bytes | VarRef


def parse(template: str) -> list[Token]:
    """Split a template into literal byte runs and references, the way Dovecot scans it."""
    return list(scan(to_bytes(template)))


def scan(t: bytes) -> Iterator[Token]:
    n = len(t)
    i = 0
    literal_start = 0
    while i < n:
        if t[i] != 0x25:  # '%'
            i += 1
            continue
        if literal_start < i:
            yield t[literal_start:i]
        i += 1
        sign = 1
        zero_padding = False
        width = 0
        offset = 0
        if i < n and t[i] == 0x2D:  # '-'
            sign = -1
            i += 1
        if i < n and t[i] == 0x30:  # '0'
            zero_padding = True
            i += 1
        while i < n and 0x30 <= t[i] <= 0x39:
            width = width * 10 + (t[i] - 0x30)
            i += 1
        if i < n and t[i] == 0x2E:  # '.': what we read was the offset
            offset = sign * width
            sign = 1
            width = 0
            i += 1
            # A zero before the offset means nothing; one before the width means padding.
            zero_padding = False
            if i < n and t[i] == 0x30:
                zero_padding = True
                i += 1
            if i < n and t[i] == 0x2D:
                sign = -1
                i += 1
            while i < n and 0x30 <= t[i] <= 0x39:
                width = width * 10 + (t[i] - 0x30)
                i += 1
            width *= sign
        mod_start = i
        while i < n and i - mod_start < MAX_MODIFIERS and t[i] in MODIFIER_LETTERS:
            i += 1
        modifiers = t[mod_start:i]
        if i >= n:
            return  # '%' with nothing to expand ends the whole expansion
        if t[i] == 0x7B and t.find(b"}", i) >= 0:  # '{' with some '}' later
            depth = 1
            escaped = False
            k = i + 1
            while k < n and depth > 0:
                c = t[k]
                if not escaped and c == 0x5C:  # backslash hides the next brace
                    escaped = True
                elif escaped:
                    escaped = False
                elif c == 0x7B:
                    depth += 1
                elif c == 0x7D:
                    depth -= 1
                k += 1
            if depth == 0:
                key, i = t[i + 1 : k - 1], k
            else:  # unbalanced: the rest of the template is the name
                key, i = t[i + 1 :], n
            yield VarRef(offset, width, zero_padding, modifiers, key, True)
        else:
            yield VarRef(offset, width, zero_padding, modifiers, t[i : i + 1], False)
            i += 1
        literal_start = i
    if literal_start < n:
        yield t[literal_start:]


def has_variable(template: str, *, letter: str | None = None, name: str | None = None) -> bool:
    """Does the template reference ``%<letter>`` or ``%{name}`` (e.g. to check for %h/home)?"""
    for token in scan(to_bytes(template)):
        if isinstance(token, VarRef):
            if token.is_long and name is not None and to_text(token.key) == name:
                return True
            if not token.is_long and letter is not None and to_text(token.key) == letter:
                return True
    return False
