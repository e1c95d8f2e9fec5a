"""SQL passdb/userdb behind a cuttable TCP proxy to MariaDB: the config, the private database
(the Postfixadmin schema of examples/seed, dropped afterwards) and the outage exchange."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "drivers"))
from e2e_support import auth_client, b64, master_client, write_conf  # noqa: E402
from test_drivers_sql_mysql import SEED_SQL_CONF, CuttableProxy  # noqa: E402

from tests.support.conf import sql_dbs  # noqa: E402
from tests.support.mariadb import (  # noqa: E402
    create_database,
    database_name,
    drop_database,
    mariadb_reachable,
    private_database,
    require_mariadb,
)

USER, PASSWORD = "alice@example.test", "alice-seed"

CONF = """protocols =
ssl = no
base_dir = {base}
auth_mechanisms = plain
auth_failure_delay = 0
auth_verbose = yes
{dbs}"""

__all__ = ["CuttableProxy", "create_database", "database_name", "drop_database", "mariadb_reachable",
           "outage_exchange", "private_database", "require_mariadb", "write_config"]


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
    setup = write_conf(directory, CONF, sockets=("auth-client", "auth-master"),
                       dbs=sql_dbs(directory / "dovecot-sql.conf.ext"))
    return setup.conf, setup.base_dir


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
