"""What a password scheme is: its name, how it generates and verifies, how it is encoded."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Encoding(enum.Enum):
    """How the raw bytes of a scheme are written after ``{SCHEME}``."""

    NONE = "none"
    BASE64 = "base64"
    HEX = "hex"


@dataclass(frozen=True)
class GenerateParams:
    """Per-call inputs besides the password (Dovecot's ``password_generate_params``).

    ``user`` None means "not given" (DIGEST-MD5 then refuses to generate). ``rounds`` 0
    means the scheme's default; like Dovecot it is an unsigned 32-bit value
    that each scheme clamps to its own limits.
    """

    user: str | None = None
    rounds: int = 0


# generate(plaintext, params) -> raw bytes (before the scheme's text encoding)
GenerateFn = Callable[[bytes, GenerateParams], bytes]
# verify(plaintext, raw, params) -> match?; raises InvalidStoredPasswordError for bad data
VerifyFn = Callable[[bytes, bytes, GenerateParams], bool]


@dataclass(frozen=True)
class PasswordScheme:
    """One entry of the registry.

    ``raw_length`` is the fixed decoded size (0 = variable); with it Dovecot guesses
    between hex and base64 when no ``.hex``/``.b64`` suffix is given. ``verify`` None
    means "generate again and compare". Schemes sharing the same ``generate`` function
    are aliases (SHA/SHA1, PLAIN/CLEAR, CRAM-MD5/HMAC-MD5, ...), as in Dovecot.
    """

    name: str
    generate: GenerateFn
    default_encoding: Encoding = Encoding.NONE
    raw_length: int = 0
    verify: VerifyFn | None = None
    needs_user: bool = False
    # False when a library it needs is missing: not listed, and using it raises
    # SchemeUnavailableError with ``unavailable_reason``.
    available: bool = True
    unavailable_reason: str = ""
