"""checkpassword userdb: ``args = /path/to/program`` run with AUTHORIZED=1 (no password check);
its ``userdb_*`` reply fields are the user's fields, exit 3 means an unknown user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.checkpassword import CheckpasswordDb, Status

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class CheckpasswordUserdb:
    driver = "checkpassword"

    def __init__(self, db: CheckpasswordDb) -> None:
        self.db = db

    @classmethod
    def from_args(cls, args: str) -> CheckpasswordUserdb:
        return cls(CheckpasswordDb(args.strip()))

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        reply = await self.db.call(request, None)
        if reply.status is Status.INTERNAL_FAILURE:
            return UserdbResult.INTERNAL_FAILURE
        if reply.status is Status.FAILURE:
            return UserdbResult.USER_UNKNOWN
        for name, value in reply.fields:
            if name.startswith("userdb_"):
                request.set_userdb_field(name[7:], value)
        return UserdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None
