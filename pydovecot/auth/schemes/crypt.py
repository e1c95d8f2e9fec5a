"""crypt(3) formats: CRYPT, BLF-CRYPT, DES-CRYPT, SHA256-CRYPT, SHA512-CRYPT, MD5-CRYPT and MD5.

Dovecot verifies CRYPT, DES-CRYPT and the SHA-2 crypts with the system's crypt(), so any
format libxcrypt knows matches under any of these names; "$2?$" hashes always go to its
bundled crypt_blowfish (BLF-CRYPT). We compute the common formats with bcrypt and passlib
and hand everything else ($y$ yescrypt, $gy$, $7$, _ BSDi, $sha1$, $md5$, $3$, $2x$) to the
C library through the stdlib ``crypt`` module when it exists (it was removed in Python
3.13; without it those formats do not match).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import warnings
from collections.abc import Callable

import bcrypt
from passlib.exc import PasslibHashWarning
from passlib.hash import des_crypt, md5_crypt, sha256_crypt, sha512_crypt

from . import codec
from .errors import InvalidStoredPasswordError
from .model import GenerateParams, PasswordScheme

BLF_ROUNDS_DEFAULT, BLF_ROUNDS_MIN, BLF_ROUNDS_MAX = 5, 4, 31
SHA2_ROUNDS_DEFAULT, SHA2_ROUNDS_MIN, SHA2_ROUNDS_MAX = 5000, 1000, 999_999_999
SHA2_SALT_LENGTH = 16
MD5_SALT_LENGTH = 8
# "$2y$05$" + 22 salt characters + the first hash character: what crypt_blowfish reads.
_BLF_SETTING_LENGTH = 30
# bcrypt and crypt_blowfish read at most 72 bytes of the key.
_BLF_KEY_LIMIT = 72
_BLF_SETTING = re.compile(rb"\$2([abxy])\$(\d\d)\$[./A-Za-z0-9]{22}")


def _system_crypt() -> Callable[[str, str], str | None] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt as stdlib_crypt  # noqa: PLC0415 - optional, deprecated module
        except ImportError:
            return None
    return stdlib_crypt.crypt


_libc_crypt = _system_crypt()
# passlib warns about stored settings glibc merely clamps ("rounds=999"); the verdict is
# what matters here, not the warning.
warnings.filterwarnings("ignore", category=PasslibHashWarning)


def libc_crypt(plaintext: bytes, setting: bytes) -> bytes | None:
    """The C library's crypt(), or None when unavailable or it rejects the setting."""
    if _libc_crypt is None:
        return None
    try:
        result = _libc_crypt(
            plaintext.decode("utf-8", "surrogateescape"), setting.decode("utf-8", "surrogateescape")
        )
    except (ValueError, UnicodeEncodeError):
        return None
    if result is None:
        return None
    return result.encode("utf-8", "surrogateescape")


def _clamp(rounds: int, default: int, low: int, high: int) -> int:
    if rounds == 0:
        return default
    return min(max(rounds, low), high)


# --- BLF-CRYPT (and CRYPT, which generates the same) -------------------------------------


def blowfish_crypt(plaintext: bytes, setting: bytes) -> bytes:
    """crypt_blowfish for "$2a$", "$2b$", "$2x$", "$2y$" settings; raises on a bad setting."""
    match = _BLF_SETTING.match(setting)
    if match is None or not BLF_ROUNDS_MIN <= int(match.group(2)) <= BLF_ROUNDS_MAX:
        raise InvalidStoredPasswordError("crypt_blowfish_rn failed: Invalid argument")
    key = plaintext[:_BLF_KEY_LIMIT]
    if match.group(1) == b"x":
        # "$2x$" reproduces an old sign-extension bug only the C implementation has.
        result = libc_crypt(key, match.group(0))
        if result is None:
            raise InvalidStoredPasswordError("crypt_blowfish_rn failed: Invalid argument")
        return result
    try:
        return bcrypt.hashpw(key, match.group(0))
    except ValueError as error:
        raise InvalidStoredPasswordError("crypt_blowfish_rn failed: Invalid argument") from error


def generate_blowfish(plaintext: bytes, params: GenerateParams) -> bytes:
    rounds = _clamp(params.rounds, BLF_ROUNDS_DEFAULT, BLF_ROUNDS_MIN, BLF_ROUNDS_MAX)
    # Dovecot writes the "$2y$" prefix; the algorithm is the same as "$2b$".
    setting = b"$2y$" + bcrypt.gensalt(rounds)[4:]
    return blowfish_crypt(plaintext, setting)


