"""sql passdb/userdb with the SQLite driver (stdlib sqlite3 on a worker thread)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from pydovecot.auth.fields import AuthRequest
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.sql import SqlPassdb
from pydovecot.auth.passdb.sql_backend import SqliteBackend, mysql_escape, parse_connect, sqlite_escape
from pydovecot.auth.userdb.interface import UserdbResult
from pydovecot.auth.userdb.sql import SqlUserdb


@dataclass(frozen=True)
class Conf:
    connect: str
    driver: str = "sqlite"
    default_pass_scheme: str = "PLAIN"
    password_query: str = ("SELECT username AS user, password, '/srv/' || maildir AS userdb_home, "
                           "nologin, NULL AS userdb_mail FROM mailbox WHERE username = '%u' AND active = 1")
    user_query: str = "SELECT '/srv/' || maildir AS home, 2000 AS uid, 2000 AS gid FROM mailbox WHERE username = '%u'"
    iterate_query: str = "SELECT local_part AS username, domain FROM mailbox"


@pytest.fixture
def conf(tmp_path: Path) -> Conf:
    path = tmp_path / "users.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE mailbox (username TEXT, password TEXT, maildir TEXT, local_part TEXT, domain TEXT,
                              active INT, nologin TEXT);
        INSERT INTO mailbox VALUES ('ann@ex.org', '{PLAIN}annpw', 'ex.org/ann/', 'ann', 'ex.org', 1, NULL);
        INSERT INTO mailbox VALUES ('o''neil@ex.org', 'oneilpw', 'ex.org/oneil/', 'o''neil', 'ex.org', 1, 'y');
        INSERT INTO mailbox VALUES ('dup@ex.org', 'a', 'x', 'dup', 'ex.org', 1, NULL);
        INSERT INTO mailbox VALUES ('dup@ex.org', 'b', 'y', 'dup', 'ex.org', 1, NULL);
    """)
    db.commit()
    db.close()
    return Conf(connect=str(path))


def _request(user: str, logs: list[str]) -> AuthRequest:
    return AuthRequest(user=user, mechanism="PLAIN", db_name="sql", verbose=True,
                       log_callback=lambda level, line: logs.append(f"{level}: {line}"))


def test_sqlite_passdb(conf: Conf) -> None:
    logs: list[str] = []

    async def run() -> dict[str, object]:
        backend = SqliteBackend(conf.connect)
        passdb = SqlPassdb(conf, backend)  # type: ignore[arg-type]
        try:
            ann = _request("ann@ex.org", logs)
            oneil = _request("o'neil@ex.org", logs)
            return {
                "ann": (await passdb.verify_plain(ann, b"annpw"), ann),
                "oneil": (await passdb.verify_plain(oneil, b"oneilpw"), oneil),
                "bad": await passdb.verify_plain(_request("ann@ex.org", logs), b"nope"),
                "unknown": await passdb.verify_plain(_request("zz@ex.org", logs), b"x"),
                "dup": await passdb.verify_plain(_request("dup@ex.org", logs), b"a"),
                "creds": await passdb.lookup_credentials(_request("ann@ex.org", logs), "PLAIN"),
            }
        finally:
            await backend.close()

    out = asyncio.run(run())
    result, ann = out["ann"]  # type: ignore[misc]
    assert result is PassdbResult.OK
    assert ann.userdb_reply.as_dict() == {"home": "/srv/ex.org/ann/"}  # NULL columns are skipped
    assert ann.userdb_prefetch_set  # ... but a NULL userdb_* column still counts for prefetch
    result, oneil = out["oneil"]  # type: ignore[misc]
    assert result is PassdbResult.OK  # the quote was escaped; the default scheme PLAIN applied
    assert oneil.extra_fields.visible() == {"nologin": "y"}
    assert out["bad"] is PassdbResult.PASSWORD_MISMATCH
    assert out["unknown"] is PassdbResult.USER_UNKNOWN
    assert out["dup"] is PassdbResult.INTERNAL_FAILURE
    assert out["creds"] == (PassdbResult.OK, b"annpw")
    assert "error: sql(dup@ex.org): Password query returned multiple matches" in logs
    assert "info: sql(zz@ex.org): unknown user" in logs
    assert "info: sql(ann@ex.org): Password mismatch" in logs


def test_sqlite_missing_password_column_and_bad_sql(tmp_path: Path, conf: Conf) -> None:
    logs: list[str] = []
    no_password = Conf(conf.connect, password_query="SELECT username AS user FROM mailbox WHERE username = '%u'")
    broken = Conf(conf.connect, password_query="SELECT nosuchcolumn FROM mailbox")

    async def run() -> list[PassdbResult]:
        backend = SqliteBackend(conf.connect)
        try:
            return [await SqlPassdb(no_password, backend).verify_plain(_request("ann@ex.org", logs), b"x"),  # type: ignore[arg-type]
                    await SqlPassdb(broken, backend).verify_plain(_request("ann@ex.org", logs), b"x")]  # type: ignore[arg-type]
        finally:
            await backend.close()

    assert asyncio.run(run()) == [PassdbResult.INTERNAL_FAILURE, PassdbResult.INTERNAL_FAILURE]
    assert "error: sql(ann@ex.org): Password query must return a field named 'password'" in logs
    assert any(line.startswith("error: sql(ann@ex.org): Password query failed: no such column") for line in logs)


def test_sqlite_userdb_and_iterate(conf: Conf) -> None:
    logs: list[str] = []

    async def run() -> tuple[UserdbResult, dict[str, str], UserdbResult, list[str]]:
        backend = SqliteBackend(conf.connect)
        userdb = SqlUserdb(conf, backend)  # type: ignore[arg-type]
        try:
            request = _request("o'neil@ex.org", logs)
            found = await userdb.lookup(request)
            missing = await userdb.lookup(_request("zz@ex.org", logs))
            users = [u async for u in userdb.iterate()]  # type: ignore[union-attr]
        finally:
            await backend.close()
        return found, request.userdb_reply.as_dict(), missing, users  # type: ignore[union-attr]

    found, fields, missing, users = asyncio.run(run())
    assert found is UserdbResult.OK
    assert fields == {"home": "/srv/ex.org/oneil/", "uid": "2000", "gid": "2000"}
    assert missing is UserdbResult.USER_UNKNOWN
    assert users == ["ann@ex.org", "o'neil@ex.org", "dup@ex.org", "dup@ex.org"]


@pytest.mark.parametrize(("raw", "mysql", "sqlite"), [
    ("plain", "plain", "plain"),
    ("o'neil", "o\\'neil", "o''neil"),
    ('a"b\\c', 'a\\"b\\\\c', 'a"b\\c'),
    ("nul\0nl\ncr\r\x1a", "nul\\0nl\\ncr\\r\\Z", "nul\0nl\ncr\r\x1a"),
])
def test_sql_escaping(raw: str, mysql: str, sqlite: str) -> None:
    assert mysql_escape(raw) == mysql
    assert sqlite_escape(raw) == sqlite


def test_connect_string_parsing() -> None:
    assert parse_connect('host=a host=b dbname=mail password="s e c" user=u') == {
        "host": ["a", "b"], "dbname": ["mail"], "password": ["s e c"], "user": ["u"]}
