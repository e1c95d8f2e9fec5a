"""What every userdb driver implements, and the factory that builds one from its settings."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydovecot.auth.passdb.interface import PassdbConfigError

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class UserdbResult(enum.Enum):
    """Dovecot's enum userdb_result."""

    OK = "ok"
    USER_UNKNOWN = "user_unknown"
    INTERNAL_FAILURE = "internal_failure"


@runtime_checkable
class Userdb(Protocol):
    """A user database: sets the user's fields with ``request.set_userdb_field``."""

    driver: str

    async def lookup(self, request: AuthRequest) -> UserdbResult: ...

    def iterate(self) -> AsyncIterator[str] | None:
        """All user names (``doveadm user -A``), or None when the driver cannot list them."""
        ...

    async def close(self) -> None: ...


def create_userdb(driver: str, args: str) -> Userdb:
    if driver == "passwd-file":
        from .passwd_file import PasswdFileUserdb

        return PasswdFileUserdb.from_args(args)
    if driver == "static":
        from .static import StaticUserdb

        return StaticUserdb.from_args(args)
    if driver == "sql":
        from .sql import SqlUserdb

        return SqlUserdb.from_args(args)
    if driver == "prefetch":
        from .prefetch import PrefetchUserdb

        return PrefetchUserdb()
    if driver == "passwd":
        from .passwd import PasswdUserdb

        return PasswdUserdb()
    if driver == "checkpassword":
        from .checkpassword import CheckpasswordUserdb

        return CheckpasswordUserdb.from_args(args)
    raise PassdbConfigError(f"Unknown userdb driver '{driver}'")