def verify_blowfish(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    if not raw:
        return False
    if len(raw) < _BLF_SETTING_LENGTH or not raw.startswith(b"$2") or not (
        b"a"[0] <= raw[2] <= b"z"[0] and raw[3:4] == b"$"
    ):
        raise InvalidStoredPasswordError("Password is not blowfish password")
    return hmac.compare_digest(blowfish_crypt(plaintext, raw[:_BLF_SETTING_LENGTH]), raw)


# --- generic crypt() verification -----------------------------------------------------------

_PASSLIB_BY_PREFIX = ((b"$1$", md5_crypt), (b"$5$", sha256_crypt), (b"$6$", sha512_crypt))
_DES_HASH = re.compile(rb"[./0-9A-Za-z]{13}")


def system_crypt_matches(plaintext: bytes, stored: bytes) -> bool:
    """crypt(plaintext, stored) == stored, as with libxcrypt.

    The C library comes first: it is what Dovecot uses, and for SHA-2 crypts it is about
    3.5x faster than passlib's pure-Python code (the crypt module releases the GIL, so the
    hashing pool runs in parallel).  passlib covers the usual formats where there is no C
    crypt (Python 3.13+); without either, other formats cannot match.
    """
    crypted = libc_crypt(plaintext, stored)
    if crypted is not None:
        return hmac.compare_digest(crypted, stored)
    handler = next((h for prefix, h in _PASSLIB_BY_PREFIX if stored.startswith(prefix)), None)
    if handler is None and _DES_HASH.fullmatch(stored):
        handler = des_crypt
    if handler is not None:
        try:
            return bool(handler.verify(plaintext, stored))
        except ValueError:
            pass  # e.g. "rounds=999": glibc clamps it, passlib refuses it
    return False


def verify_crypt(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    if len(raw) > 4 and raw[:2] == b"$2" and raw[3:4] == b"$":
        return verify_blowfish(plaintext, raw, params)
    if not raw:
        return False  # crypt() with an empty setting would "match"; Dovecot refuses it
    return system_crypt_matches(plaintext, raw)


def generate_des(plaintext: bytes, params: GenerateParams) -> bytes:
    return des_crypt.using(salt=codec.random_salt(2)).hash(plaintext).encode("ascii")


def _sha2_generator(handler):
    def generate(plaintext: bytes, params: GenerateParams) -> bytes:
        rounds = _clamp(params.rounds, SHA2_ROUNDS_DEFAULT, SHA2_ROUNDS_MIN, SHA2_ROUNDS_MAX)
        salt = codec.random_salt(SHA2_SALT_LENGTH)
        # Like glibc, "rounds=" is written only when it differs from the default 5000.
        return handler.using(salt=salt, rounds=rounds).hash(plaintext).encode("ascii")

    return generate


# --- MD5-CRYPT and MD5 -------------------------------------------------------------------------


def md5_crypt_hash(plaintext: bytes, setting: bytes) -> bytes:
    """Dovecot's own md5crypt: the salt is read after an optional "$1$", up to '$' or 8 chars."""
    body = setting[3:] if setting.startswith(b"$1$") else setting
    salt = body.split(b"$", 1)[0][:MD5_SALT_LENGTH]
    try:
        return md5_crypt.using(salt=salt.decode("ascii")).hash(plaintext).encode("ascii")
    except (ValueError, UnicodeDecodeError):
        # A salt outside crypt's alphabet; only the C implementation takes it.
        result = libc_crypt(plaintext, b"$1$" + salt + b"$")
        return result if result is not None else b""


def generate_md5_crypt(plaintext: bytes, params: GenerateParams) -> bytes:
    return md5_crypt_hash(plaintext, codec.random_salt(MD5_SALT_LENGTH).encode("ascii"))


def verify_md5_crypt(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    return hmac.compare_digest(md5_crypt_hash(plaintext, raw), raw)


def verify_md5(plaintext: bytes, raw: bytes, params: GenerateParams) -> bool:
    """{MD5} holds either an MD5-CRYPT string or a PLAIN-MD5 digest (hex or base64)."""
    if raw.startswith(b"$1$"):
        return verify_md5_crypt(plaintext, raw, params)
    digest = codec.hex_decode(raw) if len(raw) == 32 else None
    if digest is None:
        digest = codec.base64_decode(raw)
    if digest is None or len(digest) != 16:
        raise InvalidStoredPasswordError("Not a valid MD5-CRYPT or PLAIN-MD5 password")
    return hmac.compare_digest(hashlib.md5(plaintext).digest(), digest)


SCHEMES = (
    PasswordScheme("CRYPT", generate_blowfish, verify=verify_crypt),
    PasswordScheme("BLF-CRYPT", generate_blowfish, verify=verify_blowfish),
    PasswordScheme("DES-CRYPT", generate_des, verify=verify_crypt),
    PasswordScheme("SHA256-CRYPT", _sha2_generator(sha256_crypt), verify=verify_crypt),
    PasswordScheme("SHA512-CRYPT", _sha2_generator(sha512_crypt), verify=verify_crypt),
    PasswordScheme("MD5-CRYPT", generate_md5_crypt, verify=verify_md5_crypt),
    PasswordScheme("MD5", generate_md5_crypt, verify=verify_md5),
)
