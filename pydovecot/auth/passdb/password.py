"""Checking a client's password against what a passdb returned (auth_request_password_verify).

Shared by every driver: the rules for ``nopassword``, a password already verified by an earlier
passdb (``continue`` rules), a deny passdb, and the log lines for a mismatch or bad stored data.
Hashing runs off the event loop (``schemes.verify_async``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from pydovecot.auth.fields import PASSWORD_MISMATCH_MESSAGE
from pydovecot.auth.mechanisms.events import PassdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


def password_missing(request: AuthRequest) -> PassdbResult:
    """The passdb found the user but returned no password and no ``nopassword``."""
    if request.skip_password_check:
        return PassdbResult.OK
    request.log("info", "No password returned (and no nopassword)")
    return PassdbResult.PASSWORD_MISMATCH


async def verify_password(request: AuthRequest, password: bytes, stored: str | None,
                          default_scheme: str, *, deny: bool = False) -> PassdbResult:
    """OK, PASSWORD_MISMATCH or INTERNAL_FAILURE (stored data that cannot be checked)."""
    from pydovecot.auth import schemes  # lazy: the schemes package is heavy to import

    if request.skip_password_check:
        return PassdbResult.OK
    if deny or request.deny_passdb:
        return PassdbResult.PASSWORD_MISMATCH
    if "nopassword" in request.extra_fields:
        request.log("debug", "Allowing any password")
        return PassdbResult.OK
    if stored is None:
        return password_missing(request)
    scheme_name, _ = schemes.split_scheme(stored, default_scheme)
    user = request.original_user or request.user
    try:
        ok = await schemes.verify_async(stored, password, user=user, default_scheme=default_scheme)
    except schemes.UnknownSchemeError:
        request.log("error", f"Unknown scheme {scheme_name}")
        return PassdbResult.INTERNAL_FAILURE
    except schemes.PasswordDecodeError as exc:
        request.log("error", f"Password data is not valid for scheme {scheme_name}: {exc}")
        return PassdbResult.INTERNAL_FAILURE
    except schemes.PasswordSchemeError as exc:
        request.log("error", f"Invalid password in passdb: {exc}")
        return PassdbResult.INTERNAL_FAILURE
    if not ok:
        request.log("info", PASSWORD_MISMATCH_MESSAGE)
        return PassdbResult.PASSWORD_MISMATCH
    return PassdbResult.OK


async def credentials_for(request: AuthRequest, stored: str | None, wanted_scheme: str,
                          default_scheme: str) -> tuple[PassdbResult, bytes | None]:
    """The stored password as ``wanted_scheme`` credentials (passdb_handle_credentials)."""
    from pydovecot.auth import schemes

    if "noauthenticate" in request.extra_fields:
        return PassdbResult.OK, b""  # lookup.py turns this into "next passdb"
    if stored is None:
        if "nopassword" in request.extra_fields:
            return PassdbResult.OK, b""
        return password_missing(request), None
    try:
        creds = await schemes.credentials_async(stored, wanted_scheme, user=request.original_user or request.user,
                                                default_scheme=default_scheme)
    except schemes.CredentialsUnavailableError as exc:
        request.log("info", str(exc))
        return PassdbResult.SCHEME_NOT_AVAILABLE, None
    except schemes.UnknownSchemeError:
        request.log("error", f"Unknown scheme {schemes.split_scheme(stored, default_scheme)[0]}")
        return PassdbResult.SCHEME_NOT_AVAILABLE, None
    except schemes.PasswordSchemeError as exc:
        request.log("error", f"Invalid password in passdb: {exc}")
        return PassdbResult.INTERNAL_FAILURE, None
    return PassdbResult.OK, creds.raw


class StoredPasswordPassdb(ABC):
    """What every passdb that looks a stored password up does with it: drivers provide
    ``_lookup`` (which sets the request's password and fields) and ``default_pass_scheme``;
    verifying a plaintext password and exporting credentials are the same for all."""

    default_pass_scheme: str

    @abstractmethod
    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        """Finds the user and sets the stored password and fields on ``request``."""

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbResult:
        result = await self._lookup(request)
        if result is not PassdbResult.OK:
            return result
        return await verify_password(request, password, request.passdb_password, self.default_pass_scheme)

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> tuple[PassdbResult, bytes | None]:
        result = await self._lookup(request)
        if result is not PassdbResult.OK:
            return result, None
        return await credentials_for(request, request.passdb_password, scheme, self.default_pass_scheme)
