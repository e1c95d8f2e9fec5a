"""sql userdb: ``user_query`` (fields from the columns) and ``iterate_query``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.passdb.sql import iterate_sql, load_sql_conf
from pydovecot.auth.passdb.sql_backend import SqlBackend, SqlDriverConfLike, backend_for, lookup_rows

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class SqlUserdb:
    driver = "sql"

    def __init__(self, conf: SqlDriverConfLike, backend: SqlBackend | None = None) -> None:
        self.conf = conf
        self.backend = backend if backend is not None else backend_for(conf)

    @classmethod
    def from_args(cls, args: str) -> SqlUserdb:
        return cls(load_sql_conf(args.strip()))

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        rows = await lookup_rows(request, self.backend, "user_query", self.conf.user_query, "User")
        if rows is None:
            return UserdbResult.INTERNAL_FAILURE
        if not rows:
            request.log("info", "unknown user")
            return UserdbResult.USER_UNKNOWN
        for name, value in rows[0]:
            if name and value is not None:
                request.set_userdb_field(name, value)
        return UserdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return iterate_sql(self.backend, self.conf.iterate_query)

    async def close(self) -> None:
        await self.backend.close()
