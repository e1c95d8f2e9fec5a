"""Text forms of stored passwords: the ``{SCHEME}`` prefix, hex and base64 as Dovecot reads them."""

from __future__ import annotations

import base64
import binascii
import re
import secrets

# Dovecot's base64 decoder skips these anywhere in the input.
_BASE64_WHITESPACE = re.compile(rb"[ \t\r\n]")
# Full 4-character groups; "=" padding only at the very end (Dovecot requires the padding).
_BASE64_STRICT = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX = re.compile(rb"(?:[0-9A-Fa-f]{2})*")

# The alphabet Dovecot draws crypt()/PBKDF2 salts from.
SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base64_decode(text: bytes) -> bytes | None:
    """Decode like Dovecot 2.3: whitespace ignored, padding required; None when invalid."""
    compact = _BASE64_WHITESPACE.sub(b"", text)
    if _BASE64_STRICT.fullmatch(compact) is None:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error:
        return None


def base64_decode_lenient(text: bytes) -> bytes:
    """Decode as much as is valid (Dovecot's ``t_base64_decode_str`` ignores errors)."""
    compact = _BASE64_WHITESPACE.sub(b"", text)
    valid = re.match(rb"[A-Za-z0-9+/]*", compact)
    body = valid.group(0) if valid else b""
    if len(body) % 4 == 1:  # a lone trailing character carries no whole byte
        body = body[:-1]
    return base64.b64decode(body + b"=" * (-len(body) % 4))


def base64_encode(raw: bytes) -> bytes:
    return base64.b64encode(raw)


def hex_decode(text: bytes) -> bytes | None:
    """Decode hex of either case; None for odd lengths or other characters."""
    if _HEX.fullmatch(text) is None:
        return None
    return bytes.fromhex(text.decode("ascii"))


def hex_encode(raw: bytes) -> bytes:
    return raw.hex().encode("ascii")


def split_scheme_prefix(stored: bytes) -> tuple[str | None, bytes]:
    """Dovecot's ``password_get_scheme``: the scheme named in front of a stored password.

    Returns (scheme, rest). A bare ``$1$salt$hash`` is recognised as MD5-CRYPT (anything
    after a further ``$`` is cut off); otherwise only ``{SCHEME}`` counts, and None means
    "no prefix" (the passdb's default scheme applies).
    """
    if stored.startswith(b"$1$"):
        salt_end = stored.find(b"$", 3)
        if salt_end >= 0:
            hash_end = stored.find(b"$", salt_end + 1)
            return "MD5-CRYPT", stored if hash_end < 0 else stored[:hash_end]
    if not stored.startswith(b"{"):
        return None, stored
    close = stored.find(b"}")
    if close < 0:
        return None, stored
    return stored[1:close].decode("utf-8", "surrogateescape"), stored[close + 1 :]


def random_salt(length: int) -> str:
    """``length`` characters from SALT_CHARS (64 symbols, so a byte mod 64 is uniform)."""
    return "".join(SALT_CHARS[b % 64] for b in secrets.token_bytes(length))
