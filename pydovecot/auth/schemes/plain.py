"""Cleartext schemes: PLAIN, CLEAR, CLEARTEXT and PLAIN-TRUNC."""

from __future__ import annotations

import hmac

from .errors import InvalidStoredPasswordError
from .model import GenerateParams, PasswordScheme


def generate_plain(plaintext: bytes, params: GenerateParams) -> bytes:
    return plaintext


def verify_plain(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    return hmac.compare_digest(plaintext, raw)


def verify_plain_trunc(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    """``<length>-<password>``: a password stored truncated to <length> bytes by some
    other system matches any plaintext that starts with it."""
    digits = 0
    while digits < len(raw) and raw[digits : digits + 1].isdigit():
        digits += 1
    if digits == len(raw) or raw[digits : digits + 1] != b"-":
        raise InvalidStoredPasswordError("PLAIN-TRUNC missing length: prefix")
    trunc_len = int(raw[:digits]) if digits else 0
    stored = raw[digits + 1 :]
    if len(stored) == trunc_len and len(plaintext) >= trunc_len:
        return hmac.compare_digest(stored, plaintext[:trunc_len])
    return hmac.compare_digest(stored, plaintext)


SCHEMES = (
    PasswordScheme("PLAIN", generate_plain, verify=verify_plain),
    PasswordScheme("CLEAR", generate_plain, verify=verify_plain),
    PasswordScheme("CLEARTEXT", generate_plain, verify=verify_plain),
    # Generates plain text without the length prefix, exactly as Dovecot does (so
    # `doveadm pw -s PLAIN-TRUNC -V` fails there too).
    PasswordScheme("PLAIN-TRUNC", generate_plain, verify=verify_plain_trunc),
)
