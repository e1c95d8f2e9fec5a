"""SQL-backed auth throughput: ours against real Dovecot's, in one run.

    /work/main/.venv/bin/python benchmarks/auth_sql.py [-n 1000] [-c 8]

A private MariaDB database (127.0.0.1:3306, root, no password) with the Postfixadmin schema and
users of examples/seed (SHA512-CRYPT, 5000 rounds), queried by the seed's dovecot-sql.conf.ext
(only ``connect`` changed); dropped afterwards. Two figures per server:

* PLAIN authentications per second on auth-client (password query + hash check),
* USER lookups per second on auth-master (user query only: the SQL path without hashing).

Our auth service runs as its own process (``python -m pydovecot.auth``), real Dovecot 2.3.19
(if installed; no protocols) on a private base_dir. A script: it prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support import real_dovecot
from tests.support.conf import auth_sockets, sql_dbs
from tests.support.mariadb import database_name, private_database
from tests.support.net import wait_paths

ROOT = Path(__file__).resolve().parent.parent
SEED_SQL_CONF = ROOT / "tests" / "auth" / "drivers" / "goldens" / "seed-dovecot-sql.conf.ext"
REAL_DOVECOT = real_dovecot.DOVECOT
USER, PASSWORD = "alice@example.test", "alice-seed"


def write_config(directory: Path, database: str) -> Path:
    sql_conf = directory / "dovecot-sql.conf.ext"
    lines = [f"connect = host=127.0.0.1 port=3306 dbname={database} user=root" if line.startswith("connect")
             else line for line in SEED_SQL_CONF.read_text().splitlines()]
    sql_conf.write_text("\n".join(lines) + "\n")
    base = directory / "run"
    (base / "state").mkdir(parents=True)
    conf = directory / "dovecot.conf"
    conf.write_text(f"""protocols =
ssl = no
base_dir = {base}
state_dir = {base}/state
log_path = {base}/dovecot.log
auth_mechanisms = plain
{sql_dbs(sql_conf)}{auth_sockets("auth-client", "auth-master")}""")
    directory.chmod(0o755)
    sql_conf.chmod(0o644)
    return conf


async def _auth_connection(path: Path, count: int) -> int:
    reader, writer = await asyncio.open_unix_connection(str(path))
    while not (await reader.readline()).startswith(b"DONE"):
        pass
    writer.write(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
    resp = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).decode()
    ok = 0
    for rid in range(1, count + 1):
        writer.write(f"AUTH\t{rid}\tPLAIN\tservice=imap\tresp={resp}\n".encode())
        ok += (await reader.readline()).startswith(b"OK\t")
    writer.close()
    return ok


async def _user_connection(path: Path, count: int) -> int:
    reader, writer = await asyncio.open_unix_connection(str(path))
    await reader.readline()
    await reader.readline()
    writer.write(b"VERSION\t1\t1\n")
    ok = 0
    for rid in range(1, count + 1):
        writer.write(f"USER\t{rid}\t{USER}\tservice=imap\n".encode())
        ok += (await reader.readline()).startswith(b"USER\t")
    writer.close()
    return ok


async def _batch(connect, path: Path, total: int, connections: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    shares = [total // connections + (i < total % connections) for i in range(connections)]
    start = time.perf_counter()
    results = await asyncio.gather(*(connect(path, share) for share in shares))
    return time.perf_counter() - start, sum(results)


def measure(base: Path, total: int, connections: int) -> tuple[float, float]:
    """(PLAIN auths/s, USER lookups/s)."""
    figures = []
    for connect, name in ((_auth_connection, "auth-client"), (_user_connection, "auth-master")):
        asyncio.run(_batch(connect, base / name, min(total, 50), connections))  # warm-up
        elapsed, ok = asyncio.run(_batch(connect, base / name, total, connections))
        if ok != total:
            raise RuntimeError(f"{name}: only {ok} of {total} answers were successes")
        figures.append(total / elapsed)
    return figures[0], figures[1]


def run_ours(conf: Path, total: int, connections: int) -> tuple[float, float]:
    proc = subprocess.Popen([sys.executable, "-m", "pydovecot.auth", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = conf.parent / "run"
        wait_paths(base / "auth-client", base / "auth-master")
        return measure(base, total, connections)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_real(conf: Path, total: int, connections: int) -> tuple[float, float] | None:
    if not os.path.exists(REAL_DOVECOT):
        return None
    base = conf.parent / "run"
    with real_dovecot.running(conf):
        wait_paths(base / "auth-client", base / "auth-master")
        return measure(base, total, connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="requests per run")
    parser.add_argument("-c", type=int, default=8, help="concurrent connections")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="pdsqlbench", dir="/tmp"))
    try:
        with private_database(database_name("bench")) as database:
            conf = write_config(directory, database)
            ours = run_ours(conf, args.n, args.c)
            real = run_real(conf, args.n, args.c)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"SQL (MariaDB) passdb+userdb, SHA512-CRYPT, n={args.n}, connections={args.c}, cpus={os.cpu_count()}")
    print(f"pydovecot auth : {ours[0]:8.1f} PLAIN auths/s   {ours[1]:8.1f} USER lookups/s")
    if real is None:
        print("real Dovecot   : not installed")
        return
    print(f"Dovecot 2.3.19 : {real[0]:8.1f} PLAIN auths/s   {real[1]:8.1f} USER lookups/s")
    print(f"ratio ours/real: {ours[0] / real[0]:.2f} (auth)      {ours[1] / real[1]:.2f} (user)")


if __name__ == "__main__":
    main()
