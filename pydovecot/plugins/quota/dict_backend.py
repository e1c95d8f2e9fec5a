"""The ``dict`` quota backend: usage kept under two dict keys, as Dovecot 2.3's quota-dict does.

    quota = dict:User quota::proxy::quota      (dict { quota = mysql:/etc/dovecot/dict-sql.conf.ext })
    quota = dict:User quota::file:/var/mail/%u/quota.dict

The backend arguments are ``[user]:[noenforcing:][ignoreunlimited:]<dict uri>``. Usage lives at
``priv/quota/storage`` (bytes) and ``priv/quota/messages``. A missing or negative value is
recalculated from the mailboxes and both keys are set; every save and expunge adds its change
with an atomic increment, and an increment of a key that does not exist yet (no SQL row)
recalculates instead. ``proxy:[socket]:NAME`` is served in-process from the ``dict { NAME = ... }``
setting instead of through a dict daemon: the same rows and files, one hop fewer.

Drivers: ``file:PATH`` (:mod:`pydovecot.dict.file`, shared with mailbox attributes) and
``mysql:MAP_FILE`` (a dict-sql map file read by ``pydovecot.config.ext.dict_sql``, through
PyMySQL; quota calls run in the storage worker threads, where blocking is allowed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydovecot.dict import DictError, resolve_uri
from pydovecot.dict.file import FileDict

from .usage import MailboxTotals, Usage

__all__ = ["DictError", "FileDict", "resolve_uri"]  # their home is pydovecot.dict; re-exported for callers

BYTES_KEY = "priv/quota/storage"
COUNT_KEY = "priv/quota/messages"
_OPTIONS = ("noenforcing", "ignoreunlimited", "hidden", "no-unset")


class DictStore(Protocol):
    def lookup(self, key: str) -> str | None: ...

    def set(self, values: Mapping[str, int]) -> None:
        """Set the keys in one transaction."""

    def increment(self, deltas: Mapping[str, int]) -> bool:
        """Add to the keys in one transaction; False (nothing changed) when a key does not exist."""


@dataclass(frozen=True)
class DictQuotaArgs:
    username: str
    options: tuple[str, ...]
    uri: str


def parse_args(setting_value: str) -> DictQuotaArgs:
    """``dict:NAME:USER:opt:...:URI`` -> its parts (Dovecot's dict_quota_init)."""
    parts = setting_value.split(":", 2)
    if len(parts) < 3 or ":" not in parts[2]:
        raise DictError("URI missing from parameters")
    username, _, rest = parts[2].partition(":")
    options = []
    while True:
        word, sep, tail = rest.partition(":")
        if sep and (word in _OPTIONS or word.startswith("ns=")):
            options.append(word)
            rest = tail
            continue
        return DictQuotaArgs(username, tuple(options), rest)


def open_store(uri: str, username: str) -> DictStore:
    driver, _, args = uri.partition(":")
    if driver == "file":
        return FileDict(args.split(":lock=")[0])
    if driver == "mysql":
        return SqlDict(args, username)
    raise DictError(f"dict driver {driver!r} is not supported by pydovecot (use file or mysql)")


class DictBackend:
    """A UsageBackend over a DictStore."""

    def __init__(self, store: DictStore, totals: MailboxTotals, counted: Callable[[str], bool], *,
                 vsizes: bool = False) -> None:
        self.store = store
        self._totals = totals
        self._counted = counted
        self._vsizes = vsizes

    def usage(self) -> Usage:
        size, count = _number(self.store.lookup(BYTES_KEY)), _number(self.store.lookup(COUNT_KEY))
        if size is None or count is None:
            return self.recalculate()
        return Usage(size, count)

    def changed(self, bytes_delta: int, messages_delta: int) -> None:
        deltas = {k: v for k, v in ((BYTES_KEY, bytes_delta), (COUNT_KEY, messages_delta)) if v}
        if deltas and not self.store.increment(deltas):
            self.recalculate()  # no row yet: Dovecot's DICT_COMMIT_RET_NOTFOUND path

    def recalculate(self) -> Usage:
        size = count = 0
        for vname, physical, virtual, messages in self._totals():
            if self._counted(vname):
                size += virtual if self._vsizes else physical
                count += messages
        self.store.set({BYTES_KEY: size, COUNT_KEY: count})
        return Usage(size, count)


def _number(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else -1
    except ValueError:
        return None
    return number if number >= 0 else None


# --- mysql: (dict-sql) --------------------------------------------------------------------------

def _connect_args(connect: str) -> dict[str, Any]:
    names = {"host": "host", "port": "port", "user": "user", "password": "password", "dbname": "database"}
    out: dict[str, Any] = {}
    for word in connect.split():
        key, _, value = word.partition("=")
        if key in names:
            out[names[key]] = int(value) if key == "port" else value
    return out


class SqlDict:
    """The quota keys on the tables of a dict-sql map file (private keys: one row per user)."""

    def __init__(self, map_path: str, username: str) -> None:
        from pydovecot.config.ext import dict_sql

        self.conf = dict_sql.load(map_path)
        self.username = username
        self._conn: Any = None

    def _map(self, key: str) -> Any:
        for entry in self.conf.maps:
            if entry.pattern == key and not entry.fields:
                return entry
        raise DictError(f"dict-sql: Invalid/unmapped key: {key}")

    def _connection(self) -> Any:
        import pymysql

        if self._conn is None:
            # FOUND_ROWS: an UPDATE adding 0 still counts its row, as Dovecot's mysql driver asks.
            self._conn = pymysql.connect(**_connect_args(self.conf.connect), connect_timeout=10,
                                         read_timeout=30, write_timeout=30, autocommit=False,
                                         client_flag=pymysql.constants.CLIENT.FOUND_ROWS)
        return self._conn

    def _run(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        import pymysql

        try:
            conn = self._connection()
            results = []
            with conn.cursor() as cur:
                for sql, params in statements:
                    cur.execute(sql, params)
                    results.append(cur.fetchone() if sql.startswith("SELECT") else cur.rowcount)
            conn.commit()
            return results
        except pymysql.MySQLError as exc:
            self.close()  # a broken connection is not reused: the next call reconnects
            raise DictError(f"dict-sql: {exc}") from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def lookup(self, key: str) -> str | None:
        entry = self._map(key)
        sql = f"SELECT {entry.value_fields[0]} FROM {entry.table} WHERE {entry.username_field} = %s"
        row = self._run([(sql, (self.username,))])[0]
        return None if row is None or row[0] is None else str(row[0])

    def _by_table(self, values: Mapping[str, int]) -> dict[tuple[str, str], list[tuple[str, int]]]:
        tables: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for key, value in values.items():
            entry = self._map(key)
            tables.setdefault((entry.table, entry.username_field), []).append((entry.value_fields[0], value))
        return tables

    def set(self, values: Mapping[str, int]) -> None:
        # As dict-sql merges the sets of one transaction on one table into one upsert.
        statements = []
        for (table, user_field), columns in self._by_table(values).items():
            names = ",".join([c for c, _ in columns] + [user_field])
            marks = ",".join(["%s"] * (len(columns) + 1))
            update = ",".join(f"{c}=%s" for c, _ in columns)
            params = tuple(v for _, v in columns) + (self.username,) + tuple(v for _, v in columns)
            statements.append((f"INSERT INTO {table} ({names}) VALUES ({marks}) ON DUPLICATE KEY UPDATE {update}",
                               params))
        self._run(statements)

    def increment(self, deltas: Mapping[str, int]) -> bool:
        statements = []
        for (table, user_field), columns in self._by_table(deltas).items():
            sets = ",".join(f"{c}={c}+%s" for c, _ in columns)
            statements.append((f"UPDATE {table} SET {sets} WHERE {user_field} = %s",
                               tuple(v for _, v in columns) + (self.username,)))
        return all(count > 0 for count in self._run(statements))
