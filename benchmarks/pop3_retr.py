"""POP3 download speed: login + STAT + RETR of every message + QUIT, ours against real Dovecot.

    /work/main/.venv/bin/python benchmarks/pop3_retr.py [-n 500] [--size 4000] [--sessions 5]

A Maildir of ``-n`` messages (about ``--size`` bytes each, LF line endings as MDAs write them)
under a temp dir, one passwd-file user; real Dovecot 2.3.19 (if installed) listens on a private
base_dir and a high loopback port, ours runs as its own process on another. The same blocking
client downloads the whole mailbox ``--sessions`` times from each (one command at a time, as
fetchmail does) and the best session's wall time is compared. Run as root (the Maildir belongs
to the vmail user, uid 10000). A script, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support import net, real_dovecot
from tests.support.conf import inet_listeners, passwd_file_dbs

REAL_DOVECOT = real_dovecot.DOVECOT
MAIL_UID = 10000
REAL_PORT = 21610
OUR_PORT = 21611


def write_setup(root: Path, count: int, size: int) -> Path:
    os.chmod(root, 0o755)
    for sub in ("run", "state"):
        (root / sub).mkdir()
    (root / "users").write_text(f"bench:{{PLAIN}}secret:{MAIL_UID}:{MAIL_UID}::{root}/mail/bench::\n")
    conf = root / "dovecot.conf"
    conf.write_text(f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{root}/mail/%u
{passwd_file_dbs(root / "users")}{inet_listeners(pop3=REAL_PORT, pop3s=0)}""")
    return conf


def fill(box: Path, count: int, size: int) -> None:
    shutil.rmtree(box, ignore_errors=True)
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
    for i in range(count):
        body = line * max(1, (size + i % 500) // len(line))
        data = b"From: a@example.com\nSubject: message %d\n\n.dot line\n" % i + body
        (box / "new" / f"{1700000000 + i}.M{i}P1.host").write_bytes(data)
    real_dovecot.chown_tree(box.parent, MAIL_UID)


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = bytearray()
        self.line()

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError("server closed")
            self.buf += chunk
        end = self.buf.index(b"\r\n") + 2
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    def command(self, text: str) -> bytes:
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def multiline(self) -> int:
        """Read a dot-terminated body; returns its size."""
        got = 0
        while True:
            end = self.buf.find(b"\r\n.\r\n")
            if end >= 0:
                got += end + 5
                del self.buf[: end + 5]
                return got
            keep = len(self.buf) - 4 if len(self.buf) > 4 else 0
            got += keep
            del self.buf[:keep]
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError("server closed")
            self.buf += chunk


def download_all(port: int) -> tuple[float, int]:
    start = time.perf_counter()
    client = Client(port)
    client.command("USER bench")
    assert client.command("PASS secret").startswith(b"+OK"), "login failed"
    count = int(client.command("STAT").split()[1])
    total = 0
    for number in range(1, count + 1):
        assert client.command(f"RETR {number}").startswith(b"+OK")
        total += client.multiline()
    client.command("QUIT")
    client.sock.close()
    return time.perf_counter() - start, total


def best(port: int, sessions: int) -> tuple[float, int]:
    runs = [download_all(port) for _ in range(sessions)]
    return min(r[0] for r in runs), runs[0][1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    net.wait_port(port, timeout=timeout, interval=0.1, error=RuntimeError)


def serve(conf: str, port: int) -> None:
    """Child process: our POP3 service on ``port``."""
    from pydovecot.auth.backend import service_from_settings
    from pydovecot.config import load
    from pydovecot.pop3.server import Pop3Service

    async def main() -> None:
        tree = load(conf)
        service = await Pop3Service.create(tree, auth_service=service_from_settings(tree.lookup(service="auth")))
        server = await service.serve_tcp("127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=500, help="messages in the mailbox")
    parser.add_argument("--size", type=int, default=4000, help="approximate message size")
    parser.add_argument("--sessions", type=int, default=5, help="downloads per server (best is kept)")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="pop3bench-") as tmp:
        root = Path(tmp)
        conf = write_setup(root, args.n, args.size)
        fill(root / "mail" / "bench", args.n, args.size)
        ours = subprocess.Popen([sys.executable, __file__, "--serve", str(conf), str(OUR_PORT)])
        real_started = False
        try:
            wait_port(OUR_PORT)
            our_time, octets = best(OUR_PORT, args.sessions)
            print(f"ours: {args.n} messages, {octets} octets: best {our_time * 1000:.1f} ms "
                  f"({args.n / our_time:.0f} RETR/s, {octets / our_time / 1e6:.1f} MB/s)")
            if os.path.exists(REAL_DOVECOT):
                fill(root / "mail" / "bench", args.n, args.size)
                real_dovecot.start(conf)
                real_started = True
                wait_port(REAL_PORT)
                real_time, real_octets = best(REAL_PORT, args.sessions)
                print(f"real: {args.n} messages, {real_octets} octets: best {real_time * 1000:.1f} ms "
                      f"({args.n / real_time:.0f} RETR/s, {real_octets / real_time / 1e6:.1f} MB/s)")
                print(f"ratio ours/real time: {our_time / real_time:.2f}x")
            else:
                print("real Dovecot not installed: no comparison")
        finally:
            ours.terminate()
            ours.wait(10)
            if real_started:
                real_dovecot.stop(conf, quiet=False)


if __name__ == "__main__":
    main()
