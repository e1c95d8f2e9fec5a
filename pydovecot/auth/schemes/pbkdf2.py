"""PBKDF2: "$1$<salt>$<rounds>$<hex PBKDF2-HMAC-SHA1, 20 bytes>".

The salt is used as the text it is written as (16 crypt-alphabet characters when
generated). ``-r`` sets the rounds directly; 0 means the default 5000.
"""

from __future__ import annotations

import hashlib
import hmac

from . import codec
from .errors import InvalidStoredPasswordError
from .model import GenerateParams, PasswordScheme

DEFAULT_ROUNDS = 5000
SALT_LENGTH = 16
KEY_LENGTH = 20


def pbkdf2_key(plaintext: bytes, salt: bytes, rounds: int) -> bytes:
    if rounds == 0:
        # PKCS#5 needs at least one round; Dovecot's verification then never matches.
        return b""
    return hashlib.pbkdf2_hmac("sha1", plaintext, salt, rounds, KEY_LENGTH)


def format_pbkdf2(salt: bytes, rounds: int, key: bytes) -> bytes:
    return b"$1$" + salt + b"$" + str(rounds).encode() + b"$" + codec.hex_encode(key)


def generate_pbkdf2(plaintext: bytes, params: GenerateParams) -> bytes:
    rounds = params.rounds or DEFAULT_ROUNDS
    salt = codec.random_salt(SALT_LENGTH).encode("ascii")
    return format_pbkdf2(salt, rounds, pbkdf2_key(plaintext, salt, rounds))


def verify_pbkdf2(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    if not raw.startswith(b"$1$"):
        raise InvalidStoredPasswordError("Invalid PBKDF2 passdb entry prefix")
    fields = raw[3:].split(b"$")
    if len(fields) != 3 or not fields[1].isdigit() or int(fields[1]) > 0xFFFFFFFF:
        raise InvalidStoredPasswordError("Invalid PBKDF2 passdb entry format")
    expected = codec.hex_decode(fields[2]) if len(fields[2]) == KEY_LENGTH * 2 else None
    if expected is None:
        raise InvalidStoredPasswordError("PBKDF2 hash not 160bit hex-encoded")
    return hmac.compare_digest(pbkdf2_key(plaintext, fields[0], int(fields[1])), expected)


SCHEMES = (PasswordScheme("PBKDF2", generate_pbkdf2, verify=verify_pbkdf2),)
