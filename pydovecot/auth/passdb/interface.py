"""What every passdb driver implements, and the factory that builds one from its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydovecot.auth.mechanisms.events import PassdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest

__all__ = ["Passdb", "PassdbResult", "PassdbConfigError", "create_passdb"]


class PassdbConfigError(Exception):
    """A passdb's args are wrong (Dovecot refuses to start with such a passdb)."""


@runtime_checkable
class Passdb(Protocol):
    """A password database.

    Both lookups set the fields the database returns on ``request`` (``request.set_field``)
    and answer with one PassdbResult; a temporary failure of the backend (database down,
    unreadable file) is INTERNAL_FAILURE, never USER_UNKNOWN.
    """

    driver: str  # "passwd-file", "sql"... (the log prefix when the section has no name)
    default_pass_scheme: str

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbResult: ...

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> tuple[PassdbResult, bytes | None]:
        """The stored credentials converted to ``scheme`` ("" = as stored), raw bytes."""
        ...

    def iterate(self) -> AsyncIterator[str] | None:
        """All user names (``doveadm -A``), or None when the driver cannot list them."""
        ...

    async def close(self) -> None: ...


def create_passdb(driver: str, args: str) -> Passdb:
    """The driver named ``driver`` configured by ``args`` (raises PassdbConfigError)."""
    if driver == "passwd-file":
        from .passwd_file import PasswdFilePassdb

        return PasswdFilePassdb.from_args(args)
    if driver == "static":
        from .static import StaticPassdb

        return StaticPassdb.from_args(args)
    if driver == "sql":
        from .sql import SqlPassdb

        return SqlPassdb.from_args(args)
    if driver == "passwd":
        from .passwd import PasswdPassdb

        return PasswdPassdb.from_args(args)
    if driver == "shadow":
        from .passwd import ShadowPassdb

        return ShadowPassdb.from_args(args)
    if driver == "checkpassword":
        from .checkpassword import CheckpasswordPassdb

        return CheckpasswordPassdb.from_args(args)
    raise PassdbConfigError(f"Unknown passdb driver '{driver}'")
