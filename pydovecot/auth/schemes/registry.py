"""The one table of password schemes, and name lookup with ``.b64``/``.base64``/``.hex`` suffixes."""

from __future__ import annotations

from types import MappingProxyType

from . import argon2, cram, crypt, md5, otp, pbkdf2, plain, scram, sha
from .errors import SchemeUnavailableError, UnknownSchemeError
from .model import Encoding, PasswordScheme

# The order `doveadm pw -l` prints in Dovecot 2.3.19 (its hash table's iteration order),
# kept so our listing is byte-identical.
LISTING_ORDER = (
    "SHA1", "SSHA512", "SCRAM-SHA-256", "BLF-CRYPT", "PLAIN", "HMAC-MD5", "OTP", "SHA512", "SHA",
    "DES-CRYPT", "CRYPT", "SSHA", "MD5-CRYPT", "PLAIN-MD4", "PLAIN-MD5", "SCRAM-SHA-1",
    "SHA512-CRYPT", "CLEAR", "CLEARTEXT", "ARGON2I", "ARGON2ID", "SSHA256", "MD5", "PBKDF2",
    "SHA256", "CRAM-MD5", "PLAIN-TRUNC", "SHA256-CRYPT", "SMD5", "DIGEST-MD5", "LDAP-MD5",
)

_FAMILIES = (sha.SCHEMES, plain.SCHEMES, md5.SCHEMES, cram.SCHEMES, crypt.SCHEMES, scram.SCHEMES,
             pbkdf2.SCHEMES, otp.SCHEMES, argon2.SCHEMES)


def _build() -> MappingProxyType[str, PasswordScheme]:
    by_name = {scheme.name: scheme for family in _FAMILIES for scheme in family}
    if set(by_name) != set(LISTING_ORDER):
        raise RuntimeError(f"scheme table and listing order disagree: {set(by_name) ^ set(LISTING_ORDER)}")
    return MappingProxyType({name: by_name[name] for name in LISTING_ORDER})


SCHEMES: MappingProxyType[str, PasswordScheme] = _build()

_SUFFIX_ENCODINGS = {"b64": Encoding.BASE64, "base64": Encoding.BASE64, "hex": Encoding.HEX}


def scheme_names() -> list[str]:
    """Names of the usable schemes in `doveadm pw -l` order."""
    return [name for name, scheme in SCHEMES.items() if scheme.available]


def lookup(name: str) -> tuple[PasswordScheme, Encoding, bool]:
    """(scheme, encoding, encoding_explicit) for "SCHEME" or "SCHEME.suffix", case-insensitively.

    Raises UnknownSchemeError for unknown names or suffixes, SchemeUnavailableError when the
    scheme's library is missing.
    """
    base, dot, suffix = name.partition(".")
    scheme = SCHEMES.get(base.upper())
    if scheme is None:
        raise UnknownSchemeError(name)
    if not scheme.available:
        raise SchemeUnavailableError(scheme.unavailable_reason)
    if not dot:
        return scheme, scheme.default_encoding, False
    encoding = _SUFFIX_ENCODINGS.get(suffix.lower())
    if encoding is None:
        raise UnknownSchemeError(name)
    return scheme, encoding, True


def is_alias(first: str, second: str) -> bool:
    """True when both names are the same scheme or share one generator (SHA and SHA1, PLAIN
    and CLEAR, CRAM-MD5 and HMAC-MD5, CRYPT and BLF-CRYPT, ...); suffixes are ignored."""
    first, second = first.partition(".")[0].upper(), second.partition(".")[0].upper()
    if not first or not second:
        return False
    if first == second:
        return True
    one, other = SCHEMES.get(first), SCHEMES.get(second)
    return one is not None and other is not None and one.generate is other.generate
