"""Errors raised by the password schemes, with the same texts Dovecot logs.

A wrong password is not an error: ``verify`` returns False for it. These exceptions
are for stored data that cannot be checked at all (Dovecot's ``-1`` results), which
the auth service logs as "Invalid password in passdb: ..." and treats as a failure.
"""

from __future__ import annotations


class PasswordSchemeError(Exception):
    """Base class; ``str(error)`` is Dovecot's own message for the condition."""


class UnknownSchemeError(PasswordSchemeError):
    """The ``{SCHEME}`` (or its ``.encoding`` suffix) is not one we know."""

    def __init__(self, scheme: str) -> None:
        super().__init__("Unknown scheme")
        self.scheme = scheme


class PasswordDecodeError(PasswordSchemeError):
    """The stored text is not valid hex/base64, or decodes to the wrong length."""


class InvalidStoredPasswordError(PasswordSchemeError):
    """The decoded data is malformed for its scheme (e.g. "SSHA password is too short")."""


class SchemeUnavailableError(PasswordSchemeError):
    """The scheme needs a library (or library feature) this installation lacks."""


class SchemeGenerateError(PasswordSchemeError):
    """Generating failed the way it fails in Dovecot (e.g. ARGON2I with fewer than 3 rounds)."""


class CredentialsUnavailableError(PasswordSchemeError):
    """The passdb's stored scheme cannot produce the credentials a mechanism asked for."""
