"""Dovecot's tab-escaping (str_tabescape): the way a value may carry TAB, CR, LF in one field.

\\x01 introduces an escape: \\x01 -> "\\x011", TAB -> "\\x01t", CR -> "\\x01r", LF -> "\\x01n".
"""

from __future__ import annotations

_ESCAPES = {"\x01": "\x011", "\t": "\x01t", "\r": "\x01r", "\n": "\x01n"}
_UNESCAPES = {"1": "\x01", "t": "\t", "r": "\r", "n": "\n"}


def tab_escape(value: str) -> str:
    if not any(c in value for c in _ESCAPES):
        return value
    return "".join(_ESCAPES.get(c, c) for c in value)


def tab_unescape(value: str) -> str:
    """Unknown escapes keep the escaped character (Dovecot drops the \\x01 and keeps it)."""
    if "\x01" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\x01" and i + 1 < len(value):
            out.append(_UNESCAPES.get(value[i + 1], value[i + 1]))
            i += 2
            continue
        if c != "\x01":
            out.append(c)
        i += 1
    return "".join(out)
