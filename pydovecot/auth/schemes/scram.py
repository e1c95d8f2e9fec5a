"""SCRAM-SHA-1 and SCRAM-SHA-256 stored keys (RFC 5802 / RFC 7677).

Stored as "iterations,base64(salt),base64(StoredKey),base64(ServerKey)". Dovecot 2.3
always generates 4096 iterations with a 16-byte salt (``-r`` does not change it) and
accepts 4096..INT_MAX when verifying. The SCRAM mechanism reads the same fields through
``parse_scram_credentials``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from . import codec
from .errors import InvalidStoredPasswordError
from .model import GenerateParams, PasswordScheme

DEFAULT_ITERATIONS = 4096
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 2**31 - 1
SALT_LENGTH = 16


@dataclass(frozen=True)
class ScramCredentials:
    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes


def scram_keys(algorithm: str, plaintext: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """(StoredKey, ServerKey) for a password. Passwords are used as given, not SASLprepped,
    as in Dovecot."""
    salted = hashlib.pbkdf2_hmac(algorithm, plaintext, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", algorithm).digest()
    server_key = hmac.new(salted, b"Server Key", algorithm).digest()
    return hashlib.new(algorithm, client_key).digest(), server_key


def format_scram(iterations: int, salt: bytes, stored_key: bytes, server_key: bytes) -> bytes:
    return b",".join(
        (str(iterations).encode(), codec.base64_encode(salt), codec.base64_encode(stored_key),
         codec.base64_encode(server_key))
    )


def _parse_uint(text: bytes) -> int | None:
    return int(text) if text.isdigit() else None


def parse_scram_credentials(algorithm: str, scheme_name: str, raw: bytes) -> ScramCredentials:
    digest_size = hashlib.new(algorithm).digest_size
    fields = raw.split(b",")
    if len(fields) != 4:
        raise InvalidStoredPasswordError(f"Invalid {scheme_name} passdb entry format")
    iterations = _parse_uint(fields[0])
    if iterations is None or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise InvalidStoredPasswordError(f"Invalid {scheme_name} iteration count in passdb")
    stored_key = codec.base64_decode(fields[2])
    if stored_key is None or len(stored_key) != digest_size:
        raise InvalidStoredPasswordError(f"Invalid {scheme_name} StoredKey in passdb")
    server_key = codec.base64_decode(fields[3])
    if server_key is None or len(server_key) != digest_size:
        raise InvalidStoredPasswordError(f"Invalid {scheme_name} ServerKey in passdb")
    # Dovecot decodes the salt without checking it.
    return ScramCredentials(iterations, codec.base64_decode_lenient(fields[1]), stored_key, server_key)


def _scheme(algorithm: str, name: str) -> PasswordScheme:
    def generate(plaintext: bytes, params: GenerateParams) -> bytes:
        salt = secrets.token_bytes(SALT_LENGTH)
        return format_scram(DEFAULT_ITERATIONS, salt, *scram_keys(algorithm, plaintext, salt, DEFAULT_ITERATIONS))

    def verify(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
        stored = parse_scram_credentials(algorithm, name, raw)
        stored_key, _ = scram_keys(algorithm, plaintext, stored.salt, stored.iterations)
        return hmac.compare_digest(stored_key, stored.stored_key)

    return PasswordScheme(name, generate, verify=verify)


SCHEMES = (_scheme("sha1", "SCRAM-SHA-1"), _scheme("sha256", "SCRAM-SHA-256"))
