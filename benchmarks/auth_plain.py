"""PLAIN authentications per second over the auth-client socket: ours against real Dovecot's.

    /work/main/.venv/bin/python benchmarks/auth_plain.py [-n 2000] [-c 8] [--rounds 5000]

A passwd-file with one SHA512-CRYPT user in a temp dir; our auth service runs as its own
process (``python -m pydovecot.auth``), real Dovecot 2.3.19 (if installed; no protocols, so no
network listeners) on a private base_dir. ``-c`` connections each send their share of the
``-n`` authentications one after another; the wall time of the whole batch gives auths/s.
A script, not a test: it prints figures and asserts nothing about them.
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

from pydovecot.auth import schemes
from tests.support import real_dovecot
from tests.support.conf import passwd_file_dbs
from tests.support.net import wait_paths

REAL_DOVECOT = real_dovecot.DOVECOT
PASSWORD = b"bench-Secret-1"


def write_config(directory: Path, rounds: int) -> Path:
    hashed = schemes.generate("SHA512-CRYPT", PASSWORD, rounds=rounds)
    (directory / "users").write_text(f"bench:{hashed}:1000:1000::/home/bench::\n")
    base = directory / "run"
    (base / "state").mkdir(parents=True)
    conf = directory / "dovecot.conf"
    conf.write_text(f"""protocols =
ssl = no
base_dir = {base}
state_dir = {base}/state
log_path = {base}/dovecot.log
auth_mechanisms = plain
{passwd_file_dbs(directory / "users", passdb_args="scheme=SHA512-CRYPT ")}""")
    # The real auth process runs unprivileged: it must be able to read the users file.
    directory.chmod(0o755)
    (directory / "users").chmod(0o644)
    return conf


async def _connection(path: Path, count: int) -> int:
    reader, writer = await asyncio.open_unix_connection(str(path))
    while not (await reader.readline()).startswith(b"DONE"):
        pass
    writer.write(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
    resp = base64.b64encode(b"\0bench\0" + PASSWORD).decode()
    ok = 0
    for rid in range(1, count + 1):
        writer.write(f"AUTH\t{rid}\tPLAIN\tservice=imap\tresp={resp}\n".encode())
        line = await reader.readline()
        ok += line.startswith(b"OK\t")
    writer.close()
    return ok


async def _batch(path: Path, total: int, connections: int) -> tuple[float, int]:
    shares = [total // connections + (i < total % connections) for i in range(connections)]
    start = time.perf_counter()
    results = await asyncio.gather(*(_connection(path, share) for share in shares))
    return time.perf_counter() - start, sum(results)


def measure(path: Path, total: int, connections: int) -> float:
    asyncio.run(_batch(path, min(total, 50), connections))  # warm-up
    elapsed, ok = asyncio.run(_batch(path, total, connections))
    if ok != total:
        raise RuntimeError(f"only {ok} of {total} authentications succeeded")
    return total / elapsed


def run_ours(conf: Path, total: int, connections: int) -> float:
    proc = subprocess.Popen([sys.executable, "-m", "pydovecot.auth", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = conf.parent / "run" / "auth-client"
        wait_paths(client)
        return measure(client, total, connections)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_real(conf: Path, total: int, connections: int) -> float | None:
    if not os.path.exists(REAL_DOVECOT):
        return None
    client = conf.parent / "run" / "auth-client"
    with real_dovecot.running(conf):
        wait_paths(client)
        return measure(client, total, connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="authentications per run")
    parser.add_argument("-c", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=5000, help="SHA512-CRYPT rounds (Dovecot's default 5000)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="pdbench", dir="/tmp"))
    try:
        conf = write_config(directory, args.rounds)
        ours = run_ours(conf, args.n, args.c)
        real = run_real(conf, args.n, args.c)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"PLAIN, SHA512-CRYPT rounds={args.rounds}, n={args.n}, connections={args.c}, cpus={os.cpu_count()}")
    print(f"pydovecot auth : {ours:8.1f} auths/s")
    if real is None:
        print("real Dovecot   : not installed")
    else:
        print(f"Dovecot 2.3.19 : {real:8.1f} auths/s")
        print(f"ratio ours/real: {ours / real:.2f}")


if __name__ == "__main__":
    main()
