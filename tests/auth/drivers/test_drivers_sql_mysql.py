"""sql passdb/userdb against the local MariaDB with the seed's Postfixadmin schema and queries.

A private database is created from examples/seed/schema.sql, the seed's
dovecot-sql.conf.ext queries run unchanged (only ``connect`` points at the test database),
and the database is dropped afterwards. Skips when MariaDB is unreachable, unless CI is set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydovecot.auth.fields import AuthRequest
from pydovecot.auth.lookup import AuthChain, PassdbEntry, UserdbEntry
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.sql import SqlPassdb
from pydovecot.auth.passdb.sql_backend import MysqlBackend, MysqlSettings
from pydovecot.auth.userdb.interface import UserdbResult
from pydovecot.auth.userdb.prefetch import PrefetchUserdb
from pydovecot.auth.userdb.sql import SqlUserdb
from pydovecot.config.ext.sql import load as load_sql_conf
from tests.support.mariadb import MYSQL_HOST, MYSQL_PORT, private_database, require_mariadb

# A verbatim copy of the seed's ../shared/seed/config/dovecot-sql.conf.ext: its queries run unchanged.
SEED_SQL_CONF = Path(__file__).resolve().parent / "goldens" / "seed-dovecot-sql.conf.ext"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    require_mariadb()
    if not SEED_SQL_CONF.exists():
        pytest.skip(f"{SEED_SQL_CONF} (the seed's SQL config) is missing")
    name = f"pydovecot_drivers_{os.getpid()}"
    # An inactive account: the seed's queries must not find it.
    inactive = (f"INSERT INTO {name}.mailbox (username, password, maildir, quota, local_part, domain, active)"
                " VALUES ('eve@example.test', '{PLAIN}evepw', 'example.test/eve/', 0, 'eve',"
                " 'example.test', 0)")
    with private_database(name, inactive):
        yield name


def _conf(database: str, port: int = MYSQL_PORT):  # type: ignore[no-untyped-def]
    seed = load_sql_conf(str(SEED_SQL_CONF))
    return dataclasses.replace(seed, connect=f"host={MYSQL_HOST} port={port} dbname={database} user=root "
                                             "connect_timeout=3")


def _backend(conf) -> MysqlBackend:  # type: ignore[no-untyped-def]
    return MysqlBackend(MysqlSettings.from_connect(conf.connect))


def _request(user: str, logs: list[str] | None = None) -> AuthRequest:
    def log(level: str, line: str) -> None:
        if logs is not None:
            logs.append(f"{level}: {line}")

    return AuthRequest(user=user, remote_ip="1.2.3.4", mechanism="PLAIN", db_name="sql",
                       log_callback=log, verbose=True)


def test_seed_password_query_verifies_and_prefetches(database: str) -> None:
    conf = _conf(database)

    async def run() -> tuple[PassdbResult, AuthRequest, PassdbResult, PassdbResult]:
        backend = _backend(conf)
        passdb = SqlPassdb(conf, backend)
        try:
            ok_request = _request("alice@example.test")
            ok = await passdb.verify_plain(ok_request, b"alice-seed")
            bad = await passdb.verify_plain(_request("alice@example.test"), b"wrong")
            unknown = await passdb.verify_plain(_request("nobody@example.test"), b"x")
        finally:
            await backend.close()
        return ok, ok_request, bad, unknown

    ok, request, bad, unknown = asyncio.run(run())
    assert ok is PassdbResult.OK
    assert request.userdb_prefetch_set
    assert request.userdb_reply is not None
    assert request.userdb_reply.as_dict() == {
        "home": "/srv/vmail/example.test/alice/", "uid": "10000", "gid": "10000",
        "quota_rule": "*:bytes=1073741824"}
    assert bad is PassdbResult.PASSWORD_MISMATCH
    assert unknown is PassdbResult.USER_UNKNOWN


def test_inactive_user_and_injection_are_unknown(database: str) -> None:
    conf = _conf(database)

    async def run() -> list[PassdbResult]:
        backend = _backend(conf)
        passdb = SqlPassdb(conf, backend)
        try:
            return [await passdb.verify_plain(_request("eve@example.test"), b"evepw"),
                    await passdb.verify_plain(_request("x' OR '1'='1"), b"alice-seed"),
                    await passdb.verify_plain(_request("alice@example.test' -- "), b"alice-seed")]
        finally:
            await backend.close()

    assert asyncio.run(run()) == [PassdbResult.USER_UNKNOWN] * 3


def test_seed_user_query_and_iterate_query(database: str) -> None:
    conf = _conf(database)

    async def run() -> tuple[UserdbResult, dict[str, str], UserdbResult, list[str]]:
        backend = _backend(conf)
        userdb = SqlUserdb(conf, backend)
        try:
            request = _request("bob@example.test")
            found = await userdb.lookup(request)
            missing = await userdb.lookup(_request("nobody@example.test"))
            users = [u async for u in userdb.iterate()]  # type: ignore[union-attr]
        finally:
            await backend.close()
        assert request.userdb_reply is not None
        return found, request.userdb_reply.as_dict(), missing, users

    found, fields, missing, users = asyncio.run(run())
    assert found is UserdbResult.OK
    assert fields == {"home": "/srv/vmail/example.test/bob/", "uid": "10000", "gid": "10000", "quota_rule": "*:bytes=0"}
    assert missing is UserdbResult.USER_UNKNOWN
    assert sorted(users) == ["alice@example.test", "bob@example.test"]


def test_seed_chain_sql_passdb_with_prefetch_userdb(database: str) -> None:
    conf = _conf(database)

    async def run() -> tuple[bool, UserdbResult | None, dict[str, str]]:
        backend = _backend(conf)
        chain = AuthChain([PassdbEntry(SqlPassdb(conf, backend))],
                          userdbs=[UserdbEntry(PrefetchUserdb()), UserdbEntry(SqlUserdb(conf, backend))])
        try:
            request = chain.new_request("alice@example.test", remote_ip="1.2.3.4", mechanism="PLAIN")
            outcome, userdb = await chain.authenticate(request, b"alice-seed")
        finally:
            await backend.close()
        return outcome.authenticated, userdb, request.userdb_reply.as_dict() if request.userdb_reply else {}

    authenticated, userdb, fields = asyncio.run(run())
    assert authenticated
    assert userdb is UserdbResult.OK
    assert fields["home"] == "/srv/vmail/example.test/alice/"


class CuttableProxy:
    """A TCP proxy to MariaDB that the test can cut (drop every connection and stop
    listening) and bring back on the same port."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(MYSQL_HOST, MYSQL_PORT)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            transport = writer.transport
            transport.abort()
        self.writers.clear()
        await self.server.wait_closed()


