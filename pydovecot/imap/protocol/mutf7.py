"""Modified UTF-7 mailbox names (RFC 3501 section 5.1.3), decoded to and encoded from str."""

from __future__ import annotations

import base64
import binascii


class InvalidMutf7(ValueError):
    """The name is not valid modified UTF-7."""


def decode_mutf7(name: bytes) -> str:
    """Decode a mailbox name; 8-bit bytes, bad base64 and non-canonical forms are errors."""
    out: list[str] = []
    i = 0
    while i < len(name):
        byte = name[i]
        if byte >= 0x80 or byte < 0x20 or byte == 0x7F:
            raise InvalidMutf7("8-bit or control character in mailbox name")
        if byte != 0x26:  # "&"
            out.append(chr(byte))
            i += 1
            continue
        end = name.find(b"-", i + 1)
        if end < 0:
            raise InvalidMutf7("unterminated &-sequence")
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            out.append(_decode_chunk(chunk))
        i = end + 1
    return "".join(out)


def _decode_chunk(chunk: bytes) -> str:
    b64 = chunk.replace(b",", b"/")
    try:
        raw = base64.b64decode(b64 + b"=" * (-len(b64) % 4), validate=True)
    except binascii.Error as exc:
        raise InvalidMutf7("bad base64") from exc
    if len(raw) % 2:
        raise InvalidMutf7("odd number of UTF-16 bytes")
    try:
        text = raw.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise InvalidMutf7("bad UTF-16") from exc
    # Printable ASCII must not be encoded, and re-encoding must give the same bytes back.
    if any(0x20 <= ord(ch) <= 0x7E for ch in text) or _encode_chunk(text) != chunk:
        raise InvalidMutf7("non-canonical encoding")
    return text


def _encode_chunk(text: str) -> bytes:
    return base64.b64encode(text.encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")


def encode_mutf7(name: str) -> bytes:
    """Encode a mailbox name for the wire."""
    out = bytearray()
    pending: list[str] = []
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            if pending:
                out += b"&" + _encode_chunk("".join(pending)) + b"-"
                pending.clear()
            out += b"&-" if ch == "&" else ch.encode("ascii")
        else:
            pending.append(ch)
    if pending:
        out += b"&" + _encode_chunk("".join(pending)) + b"-"
    return bytes(out)
