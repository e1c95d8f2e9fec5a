"""MD4/MD5 digests: PLAIN-MD5, LDAP-MD5, PLAIN-MD4, salted SMD5 and DIGEST-MD5.

(MD5 and MD5-CRYPT are crypt() formats and live in ``crypt.py``.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from passlib.crypto.digest import lookup_hash

from .errors import InvalidStoredPasswordError
from .model import Encoding, GenerateParams, PasswordScheme

SMD5_SALT_LENGTH = 4


def md4_digest(data: bytes) -> bytes:
    # OpenSSL 3 hides MD4 in its legacy provider; passlib falls back to its own MD4.
    return lookup_hash("md4").const(data).digest()


def generate_plain_md5(plaintext: bytes, params: GenerateParams) -> bytes:
    return hashlib.md5(plaintext).digest()


def generate_plain_md4(plaintext: bytes, params: GenerateParams) -> bytes:
    return md4_digest(plaintext)


def smd5_digest(plaintext: bytes, salt: bytes) -> bytes:
    return hashlib.md5(plaintext + salt).digest() + salt


def generate_smd5(plaintext: bytes, params: GenerateParams) -> bytes:
    return smd5_digest(plaintext, secrets.token_bytes(SMD5_SALT_LENGTH))


def verify_smd5(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    if len(raw) <= 16:
        raise InvalidStoredPasswordError("SMD5 password is too short")
    return hmac.compare_digest(hashlib.md5(plaintext + raw[16:]).digest(), raw[:16])


def digest_md5_secret(plaintext: bytes, user: str) -> bytes:
    """MD5("user:realm:password") (RFC 2831's A1 secret).

    The user is split at its LAST '@' into user and realm, so "user@domain@realm" keeps
    "user@domain" as the name.
    """
    name, at, realm = user.rpartition("@")
    if not at:
        name, realm = user, ""
    return hashlib.md5(name.encode() + b":" + realm.encode() + b":" + plaintext).digest()


def generate_digest_md5(plaintext: bytes, params: GenerateParams) -> bytes:
    return digest_md5_secret(plaintext, params.user)


SCHEMES = (
    PasswordScheme("SMD5", generate_smd5, Encoding.BASE64, verify=verify_smd5),
    PasswordScheme("DIGEST-MD5", generate_digest_md5, Encoding.HEX, raw_length=16, needs_user=True),
    PasswordScheme("PLAIN-MD4", generate_plain_md4, Encoding.HEX, raw_length=16),
    PasswordScheme("PLAIN-MD5", generate_plain_md5, Encoding.HEX, raw_length=16),
    PasswordScheme("LDAP-MD5", generate_plain_md5, Encoding.BASE64, raw_length=16),
)
