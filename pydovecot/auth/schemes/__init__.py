"""Password schemes: every scheme Dovecot 2.3.19 knows, verified and generated the same way.

    verify("{SSHA}...", b"secret", user="jane@example.com", default_scheme="CRYPT") -> bool
    generate("SHA512-CRYPT", b"secret", rounds=10000) -> "{SHA512-CRYPT}$6$rounds=10000$..."
    credentials("{PLAIN}secret", "CRAM-MD5") -> Credentials("CRAM-MD5", raw 32 bytes)
    await verify_async(...), await generate_async(...): the same, off the event loop.

The table is ``registry.SCHEMES`` (one ``PasswordScheme`` per name); each family of
schemes lives in its own module (sha, md5, cram, crypt, scram, pbkdf2, otp, argon2, plain).
"""

from __future__ import annotations

from .api import (
    Credentials,
    credentials,
    decode,
    encode,
    generate,
    generate_encoded,
    split_scheme,
    verify,
    verify_raw,
)
from .errors import (
    CredentialsUnavailableError,
    InvalidStoredPasswordError,
    PasswordDecodeError,
    PasswordSchemeError,
    SchemeGenerateError,
    SchemeUnavailableError,
    UnknownSchemeError,
)
from .executor import credentials_async, generate_async, set_hashing_executor, verify_async
from .model import Encoding, GenerateParams, PasswordScheme
from .registry import SCHEMES, is_alias, lookup, scheme_names

__all__ = [
    "SCHEMES", "Credentials", "CredentialsUnavailableError", "Encoding", "GenerateParams",
    "InvalidStoredPasswordError", "PasswordDecodeError", "PasswordScheme", "PasswordSchemeError",
    "SchemeGenerateError", "SchemeUnavailableError", "UnknownSchemeError", "credentials",
    "credentials_async", "decode", "encode", "generate", "generate_async", "generate_encoded", "is_alias",
    "lookup", "scheme_names", "set_hashing_executor", "split_scheme", "verify", "verify_async",
    "verify_raw",
]
