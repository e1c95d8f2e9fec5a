"""Verify, generate and look up credentials, as Dovecot's password-scheme API does.

Passwords are bytes (C strings in Dovecot, so anything after a NUL byte is ignored).
Stored passwords are text: "{SCHEME}data", a bare "$1$..." MD5-CRYPT, or data in the
passdb's default scheme.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from . import codec, registry
from .errors import (
    CredentialsUnavailableError,
    PasswordDecodeError,
    SchemeGenerateError,
)
from .model import Encoding, GenerateParams


def _c_string(password: bytes) -> bytes:
    return password.split(b"\0", 1)[0]


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text


def _params(user: str | None, rounds: int | None) -> GenerateParams:
    # rounds is an unsigned int in Dovecot; negative values wrap the same way.
    return GenerateParams(user=user, rounds=(rounds or 0) & 0xFFFFFFFF)


def split_scheme(stored: str | bytes, default_scheme: str) -> tuple[str, bytes]:
    """(scheme name, encoded data): the ``{SCHEME}`` prefix, else ``default_scheme``."""
    scheme, data = codec.split_scheme_prefix(_as_bytes(stored))
    return (scheme if scheme is not None else default_scheme), data


def decode(data: str | bytes, scheme_name: str) -> bytes:
    """Dovecot's ``password_decode``: the raw bytes of encoded data of a scheme.

    Without an explicit suffix, fixed-length schemes accept hex when the length is exactly
    twice the raw size and base64 otherwise.
    """
    scheme, encoding, explicit = registry.lookup(scheme_name)
    text = _as_bytes(data)
    guessed = encoding is not Encoding.NONE and scheme.raw_length and not explicit
    if guessed:
        encoding = Encoding.HEX if len(text) == scheme.raw_length * 2 else Encoding.BASE64
    raw: bytes | None = text
    if encoding is Encoding.HEX:
        raw = codec.hex_decode(text)
        if raw is None and not guessed:
            raise PasswordDecodeError("Input isn't valid HEX encoded data")
        if raw is None:
            encoding = Encoding.BASE64  # some lengths are both valid hex and base64
    if encoding is Encoding.BASE64:
        raw = codec.base64_decode(text)
        if raw is None:
            raise PasswordDecodeError("Input isn't valid base64 encoded data")
    assert raw is not None
    if scheme.raw_length and len(raw) != scheme.raw_length:
        raise PasswordDecodeError(f"Input length isn't valid ({len(raw)} instead of {scheme.raw_length})")
    return raw


def verify_raw(scheme_name: str, raw: bytes, password: bytes, *, user: str | None = None) -> bool:
    """Dovecot's ``password_verify`` on already decoded data."""
    scheme, _, _ = registry.lookup(scheme_name)
    plaintext, params = _c_string(password), _params(user, 0)
    if scheme.verify is not None:
        return scheme.verify(plaintext, raw, params)
    return hmac.compare_digest(_generate_raw(scheme.name, plaintext, params), raw)


def verify(stored: str | bytes, password: bytes, *, user: str | None = "", default_scheme: str = "PLAIN") -> bool:
    """Does ``password`` match the passdb's stored password?

    False for a wrong password. Raises UnknownSchemeError, PasswordDecodeError or
    InvalidStoredPasswordError (Dovecot's "Invalid password in passdb") when the stored
    data cannot be checked; SchemeUnavailableError when a needed library is missing.
    """
    scheme_name, data = split_scheme(stored, default_scheme)
    return verify_raw(scheme_name, decode(data, scheme_name), password, user=user)


def _generate_raw(scheme_name: str, plaintext: bytes, params: GenerateParams) -> bytes:
    scheme, _, _ = registry.lookup(scheme_name)
    if scheme.needs_user and params.user is None:
        raise SchemeGenerateError(f"{scheme.name.lower().replace('-', '_')}_generate(): username not given")
    return scheme.generate(plaintext, params)


def encode(raw: bytes, scheme_name: str) -> str:
    """Raw scheme bytes in the text encoding ``scheme_name`` (with any suffix) selects."""
    _, encoding, _ = registry.lookup(scheme_name)
    if encoding is Encoding.BASE64:
        raw = codec.base64_encode(raw)
    elif encoding is Encoding.HEX:
        raw = codec.hex_encode(raw)
    return raw.decode("utf-8", "surrogateescape")


def generate_encoded(scheme: str, password: bytes, *, user: str | None = None, rounds: int | None = None) -> str:
    """Dovecot's ``password_generate_encoded``: the hash in the scheme's encoding, no prefix."""
    return encode(_generate_raw(scheme, _c_string(password), _params(user, rounds)), scheme)


def generate(scheme: str, password: bytes, *, user: str | None = None, rounds: int | None = None) -> str:
    """"{SCHEME}hash" as `doveadm pw -s SCHEME` prints it (scheme name upper-cased).

    ``user`` is needed by DIGEST-MD5 ("user@realm"); ``rounds`` None/0 is the default.
    """
    return "{" + scheme.upper() + "}" + generate_encoded(scheme, password, user=user, rounds=rounds)


@dataclass(frozen=True)
class Credentials:
    """Raw credentials for a SASL mechanism: ``scheme`` is what ``raw`` actually is."""

    scheme: str
    raw: bytes


def credentials(stored: str | bytes, wanted_scheme: str, *, user: str | None = "",
                default_scheme: str = "PLAIN") -> Credentials:
    """What a mechanism needs (CRAM-MD5's context, DIGEST-MD5's secret, SCRAM's keys).

    ``wanted_scheme`` "" accepts whatever is stored. A stored scheme that is an alias of
    the wanted one is returned decoded; plaintext (PLAIN and its aliases) is converted to
    the wanted scheme; anything else raises CredentialsUnavailableError with Dovecot's
    "Requested X scheme, but we have only Y".
    """
    scheme_name, data = split_scheme(stored, default_scheme)
    raw = decode(data, scheme_name)
    if not wanted_scheme:
        return Credentials(scheme_name.partition(".")[0].upper(), raw)
    if registry.is_alias(scheme_name, wanted_scheme):
        return Credentials(wanted_scheme.upper(), raw)
    if not registry.is_alias(scheme_name, "PLAIN"):
        raise CredentialsUnavailableError(f"Requested {wanted_scheme} scheme, but we have only {scheme_name}")
    return Credentials(wanted_scheme.upper(), _generate_raw(wanted_scheme, _c_string(raw), _params(user, 0)))
