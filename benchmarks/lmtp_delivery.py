"""LMTP deliveries per second and p99 latency: ours against real Dovecot 2.3.19's lmtp.

    /work/main/.venv/bin/python benchmarks/lmtp_delivery.py [-n 300] [--conns 1 4]

One temp config (tests/lmtp/harness.py) read by both: passwd-file users, Maildir, mail_fsync =
always. Real Dovecot runs its lmtp service on a high loopback port with its own base_dir; ours
runs as its own process (``python -m tests.lmtp.serve``) on the same settings but a separate mail
directory. The same seeded message mix (2-100 KB, a third multipart) is sent over ``-c``
connections, each transaction pipelined ``MAIL``/``RCPT``/``DATA`` then the body; latency is
from MAIL to the final 250. A script, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lmtp.harness import USERS, write_config  # noqa: E402

REAL_PORT = 24051


def message_mix(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        size = rng.randint(2_000, 100_000)
        text = b"".join(b"%05d the quick brown fox jumps over the lazy dog %d\r\n" % (i, n) for i in range(size // 60))
        head = b"From: a@ext.test\r\nTo: alice@example.test\r\nSubject: bench %d\r\nMessage-ID: <b%d@bench>\r\n" % (n, n)
        if n % 3 == 0:
            att = os.urandom(size // 4).hex().encode()
            att = b"\r\n".join(att[i:i + 76] for i in range(0, len(att), 76))
            body = (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
                    b"Content-Type: text/plain\r\n\r\n" + text + b"--BB\r\nContent-Type: application/octet-stream\r\n"
                    b"\r\n" + att + b"\r\n--BB--\r\n")
            out.append(head + body)
        else:
            out.append(head + b"\r\n" + text)
    return [m.replace(b"\r\n.", b"\r\n..") for m in out]


def _reply(f) -> bytes:  # type: ignore[no-untyped-def]
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line


def _connection(port: int, msgs: list[bytes], latencies: list[float]) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = sock.makefile("rb")
    _reply(f)
    sock.sendall(b"LHLO bench\r\n")
    _reply(f)
    for n, msg in enumerate(msgs):
        user = USERS[n % len(USERS)].encode()
        start = time.perf_counter()
        sock.sendall(b"MAIL FROM:<a@ext.test>\r\nRCPT TO:<" + user + b">\r\nDATA\r\n")
        for _ in range(3):
            _reply(f)
        sock.sendall(msg + b".\r\n")
        line = _reply(f)
        assert line.startswith(b"250 "), line
        latencies.append(time.perf_counter() - start)
    sock.sendall(b"QUIT\r\n")
    sock.close()


def run(port: int, msgs: list[bytes], conns: int) -> tuple[float, float]:
    latencies: list[float] = []
    shares = [msgs[i::conns] for i in range(conns)]
    threads = [threading.Thread(target=_connection, args=(port, share, latencies)) for share in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return len(msgs) / wall, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--conns", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    msgs = message_mix(args.n)
    tmp = Path(tempfile.mkdtemp(prefix="lmtp-bench-", dir="/tmp"))
    tmp.chmod(0o755)
    real_root, our_root = tmp / "real", tmp / "ours"
    real_conf = write_config(real_root, REAL_PORT)
    our_conf = write_config(our_root, REAL_PORT + 1)
    have_real = shutil.which("dovecot") is not None and os.geteuid() == 0
    ours = subprocess.Popen([sys.executable, "-m", "tests.lmtp.serve", str(our_conf)], cwd=ROOT,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert ours.stdout is not None
        our_port = int(ours.stdout.readline())
        if have_real:
            subprocess.run(["dovecot", "-c", str(real_conf)], check=True)
            time.sleep(0.5)
        print(f"{args.n} messages, {sum(map(len, msgs)) // args.n} bytes average, mail_fsync = always")
        for conns in args.conns:
            our_rate, our_p99 = run(our_port, msgs, conns)
            line = f"conns={conns}: pydovecot {our_rate:7.1f} msg/s p99 {our_p99 * 1000:7.1f} ms"
            if have_real:
                real_rate, real_p99 = run(REAL_PORT, msgs, conns)
                line += (f" | dovecot {real_rate:7.1f} msg/s p99 {real_p99 * 1000:7.1f} ms"
                         f" | ratio ours/real {our_rate / real_rate:.2f}x")
            print(line, flush=True)
    finally:
        ours.kill()
        ours.wait()
        if have_real:
            subprocess.run(["dovecot", "-c", str(real_conf), "stop"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
