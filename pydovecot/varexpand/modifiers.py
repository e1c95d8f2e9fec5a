"""The modifier letters (%L %U %E %X %R %H %N %M %D %T) and the substring/padding step."""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .text import to_bytes, to_text


@dataclass
class Range:
    offset: int
    width: int


def escape_backslash(value: str) -> str:
    """%E: put a backslash before ``"``, ``'`` and ``\\`` (Dovecot's str_escape)."""
    return to_text(_escape_bytes(to_bytes(value)))


def _escape_bytes(data: bytes) -> bytes:
    return re.sub(rb"([\"'\\])", rb"\\\1", data)


def _parse_ullong(data: bytes) -> int | None:
    if not data or not data.isdigit():
        return None
    value = int(data)
    return value if value < 1 << 64 else None


def _str_hash(data: bytes) -> int:
    """Dovecot's classic string hash (the ELF/PJW hash) behind %H."""
    h = 0
    for c in data:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
            h ^= g
    return h


def _hash_text(value: int, rng: Range, bits: int) -> bytes:
    # The width is a modulus here, and the offset a minimum length padded with zeros; both are
    # consumed so that no substring is taken afterwards.
    if rng.width != 0:
        value %= rng.width & ((1 << bits) - 1)
        rng.width = 0
    text = b"%x" % (value & 0xFFFFFFFF)
    if len(text) < rng.offset:
        text = b"0" * (rng.offset - len(text)) + text
    rng.offset = 0
    return text


def _m_hash(data: bytes, rng: Range) -> bytes:
    return _hash_text(_str_hash(data), rng, 32)


def _m_newhash(data: bytes, rng: Range) -> bytes:
    (value,) = struct.unpack(">Q", hashlib.md5(data).digest()[:8])
    return _hash_text(value, rng, 64)


MODIFIERS: dict[int, Callable[[bytes, Range], bytes]] = {
    ord("L"): lambda d, r: d.lower(),  # bytes.lower() touches ASCII only, like Dovecot
    ord("U"): lambda d, r: d.upper(),
    ord("E"): lambda d, r: _escape_bytes(d),
    ord("X"): lambda d, r: b"%x" % (_parse_ullong(d) or 0),
    ord("R"): lambda d, r: d[::-1],
    ord("H"): _m_hash,
    ord("N"): _m_newhash,
    ord("M"): lambda d, r: hashlib.md5(d).hexdigest().encode(),
    ord("D"): lambda d, r: d.replace(b".", b",dc="),
    ord("T"): lambda d, r: d.rstrip(b" \t\n\v\f\r"),
}


def apply_range(data: bytes, rng: Range, zero_padding: bool) -> bytes:
    if rng.offset < 0:
        if len(data) > -rng.offset:
            data = data[len(data) + rng.offset :]
    elif rng.offset > 0:
        data = data[rng.offset :]
    if rng.width == 0:
        return data
    if not zero_padding:
        width = rng.width if rng.width > 0 else len(data) + rng.width
        # A negative result wraps to a huge unsigned length in Dovecot: nothing is cut.
        return data[:width] if width >= 0 else data
    if len(data) < rng.width:
        return b"0" * (rng.width - len(data)) + data
    return data
