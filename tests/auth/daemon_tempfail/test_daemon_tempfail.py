"""MySQL going away under the whole server: IMAP LOGIN, POP3 PASS and LMTP RCPT get Dovecot's
temporary-failure replies, the server keeps serving, and logins work again once MySQL is back.
The SQL passdb/userdb reach MariaDB through a TCP proxy the test cuts and restores; the
database (examples/seed's Postfixadmin schema) is private to the test and dropped afterwards.

goldens/outage.json holds real Dovecot 2.3.19's replies to the same exchange
(record_goldens.py)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import server as our_server
from tests.support.net import wait_port

sys.path.insert(0, str(Path(__file__).parent))
from daemon_tempfail_support import (  # noqa: E402
    CuttableProxy,
    database_name,
    outage,
    private_database,
    require_mariadb,
    write_config,
)

ROOT = Path(__file__).resolve().parents[3]
GOLDENS = Path(__file__).parent / "goldens"
START_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    require_mariadb(" (root, no password)")
    with private_database(database_name("daemon_tempfail")) as name:
        yield name


async def _run(tmp: Path, database: str) -> tuple[dict[str, object], str]:
    proxy = CuttableProxy()
    await proxy.start()
    conf, ports = write_config(tmp, database, proxy.port)
    proc = our_server.start(conf)
    try:
        for port in ports.values():
            await asyncio.to_thread(wait_port, port, proc, timeout=START_TIMEOUT)
        answers = await asyncio.wait_for(outage(ports, proxy), 120)
        assert proc.poll() is None, "the server died during the outage"
        return answers, (tmp / "dovecot.log").read_text()
    finally:
        await asyncio.to_thread(our_server.stop, proc, START_TIMEOUT)
        if proxy.server is not None:
            proxy.server.close()


_OURS: list[tuple[dict[str, object], str]] = []


def ours(database: str) -> tuple[dict[str, object], str]:
    if not _OURS:
        tmp = Path(tempfile.mkdtemp(prefix="pdt-dtf", dir="/tmp"))
        try:
            _OURS.append(asyncio.run(_run(tmp, database)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _OURS[0]


def test_outage_gives_temporary_failures_and_recovers(database: str) -> None:
    out, log = ours(database)
    for phase in ("up", "restored"):
        answers = out[phase]
        assert isinstance(answers, dict)
        assert answers["imap"].startswith("a OK [CAPABILITY ") and answers["imap"].endswith("] Logged in"), phase
        assert answers["pop3"] == "+OK Logged in.", phase
        assert answers["lmtp"] == "250 2.1.5 OK", phase
    for phase in ("down", "down_again"):  # asked twice: the server still serves after the first
        assert out[phase] == {
            "imap": "a NO [UNAVAILABLE] Temporary authentication failure. [HOST:TIME]",
            "pop3": "-ERR [SYS/TEMP] Temporary authentication failure. [HOST:TIME]",
            "lmtp": "451 4.3.0 <alice@example.test> Temporary internal error",
        }, phase
    assert out["restored_attempts"] == 1  # a new MySQL connection at once


def test_temporary_failure_names_this_host_and_local_time(database: str) -> None:
    """The suffix normalised away above: `[hostname:YYYY-MM-DD HH:MM:SS]` as the login processes
    write it (local time, this host's name); LMTP has none."""
    out, _log = ours(database)
    raw = out["down_raw"]
    assert isinstance(raw, dict)
    suffix = r" \[" + re.escape(socket.gethostname()) + r":\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]$"
    assert re.fullmatch(r"a NO \[UNAVAILABLE\] Temporary authentication failure\." + suffix, raw["imap"])
    assert re.fullmatch(r"-ERR \[SYS/TEMP\] Temporary authentication failure\." + suffix, raw["pop3"])
    stamp = raw["imap"][-20:-1]
    assert abs(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) - time.time()) < 600


def test_outage_is_logged(database: str) -> None:
    """The login processes name the temporary failure as Dovecot's do; logins before and after."""
    _out, log = ours(database)
    for service in ("imap-login", "pop3-login"):
        assert log.count(f"{service}: Info: Login: user=<alice@example.test>") == 2
        failed = [line for line in log.splitlines() if f"{service}: Info: Disconnected: Aborted login" in line]
        assert len(failed) == 2
        assert all("(auth service reported temporary failure): user=<alice@example.test>, method=PLAIN"
                   in line for line in failed), failed
    assert "Password query failed" in log


def test_same_replies_as_real_dovecot(database: str) -> None:
    golden = json.loads((GOLDENS / "outage.json").read_text())
    out, _log = ours(database)
    assert out["down"] == golden["down"]
    assert out["down_again"] == golden["down_again"]
    for phase in ("up", "restored"):
        assert out[phase]["pop3"] == golden[phase]["pop3"]  # type: ignore[index]
        assert out[phase]["lmtp"] == golden[phase]["lmtp"]  # type: ignore[index]
    assert out["restored_attempts"] == golden["restored_attempts"]
