"""SQL passdb/userdb behind a cuttable TCP proxy to MariaDB: the config, the private database
(the Postfixadmin schema of examples/seed, dropped afterwards) and the outage exchange."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "drivers"))
from e2e_support import auth_client, b64, master_client  # noqa: E402
from test_drivers_sql_mysql import SCHEMA, SEED_SQL_CONF, CuttableProxy  # noqa: E402

MYSQL_HOST, MYSQL_PORT = "127.0.0.1", 3306
USER, PASSWORD = "alice@example.test", "alice-seed"

CONF = """protocols =
ssl = no
base_dir = {base}
auth_mechanisms = plain
auth_failure_delay = 0
auth_verbose = yes
passdb {{
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
}}
userdb {{
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
  unix_listener auth-master {{
    mode = 0666
  }}
}}
"""

__all__ = ["CuttableProxy", "create_database", "drop_database", "mariadb_reachable", "outage_exchange",
           "write_config"]


def mariadb_reachable() -> bool:
    try:
        with socket.create_connection((MYSQL_HOST, MYSQL_PORT), timeout=2):
            return True
    except OSError:
        return False


def create_database(name: str) -> None:
    import pymysql
    from pymysql.constants import CLIENT

    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", client_flag=CLIENT.MULTI_STATEMENTS)
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA.read_text().replace("pydovecot_seed", name))
            while cur.nextset():
                pass
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


def write_config(directory: Path, database: str, port: int) -> tuple[Path, Path]:
    """(dovecot.conf, base_dir): the seed's SQL queries unchanged, ``connect`` to the proxy."""
    lines = []
    for line in SEED_SQL_CONF.read_text().splitlines():
        if line.startswith("connect"):
            line = f"connect = host=127.0.0.1 port={port} dbname={database} user=root connect_timeout=3"
        lines.append(line)
    (directory / "dovecot-sql.conf.ext").write_text("\n".join(lines) + "\n")
    (directory / "dovecot-sql.conf.ext").chmod(0o644)
    (directory / "users").write_text("")  # e2e_support.real_config expects one
    base = directory / "run"
    base.mkdir(exist_ok=True)
    conf = directory / "dovecot.conf"
    conf.write_text(CONF.format(base=base, dir=directory))
    return conf, base


ANSWER_TIMEOUT = 30.0  # seconds; real Dovecot holds queries while it reconnects


async def _ask(base_dir: Path, rid: int) -> list[str]:
    """One AUTH PLAIN on auth-client and one USER on auth-master."""
    client, _ = await auth_client(base_dir / "auth-client")
    resp = b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
    await client.send(f"AUTH\t{rid}\tPLAIN\tservice=imap\tresp={resp}\n")
    auth = (await asyncio.wait_for(client.reader.readline(), ANSWER_TIMEOUT)).decode().rstrip("\n")
    await client.close()
    master, _ = await master_client(base_dir / "auth-master")
    await master.send(f"USER\t{rid}\t{USER}\tservice=imap\n")
    user = (await asyncio.wait_for(master.reader.readline(), ANSWER_TIMEOUT)).decode().rstrip("\n")
    await master.close()
    return [auth, user]


async def outage_exchange(base_dir: Path, proxy: CuttableProxy,
                          sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> dict[str, object]:
    """Ask with MySQL up, cut it and ask twice, restore it and ask until the answer is OK again
    (bounded: the driver may wait before it reconnects)."""
    out: dict[str, object] = {"up": await _ask(base_dir, 1)}
    await proxy.cut()
    loop = asyncio.get_running_loop()
    start = loop.time()
    out["down_first"] = await _ask(base_dir, 2)
    out["down_seconds"] = round(loop.time() - start)
    out["down_again"] = await _ask(base_dir, 3)
    await proxy.start()
    attempts = 0
    while True:
        attempts += 1
        answer = await _ask(base_dir, 10 + attempts)
        if answer[0].startswith("OK") or attempts >= 40:
            break
        await sleep(0.5)
    out["restored"] = [line.replace(f"\t{10 + attempts}", "\tN", 1) for line in answer]
    out["restored_attempts"] = attempts
    return out


def database_name(prefix: str) -> str:
    return f"pydovecot_{prefix}_{os.getpid()}"
