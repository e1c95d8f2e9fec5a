"""The SQL connections behind the sql passdb and userdb: MySQL/MariaDB and SQLite.

``backend_for(conf)`` returns one shared backend per (driver, connect) pair, as Dovecot shares
one connection pool between a passdb and a userdb reading the same ``dovecot-sql.conf.ext``.

* MySQL (``driver = mysql``): aiomysql, a small pool, created lazily. A connection that fails
  is thrown away, so the next query reconnects: a database that was down is used again as soon
  as it is back. Every failure (refused, dropped, timed out, SQL error) raises SqlFailure,
  which the drivers turn into an internal failure (never "unknown user").
* SQLite (``driver = sqlite``): the stdlib sqlite3 module on one worker thread that owns the
  connection, so the event loop never blocks on it.

Values are %-expanded into queries with the driver's escaping (``escape``), as Dovecot does:
MySQL's mysql_real_escape_string rules, SQLite's doubled quote.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

Row = list[tuple[str, str | None]]  # (column name, value) in the query's column order


class SqlFailure(Exception):
    """The query could not be run (connection refused or lost, timeout, SQL error)."""


class SqlBackend(Protocol):
    driver: str

    def escape(self, value: str) -> str: ...

    async def query(self, sql: str) -> list[Row]: ...

    async def close(self) -> None: ...


class SqlDriverConfLike(Protocol):
    """What we read from ``pydovecot.config.ext.sql.SqlDriverConf``."""

    driver: str
    connect: str
    default_pass_scheme: str
    password_query: str
    user_query: str
    iterate_query: str


_MYSQL_ESCAPES = {"\0": "\\0", "\n": "\\n", "\r": "\\r", "\\": "\\\\", "'": "\\'", '"': '\\"', "\x1a": "\\Z"}


def mysql_escape(value: str) -> str:
    """mysql_real_escape_string for a utf8 connection."""
    return "".join(_MYSQL_ESCAPES.get(ch, ch) for ch in value)


def sqlite_escape(value: str) -> str:
    return value.replace("'", "''")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def parse_connect(connect: str) -> dict[str, list[str]]:
    """``host=a host=b dbname=x password="a b"`` -> {"host": ["a", "b"], ...}."""
    out: dict[str, list[str]] = {}
    text = connect.strip()
    i = 0
    while i < len(text):
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            break
        eq = text.find("=", i)
        if eq < 0:
            out.setdefault(text[i:].split()[0], []).append("")
            break
        key = text[i:eq]
        i = eq + 1
        if i < len(text) and text[i] == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            value = text[i + 1:end]
            i = end + 1
        else:
            end = text.find(" ", i)
            end = len(text) if end < 0 else end
            value = text[i:end]
            i = end
        out.setdefault(key, []).append(value)
    return out


@dataclass
class MysqlSettings:
    host: str = "localhost"
    port: int = 3306
    unix_socket: str | None = None
    user: str | None = None
    password: str = ""
    dbname: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @classmethod
    def from_connect(cls, connect: str) -> MysqlSettings:
        params = parse_connect(connect)
        out = cls()
        host = params.get("host", ["localhost"])[0]
        if host.startswith("/"):
            out.unix_socket = host
        else:
            out.host = host
        if "port" in params:
            out.port = int(params["port"][0])
        out.user = params.get("user", [None])[0]
        out.password = params.get("password", [""])[0]
        out.dbname = params.get("dbname", [None])[0]
        if "connect_timeout" in params:
            out.connect_timeout = float(params["connect_timeout"][0])
        if "read_timeout" in params:
            out.read_timeout = float(params["read_timeout"][0])
        return out


class MysqlBackend:
    driver = "mysql"

    def __init__(self, settings: MysqlSettings, *, max_connections: int = 5) -> None:
        self.settings = settings
        self.max_connections = max_connections
        self._pool: object | None = None
        self._pool_lock = asyncio.Lock()

    def escape(self, value: str) -> str:
        return mysql_escape(value)

    async def _get_pool(self):  # type: ignore[no-untyped-def]
        import aiomysql

        async with self._pool_lock:
            if self._pool is None:
                s = self.settings
                self._pool = await aiomysql.create_pool(
                    host=s.host, port=s.port, unix_socket=s.unix_socket, user=s.user,
                    password=s.password, db=s.dbname, minsize=0, maxsize=self.max_connections,
                    connect_timeout=s.connect_timeout, autocommit=True, charset="utf8mb4",
                )
            return self._pool

    async def query(self, sql: str) -> list[Row]:
        import aiomysql
        import pymysql

        pool = await self._get_pool()
        try:
            conn = await asyncio.wait_for(pool.acquire(), self.settings.connect_timeout)
        except (TimeoutError, OSError, pymysql.err.Error) as exc:
            raise SqlFailure(_describe(exc)) from exc
        try:
            async with conn.cursor(aiomysql.Cursor) as cur:
                await asyncio.wait_for(cur.execute(sql), self.settings.read_timeout)
                names = [d[0] for d in (cur.description or ())]
                raw_rows = await cur.fetchall()
        except (TimeoutError, OSError, pymysql.err.Error, RuntimeError) as exc:
            # A broken connection must not go back to the pool: the next query reconnects.
            conn.close()
            pool.release(conn)
            raise SqlFailure(_describe(exc)) from exc
        pool.release(conn)
        return [[(name, _text(value)) for name, value in zip(names, row, strict=True)] for row in raw_rows]

    async def close(self) -> None:
        pool = self._pool
        self._pool = None
        if pool is not None:
            pool.close()  # type: ignore[attr-defined]
            await pool.wait_closed()  # type: ignore[attr-defined]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "Query timed out"
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return f"{args[1]}"
    return str(exc) or type(exc).__name__


class SqliteBackend:
    driver = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._local = threading.local()

    def escape(self, value: str) -> str:
        return sqlite_escape(value)

    def _run(self, sql: str) -> list[Row]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path)
            self._local.conn = conn
        cur = conn.execute(sql)
        names = [d[0] for d in (cur.description or ())]
        rows = cur.fetchall()
        conn.commit()
        return [[(name, _text(value)) for name, value in zip(names, row, strict=True)] for row in rows]

    async def query(self, sql: str) -> list[Row]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._run, sql)
        except sqlite3.Error as exc:
            raise SqlFailure(str(exc)) from exc

    async def close(self) -> None:
        def _close() -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
                self._local.conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, _close)
        self._executor.shutdown(wait=False)


_BACKENDS: dict[tuple[str, str], SqlBackend] = {}


async def lookup_rows(request, backend: SqlBackend, setting: str, template: str,
                      failure: str) -> list | None:  # type: ignore[no-untyped-def,type-arg]
    """Expands a lookup query for ``request`` and runs it; None (logged) when that fails,
    which the drivers answer as an internal failure.  ``setting`` names the query in the
    expansion error ("password_query"), ``failure`` in the query error ("Password")."""
    query, error = request.expand(template, backend.escape)
    if error is not None:
        request.log("error", f"Failed to expand {setting}={template}: {error}")
        return None
    request.log("debug", f"query: {query}")
    try:
        return await backend.query(query)
    except SqlFailure as exc:
        request.log("error", f"{failure} query failed: {exc}")
        return None


def backend_for(conf: SqlDriverConfLike) -> SqlBackend:
    """The shared backend for a sql conf file's driver and connect string."""
    key = (conf.driver, conf.connect)
    backend = _BACKENDS.get(key)
    if backend is None:
        backend = make_backend(conf.driver, conf.connect)
        _BACKENDS[key] = backend
    return backend


def make_backend(driver: str, connect: str) -> SqlBackend:
    if driver == "mysql":
        return MysqlBackend(MysqlSettings.from_connect(connect))
    if driver == "sqlite":
        return SqliteBackend(connect.strip())
    raise ValueError(f"Unsupported SQL driver '{driver}' (supported: mysql, sqlite)")


def forget_backend(backend: SqlBackend) -> None:
    for key, value in list(_BACKENDS.items()):
        if value is backend:
            del _BACKENDS[key]
