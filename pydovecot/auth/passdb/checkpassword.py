"""checkpassword passdb: ``args = /path/to/program`` (see pydovecot.auth.checkpassword).

A login runs the program with the password; its reply fields become the passdb's fields
(``user=`` renames the user, ``userdb_*`` prefetch the userdb). A credentials lookup (the master
socket's PASS, CRAM-MD5...) runs it with AUTHORIZED=1 and takes the ``password`` field, if any.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.checkpassword import CheckpasswordDb, Reply, Status
from pydovecot.auth.mechanisms.events import PassdbResult

from .password import credentials_for

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class CheckpasswordPassdb:
    driver = "checkpassword"
    default_pass_scheme = "PLAIN"

    def __init__(self, db: CheckpasswordDb) -> None:
        self.db = db

    @classmethod
    def from_args(cls, args: str) -> CheckpasswordPassdb:
        return cls(CheckpasswordDb(args.strip()))

    def _set_fields(self, request: AuthRequest, reply: Reply) -> None:
        for name, value in reply.fields:
            request.set_field(name, value, self.default_pass_scheme)

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbResult:
        reply = await self.db.call(request, password)
        if reply.status is Status.INTERNAL_FAILURE:
            return PassdbResult.INTERNAL_FAILURE
        if reply.status is Status.FAILURE:
            return PassdbResult.PASSWORD_MISMATCH
        self._set_fields(request, reply)
        return PassdbResult.OK

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> tuple[PassdbResult, bytes | None]:
        reply = await self.db.call(request, None, scheme=scheme)
        if reply.status is Status.INTERNAL_FAILURE:
            return PassdbResult.INTERNAL_FAILURE, None
        if reply.status is Status.FAILURE:
            return PassdbResult.USER_UNKNOWN, None
        self._set_fields(request, reply)
        return await credentials_for(request, request.passdb_password, scheme, self.default_pass_scheme)

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None
