"""Throw-away MariaDB databases with the seed's Postfixadmin schema (examples/seed/schema.sql),
on the local server as root without a password."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "examples" / "seed" / "schema.sql"
MYSQL_HOST, MYSQL_PORT = "127.0.0.1", 3306


def mariadb_reachable() -> bool:
    try:
        with socket.create_connection((MYSQL_HOST, MYSQL_PORT), timeout=2):
            return True
    except OSError:
        return False


def require_mariadb(detail: str = "") -> None:
    """Skip when MariaDB is unreachable; fail instead when CI is set (CI must run these tests)."""
    import pytest

    if mariadb_reachable():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but MariaDB is not reachable on {MYSQL_HOST}:{MYSQL_PORT}")
    pytest.skip(f"MariaDB is not reachable on {MYSQL_HOST}:{MYSQL_PORT}{detail}")


def database_name(prefix: str) -> str:
    """Per-process, so parallel runs do not share a database."""
    return f"pydovecot_{prefix}_{os.getpid()}"


def create_database(name: str, *extra_sql: str) -> None:
    """The seed's schema renamed to ``name``, then ``extra_sql`` statements."""
    import pymysql
    from pymysql.constants import CLIENT

    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", client_flag=CLIENT.MULTI_STATEMENTS)
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA.read_text().replace("pydovecot_seed", name))
            while cur.nextset():
                pass
            for statement in extra_sql:
                cur.execute(statement)
        conn.commit()
    finally:
        conn.close()


def drop_database(name: str) -> None:
    import pymysql

    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        conn.close()


@contextlib.contextmanager
def private_database(name: str, *extra_sql: str) -> Iterator[str]:
    """``create_database`` for the ``with`` body, dropped afterwards (also after a failed create)."""
    try:
        create_database(name, *extra_sql)
        yield name
    finally:
        drop_database(name)
