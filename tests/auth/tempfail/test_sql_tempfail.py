"""MySQL going away under the SQL passdb/userdb: the auth answer is a temporary failure
(auth-client FAIL code=temp_fail, auth-master FAIL) and the service answers again once MySQL is
back. A TCP proxy in front of MariaDB is cut and restored; the database (examples/seed's
Postfixadmin schema) is private to the test and dropped afterwards.

The goldens (tempfail_record_goldens.py) hold real Dovecot 2.3.19's answers to the same exchange.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tempfail_support import (  # noqa: E402, I001 - also puts e2e_support on the path
    CuttableProxy,
    database_name,
    outage_exchange,
    private_database,
    require_mariadb,
    write_config,
)

from tests.support.auth import serving, short_tmpdir  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    require_mariadb(" (root, no password)")
    with private_database(database_name("tempfail")) as name:
        yield name


def _our_outage(database: str) -> dict[str, object]:
    async def main() -> dict[str, object]:
        with short_tmpdir("pdt") as directory:
            proxy = CuttableProxy()
            await proxy.start()
            conf, base = write_config(directory, database, proxy.port)
            try:
                async with serving(conf):
                    return await asyncio.wait_for(outage_exchange(base, proxy), 120)
            finally:
                if proxy.server is not None:
                    proxy.server.close()
    return asyncio.run(main())


_OURS: list[dict[str, object]] = []


def ours(database: str) -> dict[str, object]:
    if not _OURS:
        _OURS.append(_our_outage(database))
    return _OURS[0]


def test_mysql_outage_is_a_temporary_failure_and_recovers(database: str) -> None:
    out = ours(database)
    user_line = "USER\t{}\talice@example.test\thome=/srv/vmail/example.test/alice/\tuid=10000\tgid=10000" \
                "\tquota_rule=*:bytes=1073741824"
    # The trailing TAB: the password query's userdb_* fields, counted but hidden (as Dovecot does).
    assert out["up"] == ["OK\t1\tuser=alice@example.test\t", user_line.format(1)]
    assert out["down_first"] == ["FAIL\t2\tuser=alice@example.test\tcode=temp_fail", "FAIL\t2"]
    assert out["down_again"] == ["FAIL\t3\tuser=alice@example.test\tcode=temp_fail", "FAIL\t3"]
    assert out["restored"] == ["OK\tN\tuser=alice@example.test\t", user_line.format("N")]
    assert out["restored_attempts"] == 1  # a new connection at once, no reconnect backoff
    # Real Dovecot holds the queries until its 60 s query timeout; we fail at once.
    assert out["down_seconds"] < 30


def test_same_answers_as_real_dovecot(database: str) -> None:
    golden = json.loads((GOLDENS / "outage.json").read_text())
    out = ours(database)
    for key in ("up", "down_first", "down_again", "restored", "restored_attempts"):
        assert out[key] == golden[key], key
