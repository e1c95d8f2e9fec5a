"""OTP (RFC 2289 one-time passwords): "<algorithm> <sequence> <seed> <hex of 64-bit hash>".

Verification regenerates the entry from the stored algorithm, sequence and seed and
compares the whole text case-insensitively, as Dovecot does.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from .errors import InvalidStoredPasswordError
from .md5 import md4_digest
from .model import GenerateParams, PasswordScheme

DEFAULT_SEQUENCE = 1024
MAX_SEED_LENGTH = 16
_INT_MAX = 2**31 - 1


def _fold_md(digest: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(digest[:8], digest[8:16], strict=True))


def _fold_sha1(digest: bytes) -> bytes:
    # RFC 2289 appendix A: XOR the five words down to two, then emit each byte-reversed.
    first = bytes(a ^ b ^ c for a, b, c in zip(digest[0:4], digest[8:12], digest[16:20], strict=True))
    second = bytes(a ^ b for a, b in zip(digest[4:8], digest[12:16], strict=True))
    return first[::-1] + second[::-1]


_ALGORITHMS = {
    "md4": lambda data: _fold_md(md4_digest(data)),
    "md5": lambda data: _fold_md(hashlib.md5(data).digest()),
    "sha1": lambda data: _fold_sha1(hashlib.sha1(data).digest()),
}


def otp_hash(algorithm: str, seed: bytes, plaintext: bytes, sequence: int) -> bytes:
    step = _ALGORITHMS[algorithm]
    result = step(seed + plaintext)
    for _ in range(sequence):
        result = step(result)
    return result


def format_otp(algorithm: str, sequence: int, seed: bytes, hashed: bytes) -> bytes:
    return b"%s %d %s %s" % (algorithm.encode(), sequence, seed, hashed.hex().encode())


_LWS = b" \t"


def parse_otp_entry(text: bytes) -> tuple[str, int, bytes]:
    """(algorithm, sequence, lower-cased seed) of a stored entry; raises when malformed.

    Mirrors Dovecot's parser: one separator after the algorithm, a decimal sequence and
    one blank, up to 16 alphanumeric seed characters then a space, then 16 hex digits
    (blanks between them allowed).
    """
    invalid = InvalidStoredPasswordError("Invalid OTP data in passdb")
    algo_end = next((i for i, c in enumerate(text) if c in _LWS), None)
    if algo_end is None:
        raise invalid
    algorithm = text[:algo_end].decode("ascii", "replace")
    if algorithm not in _ALGORITHMS:
        raise invalid
    number = re.match(rb"-?\d+", text[algo_end + 1 :])
    if number is None:
        raise invalid
    after = algo_end + 1 + number.end()
    sequence = int(number.group(0))
    # A negative sequence makes Dovecot loop ~2^32 times; refuse it instead.
    if not 0 <= sequence <= _INT_MAX or after >= len(text) or text[after] not in _LWS:
        raise invalid
    seed = re.match(rb"[A-Za-z0-9]{0,%d}" % MAX_SEED_LENGTH, text[after + 1 :]).group(0)  # type: ignore[union-attr]
    rest = text[after + 1 + len(seed) :]
    if not rest.startswith(b" "):
        raise invalid
    digits = 0
    for c in rest[1:]:
        if digits == MAX_SEED_LENGTH:
            break
        if chr(c) in "0123456789abcdefABCDEF":
            digits += 1
        elif c not in _LWS:
            raise invalid
    if digits < MAX_SEED_LENGTH:
        raise invalid
    return algorithm, sequence, seed.lower()


def generate_otp(plaintext: bytes, params: GenerateParams) -> bytes:
    seed = secrets.token_bytes(MAX_SEED_LENGTH // 2).hex().encode()
    return format_otp("sha1", DEFAULT_SEQUENCE, seed, otp_hash("sha1", seed, plaintext, DEFAULT_SEQUENCE))


def verify_otp(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    algorithm, sequence, seed = parse_otp_entry(raw)
    expected = format_otp(algorithm, sequence, seed, otp_hash(algorithm, seed, plaintext, sequence))
    return expected.lower() == raw.lower()


SCHEMES = (PasswordScheme("OTP", generate_otp, verify=verify_otp),)
