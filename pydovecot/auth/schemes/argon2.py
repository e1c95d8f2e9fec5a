"""ARGON2I and ARGON2ID, in libsodium's "$argon2id$v=19$m=..,t=..,p=1$salt$hash" strings.

Argon2 comes from ``cryptography`` (its Argon2i/Argon2id KDFs, cryptography >= 44 built
with OpenSSL >= 3.2); without them the two schemes are marked unavailable: not listed (as
Dovecot lists them only when built with libsodium) and using them raises a clear error. Rounds ("opslimit") and memory follow
Dovecot 2.3.19 + libsodium: the round count picks libsodium's INTERACTIVE, MODERATE or
SENSITIVE memory limit; ARGON2ID raises fewer than 3 rounds to 3 (after choosing the
memory), ARGON2I refuses fewer than 3 like libsodium.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass

from .errors import SchemeGenerateError
from .model import GenerateParams, PasswordScheme

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2i, Argon2id
except ImportError:  # cryptography < 44
    Argon2i = Argon2id = None  # type: ignore[assignment,misc]

SALT_LENGTH = 16
HASH_LENGTH = 32
_MIB = 1024 * 1024


@dataclass(frozen=True)
class _Limits:
    """libsodium's (opslimit, memlimit in bytes) presets for one variant."""

    interactive: tuple[int, int]
    moderate: tuple[int, int]
    sensitive: tuple[int, int]

    def memory_for(self, rounds: int) -> int:
        if rounds >= self.sensitive[0]:
            return self.sensitive[1]
        if rounds >= self.moderate[0]:
            return self.moderate[1]
        return self.interactive[1]


_ARGON2I_LIMITS = _Limits((4, 32 * _MIB), (6, 128 * _MIB), (8, 512 * _MIB))
_ARGON2ID_LIMITS = _Limits((2, 64 * _MIB), (3, 256 * _MIB), (4, 1024 * _MIB))
_PHC = re.compile(
    rb"\$(argon2id|argon2i)(?:\$v=(\d+))?\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)"
)


def available() -> bool:
    if Argon2i is None:
        return False
    try:
        Argon2id(salt=b"\0" * 8, length=4, iterations=1, lanes=1, memory_cost=8).derive(b"")
    except Exception:  # UnsupportedAlgorithm when OpenSSL lacks Argon2
        return False
    return True


def _b64_nopad(raw: bytes) -> bytes:
    return base64.b64encode(raw).rstrip(b"=")


def _b64_decode_nopad(text: bytes) -> bytes:
    return base64.b64decode(text + b"=" * (-len(text) % 4))


def argon2_raw(variant: str, plaintext: bytes, salt: bytes, *, iterations: int, memory_kib: int,
               lanes: int, length: int) -> bytes:
    kdf_class = Argon2id if variant == "argon2id" else Argon2i
    return kdf_class(salt=salt, length=length, iterations=iterations, lanes=lanes,
                     memory_cost=memory_kib).derive(plaintext)


def format_argon2(variant: str, salt: bytes, digest: bytes, *, iterations: int, memory_kib: int,
                  lanes: int = 1) -> bytes:
    return b"$%s$v=19$m=%d,t=%d,p=%d$%s$%s" % (
        variant.encode(), memory_kib, iterations, lanes, _b64_nopad(salt), _b64_nopad(digest))


def _generate(variant: str, plaintext: bytes, rounds: int) -> bytes:
    limits = _ARGON2ID_LIMITS if variant == "argon2id" else _ARGON2I_LIMITS
    rounds = rounds or limits.interactive[0]
    memory_kib = limits.memory_for(rounds) // 1024
    if rounds < 3:
        if variant == "argon2i":
            raise SchemeGenerateError("crypto_pwhash_argon2i_str failed: Invalid argument")
        rounds = 3
    salt = secrets.token_bytes(SALT_LENGTH)
    digest = argon2_raw(variant, plaintext, salt, iterations=rounds, memory_kib=memory_kib, lanes=1,
                        length=HASH_LENGTH)
    return format_argon2(variant, salt, digest, iterations=rounds, memory_kib=memory_kib)


def verify_argon2(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    """libsodium's crypto_pwhash_str_verify: either variant under either scheme name; any
    string it cannot use (argon2d, other versions, bad fields) is a plain mismatch."""
    match = _PHC.fullmatch(raw)
    if match is None or int(match.group(2) or 16) != 19:
        return False
    variant = match.group(1).decode()
    try:
        salt, expected = _b64_decode_nopad(match.group(6)), _b64_decode_nopad(match.group(7))
        digest = argon2_raw(variant, plaintext, salt, iterations=int(match.group(4)),
                            memory_kib=int(match.group(3)), lanes=int(match.group(5)),
                            length=len(expected))
    except (ValueError, OverflowError):
        return False
    return hmac.compare_digest(digest, expected)


def generate_argon2i(plaintext: bytes, params: GenerateParams) -> bytes:
    return _generate("argon2i", plaintext, params.rounds)


def generate_argon2id(plaintext: bytes, params: GenerateParams) -> bytes:
    return _generate("argon2id", plaintext, params.rounds)


_AVAILABLE = available()
_MISSING = "needs the Argon2 KDFs of the 'cryptography' package (>= 44, built with OpenSSL >= 3.2)"

SCHEMES = (
    PasswordScheme("ARGON2I", generate_argon2i, verify=verify_argon2, available=_AVAILABLE,
                   unavailable_reason=f"ARGON2I {_MISSING}"),
    PasswordScheme("ARGON2ID", generate_argon2id, verify=verify_argon2, available=_AVAILABLE,
                   unavailable_reason=f"ARGON2ID {_MISSING}"),
)
