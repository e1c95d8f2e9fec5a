"""The comparison operators of %{if;lhs;op;rhs;then;else}."""

from __future__ import annotations

import re
from collections.abc import Callable

from .text import to_text

_INTMAX = re.compile(rb"-?[0-9]+\Z")


def _parse_intmax(text: bytes) -> int | None:
    if not _INTMAX.match(text):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


def _wildcard_match(data: bytes, mask: bytes) -> bool:
    pattern = b"".join(
        b".*" if c == 0x2A else b"." if c == 0x3F else re.escape(bytes([c])) for c in mask
    )
    return re.fullmatch(pattern, data, re.DOTALL) is not None


_NUMERIC_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_STRING_OPS: dict[str, Callable[[bytes, bytes], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "*": _wildcard_match,
    "!*": lambda a, b: not _wildcard_match(a, b),
}


def compare(lhs: bytes, op: str, rhs: bytes) -> bool | str:
    """The comparison's result, or an error message."""
    if op in _NUMERIC_OPS:
        a = _parse_intmax(lhs)
        if a is None:
            return f"if: {to_text(lhs)} (lhs) is not a number"
        b = _parse_intmax(rhs)
        if b is None:
            return f"if: {to_text(rhs)} (rhs) is not a number"
        return _NUMERIC_OPS[op](a, b)
    if op in _STRING_OPS:
        return _STRING_OPS[op](lhs, rhs)
    if op in ("~", "!~"):
        # Dovecot uses POSIX extended regexps; Python's syntax agrees on the common subset.
        try:
            matched = re.search(rhs, lhs) is not None
        except re.error as exc:
            return f"if: regex failed: {exc}"
        return matched if op == "~" else not matched
    return f"if: Unsupported comparator '{op}'"
