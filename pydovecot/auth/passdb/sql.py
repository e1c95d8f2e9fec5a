"""sql passdb: ``password_query`` from ``dovecot-sql.conf.ext``.

Every returned column becomes a passdb field (``password``, ``userdb_home``, ``nologin``...);
a NULL column is skipped. No row is an unknown user; more than one row, or no ``password``
column, is an error; a failing database is an internal failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.mechanisms.events import PassdbResult

from .password import StoredPasswordPassdb, password_missing
from .sql_backend import SqlBackend, SqlDriverConfLike, backend_for, lookup_rows

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


def load_sql_conf(path: str) -> SqlDriverConfLike:
    from pydovecot.config.ext.sql import load

    return load(path)


async def iterate_sql(backend: SqlBackend, query: str) -> AsyncIterator[str]:
    """Users from ``iterate_query``: a ``user`` column, or ``username`` + ``domain``."""
    rows = await backend.query(query)
    for row in rows:
        cols = dict(row)
        if cols.get("user") is not None:
            yield cols["user"]  # type: ignore[misc]
        elif cols.get("username") is not None:
            domain = cols.get("domain")
            yield cols["username"] + ("@" + domain if domain else "")  # type: ignore[operator]


class SqlPassdb(StoredPasswordPassdb):
    driver = "sql"

    def __init__(self, conf: SqlDriverConfLike, backend: SqlBackend | None = None) -> None:
        self.conf = conf
        self.backend = backend if backend is not None else backend_for(conf)
        self.default_pass_scheme = conf.default_pass_scheme

    @classmethod
    def from_args(cls, args: str) -> SqlPassdb:
        return cls(load_sql_conf(args.strip()))

    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        rows = await lookup_rows(request, self.backend, "password_query", self.conf.password_query, "Password")
        if rows is None:
            return PassdbResult.INTERNAL_FAILURE
        if not rows:
            request.log("info", "unknown user")
            return PassdbResult.USER_UNKNOWN
        for name, value in rows[0]:
            if not name:
                continue
            if value is None:
                request.set_null_field(name)
            else:
                request.set_field(name, value, self.default_pass_scheme)
        names = {name for name, _ in rows[0]}
        if "password" not in names and "password_noscheme" not in names:
            request.log("error", "Password query must return a field named 'password'")
            return PassdbResult.INTERNAL_FAILURE
        if len(rows) > 1:
            request.log("error", "Password query returned multiple matches")
            return PassdbResult.INTERNAL_FAILURE
        if request.passdb_password is None and "nopassword" not in request.extra_fields:
            return password_missing(request)
        return PassdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return iterate_sql(self.backend, self.conf.iterate_query)

    async def close(self) -> None:
        await self.backend.close()