def test_database_down_is_internal_failure_then_recovers(database: str) -> None:
    async def run() -> list[tuple[PassdbResult, bool]]:
        proxy = CuttableProxy()
        await proxy.start()
        conf = _conf(database, proxy.port)
        backend = _backend(conf)
        chain = AuthChain([PassdbEntry(SqlPassdb(conf, backend))])
        logs: list[str] = []
        chain.log_callback = lambda level, line: logs.append(f"{level}: {line}")
        results = []

        async def attempt() -> None:
            request = chain.new_request("alice@example.test", remote_ip="1.2.3.4", mechanism="PLAIN")
            outcome = await chain.verify_plain(request, b"alice-seed")
            results.append((outcome.result, outcome.authenticated))

        try:
            await attempt()  # up
            await proxy.cut()
            await attempt()  # the pooled connection is dead
            await attempt()  # new connections are refused
            await proxy.start()
            await attempt()  # back
        finally:
            await backend.close()
            if proxy.server is not None:
                proxy.server.close()
        assert any(line.startswith("error: sql(alice@example.test,1.2.3.4): Password query failed: ")
                   for line in logs)
        return results

    assert asyncio.run(run()) == [
        (PassdbResult.OK, True),
        (PassdbResult.INTERNAL_FAILURE, False),
        (PassdbResult.INTERNAL_FAILURE, False),
        (PassdbResult.OK, True),
    ]
