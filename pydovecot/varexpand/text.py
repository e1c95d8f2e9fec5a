"""Dovecot values are C strings: we expand UTF-8 bytes and hand back ``str`` losslessly."""

from __future__ import annotations

ENCODING = "utf-8"
ENCODING_ERRORS = "surrogateescape"


def to_bytes(text: str) -> bytes:
    return text.encode(ENCODING, ENCODING_ERRORS)


def to_text(data: bytes) -> str:
    return data.decode(ENCODING, ENCODING_ERRORS)
