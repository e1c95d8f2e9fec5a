"""The whole server on an SQL passdb/userdb behind a cuttable TCP proxy to MariaDB: its config,
and the client exchange (IMAP LOGIN, POP3 USER/PASS, LMTP RCPT) asked while MySQL is up, cut and
restored. Shared by the test (our server) and the recorder (real Dovecot 2.3.19)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tempfail"))
from tempfail_support import (  # noqa: E402, I001 - also puts the drivers' support on the path
    CuttableProxy,
    create_database,
    database_name,
    drop_database,
    mariadb_reachable,
    private_database,
    require_mariadb,
)
from test_drivers_sql_mysql import SEED_SQL_CONF  # noqa: E402

from tests.support.conf import inet_listeners, sql_dbs  # noqa: E402
from tests.support.net import free_port  # noqa: E402

__all__ = ["CuttableProxy", "create_database", "database_name", "drop_database", "mariadb_reachable",
           "outage", "private_database", "require_mariadb", "write_config"]

USER, PASSWORD = "alice@example.test", "alice-seed"
MAIL_UID = 65534  # nobody: the seed's uid 10000 may not exist here

CONF = """\
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
ssl = no
auth_failure_delay = 0
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
{dbs}{listeners}"""

# What differs between runs: imap-login's "[host:date time]" suffix, LMTP's session ids.
_VOLATILE = (
    (re.compile(r" \[[^\]\s]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]"), " [HOST:TIME]"),
    (re.compile(r"<[^>]+@example\.test> [0-9A-Za-z+/]{22}"), "<alice@example.test> SESSION"),
)
TIMEOUT = 200.0  # seconds for one answer: real Dovecot holds a query for two minutes


def write_config(tmp: Path, database: str, proxy_port: int) -> tuple[Path, dict[str, int]]:
    """dovecot.conf under tmp, its SQL queries the seed's with homes under tmp/vmail."""
    lines = []
    for line in SEED_SQL_CONF.read_text().splitlines():
        if line.startswith("connect"):
            line = f"connect = host=127.0.0.1 port={proxy_port} dbname={database} user=root connect_timeout=3"
        lines.append(line.replace("/srv/vmail/", f"{tmp}/vmail/").replace("10000 AS", f"{MAIL_UID} AS"))
    (tmp / "dovecot-sql.conf.ext").write_text("\n".join(lines) + "\n")
    vmail = tmp / "vmail"
    vmail.mkdir(exist_ok=True)
    for path in (tmp, vmail):
        path.chmod(0o755)
    if os.getuid() == 0:
        os.chown(vmail, MAIL_UID, MAIL_UID)
    ports = {"imap": free_port(), "pop3": free_port(), "lmtp": free_port()}
    conf = tmp / "dovecot.conf"
    conf.write_text(CONF.format(tmp=tmp, dbs=sql_dbs(tmp / "dovecot-sql.conf.ext"), listeners=inet_listeners(imap=ports["imap"], imaps=0, pop3=ports["pop3"],
                                                               pop3s=0, lmtp=ports["lmtp"])))
    return conf, ports


def normalize(line: str) -> str:
    for pattern, text in _VOLATILE:
        line = pattern.sub(text, line)
    return line


async def _line(reader: asyncio.StreamReader) -> str:
    raw = await asyncio.wait_for(reader.readline(), TIMEOUT)
    if not raw:
        raise ConnectionError("server closed the connection")
    return raw.decode().rstrip("\r\n")


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5)
    except (OSError, TimeoutError):
        pass


async def imap_login(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _line(reader)
        writer.write(f'a LOGIN "{USER}" "{PASSWORD}"\r\n'.encode())
        while not (line := await _line(reader)).startswith("a "):
            pass
        writer.write(b"b LOGOUT\r\n")
        return line
    finally:
        await _close(writer)


async def pop3_login(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _line(reader)
        writer.write(f"USER {USER}\r\n".encode())
        await _line(reader)
        writer.write(f"PASS {PASSWORD}\r\n".encode())
        line = await _line(reader)
        writer.write(b"QUIT\r\n")
        return line
    finally:
        await _close(writer)


async def lmtp_rcpt(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _line(reader)
        writer.write(b"LHLO client.example.test\r\n")
        while not (await _line(reader)).startswith("250 "):
            pass
        writer.write(b"MAIL FROM:<sender@example.test>\r\n")
        await _line(reader)
        writer.write(f"RCPT TO:<{USER}>\r\n".encode())
        line = await _line(reader)
        writer.write(b"QUIT\r\n")
        return line
    finally:
        await _close(writer)


async def ask_all(ports: dict[str, int], raw: dict[str, str] | None = None) -> dict[str, str]:
    """The three logins at once (real Dovecot takes minutes to give up on a lost MySQL); the
    replies normalised, and as sent into ``raw``."""
    imap, pop3, lmtp = await asyncio.gather(imap_login(ports["imap"]), pop3_login(ports["pop3"]),
                                            lmtp_rcpt(ports["lmtp"]))
    replies = {"imap": imap, "pop3": pop3, "lmtp": lmtp}
    if raw is not None:
        raw.update(replies)
    return {key: normalize(line) for key, line in replies.items()}


async def outage(ports: dict[str, int], proxy: CuttableProxy) -> dict[str, object]:
    """Up, cut (asked twice: the server must keep serving), restored (asked until all succeed)."""
    out: dict[str, object] = {"up": await ask_all(ports)}
    await proxy.cut()
    raw: dict[str, str] = {}
    out["down"] = await ask_all(ports, raw)
    out["down_raw"] = raw
    out["down_again"] = await ask_all(ports)
    await proxy.start()
    attempts = 0
    while True:
        attempts += 1
        answers = await ask_all(ports)
        done = all(not text.startswith(("a NO", "-ERR", "4", "5")) for text in answers.values())
        if done or attempts >= 40:
            break
        await asyncio.sleep(0.5)
    out["restored"] = answers
    out["restored_attempts"] = attempts
    return out
