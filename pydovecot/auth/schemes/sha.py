"""SHA-1/SHA-2 digests, plain (SHA, SHA1, SHA256, SHA512) and salted (SSHA, SSHA256, SSHA512).

The salted forms store ``digest(password + salt) + salt``; Dovecot generates 4-byte salts
but accepts any salt length when verifying.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from .errors import InvalidStoredPasswordError
from .model import Encoding, GenerateParams, PasswordScheme

SALT_LENGTH = 4


def _plain(algorithm: str):
    def generate(plaintext: bytes, params: GenerateParams) -> bytes:
        return hashlib.new(algorithm, plaintext).digest()

    return generate


def salted_digest(algorithm: str, plaintext: bytes, salt: bytes) -> bytes:
    """``digest(password + salt) + salt``: the stored raw form of the salted schemes."""
    return hashlib.new(algorithm, plaintext + salt).digest() + salt


def _salted(algorithm: str, scheme_name: str):
    digest_size = hashlib.new(algorithm).digest_size

    def generate(plaintext: bytes, params: GenerateParams) -> bytes:
        return salted_digest(algorithm, plaintext, secrets.token_bytes(SALT_LENGTH))

    def verify(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
        if len(raw) <= digest_size:
            raise InvalidStoredPasswordError(f"{scheme_name} password is too short")
        salt = raw[digest_size:]
        return hmac.compare_digest(hashlib.new(algorithm, plaintext + salt).digest(), raw[:digest_size])

    return generate, verify


_sha1 = _plain("sha1")
_ssha = _salted("sha1", "SSHA")
_ssha256 = _salted("sha256", "SSHA256")
_ssha512 = _salted("sha512", "SSHA512")

SCHEMES = (
    PasswordScheme("SHA", _sha1, Encoding.BASE64, raw_length=20),
    PasswordScheme("SHA1", _sha1, Encoding.BASE64, raw_length=20),
    PasswordScheme("SHA256", _plain("sha256"), Encoding.BASE64, raw_length=32),
    PasswordScheme("SHA512", _plain("sha512"), Encoding.BASE64, raw_length=64),
    PasswordScheme("SSHA", _ssha[0], Encoding.BASE64, verify=_ssha[1]),
    PasswordScheme("SSHA256", _ssha256[0], Encoding.BASE64, verify=_ssha256[1]),
    PasswordScheme("SSHA512", _ssha512[0], Encoding.BASE64, verify=_ssha512[1]),
)
