"""passwd-file userdb: uid, gid and home from the columns, plus the ``userdb_*`` extra fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.passdb.passwd_file import PasswdFileDb, PasswdFileError, add_extra_fields, parse_args

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class PasswdFileUserdb:
    driver = "passwd-file"

    def __init__(self, path: str, *, username_format: str = "%u") -> None:
        self.db = PasswdFileDb(path, username_format)

    @classmethod
    def from_args(cls, args: str) -> PasswdFileUserdb:
        path, username_format, _ = parse_args(args, allow_scheme=False)
        return cls(path, username_format=username_format)

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        try:
            pu = await self.db.lookup(request)
        except PasswdFileError as exc:
            request.log("error", str(exc))
            return UserdbResult.INTERNAL_FAILURE
        if pu is None:
            return UserdbResult.USER_UNKNOWN
        if pu.uid:
            request.set_userdb_field("uid", str(pu.uid))
        if pu.gid:
            request.set_userdb_field("gid", str(pu.gid))
        if pu.home is not None:
            request.set_userdb_field("home", pu.home)
        if not add_extra_fields(request, pu.extra_fields, None):
            return UserdbResult.INTERNAL_FAILURE
        return UserdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return None if self.db.templated else self.db.iterate()

    async def close(self) -> None:
        return None
