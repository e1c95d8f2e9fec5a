"""LMTP deliveries per second and p99 latency: ours against real Dovecot 2.3.19's lmtp.

    /work/main/.venv/bin/python benchmarks/lmtp_delivery.py [-n 300] [--conns 1 4] [--min-avail 2]
        [--ours master|serve]
        [--rounds 3] [--warmup 40]

One temp config (tests/lmtp/harness.py) read by both: passwd-file users, Maildir, mail_fsync =
always, and ``service lmtp { process_min_avail = N }`` (Dovecot's own performance recipe; 0 leaves
it out). Real Dovecot runs its lmtp service on a high loopback port with its own base_dir; ours
runs our real master (``python -m pydovecot -F -c CONF``, which serves LMTP from N worker
processes as real Dovecot keeps N lmtp processes) on the same settings but a separate base_dir
and mail directory; ``--ours serve`` runs the bare service in one process instead
(``python -m tests.lmtp.serve``). The same seeded message mix (2-100 KB, a third multipart) is sent over ``-c``
connections, each transaction pipelined ``MAIL``/``RCPT``/``DATA`` then the body; latency is
from MAIL to the final 250. ``cpu/msg`` is the user+sys time of every server process (the
master and all its descendants, from /proc/PID/stat) spent during the run, per message: on a
shared machine it is steadier than the rate. A script, not a test: it prints figures and
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from servers import tree_cpu  # noqa: E402

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


def _start_ours(kind: str, conf: Path, log: Path, port: int) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if kind == "serve":
        proc = subprocess.Popen([sys.executable, "-m", "tests.lmtp.serve", str(conf)], cwd=ROOT,
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        return proc, int(proc.stdout.readline())
    proc = subprocess.Popen([sys.executable, "-m", "pydovecot", "-F", "-c", str(conf)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while not (log.exists() and "starting up" in log.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_ours(proc)
            raise SystemExit(f"our master did not start: see {log}")
        time.sleep(0.05)
    time.sleep(0.5)  # the workers fork after the master's start line
    return proc, port


def _real_master(root: Path) -> int:
    return int((root / "run" / "master.pid").read_text().split()[0])


def _stop_ours(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the master stops its workers), SIGKILL if it lingers."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--conns", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--min-avail", type=int, default=2, help="service lmtp { process_min_avail }")
    parser.add_argument("--ours", choices=("master", "serve"), default="master")
    parser.add_argument("--rounds", type=int, default=1, help="alternate ours/real this many times")
    parser.add_argument("--warmup", type=int, default=40,
                        help="messages delivered to each server before timing (start-up is not throughput)")
    args = parser.parse_args()
    msgs = message_mix(args.n)
    tmp = Path(tempfile.mkdtemp(prefix="lmtp-bench-", dir="/tmp"))
    tmp.chmod(0o755)
    real_root, our_root = tmp / "real", tmp / "ours"
    extra = f"service lmtp {{\n  process_min_avail = {args.min_avail}\n}}\n" if args.min_avail else ""
    real_conf = write_config(real_root, REAL_PORT, extra=extra)
    our_conf = write_config(our_root, REAL_PORT + 1, extra=extra)
    have_real = shutil.which("dovecot") is not None and os.geteuid() == 0
    ours, our_port = _start_ours(args.ours, our_conf, our_root / "dovecot.log", REAL_PORT + 1)
    try:
        if have_real:
            subprocess.run(["dovecot", "-c", str(real_conf)], check=True)
            time.sleep(0.5)
        print(f"{args.n} messages, {sum(map(len, msgs)) // args.n} bytes average, mail_fsync = always, "
              f"process_min_avail = {args.min_avail}, ours: {args.ours}, warm-up: {args.warmup}")
        if args.warmup:
            # Both servers' processes started, imported and connected (our auth process, real's
            # lmtp and auth processes) before anything is timed.
            run(our_port, msgs[:args.warmup], max(args.conns))
            if have_real:
                run(REAL_PORT, msgs[:args.warmup], max(args.conns))
        for conns in args.conns:
            ratios = []
            for _ in range(args.rounds):
                # Alternated, so that a burst of load from elsewhere on the machine hits both.
                cpu = tree_cpu(ours.pid)
                our_rate, our_p99 = run(our_port, msgs, conns)
                our_cpu = (tree_cpu(ours.pid) - cpu) / len(msgs) * 1000
                line = (f"conns={conns}: pydovecot {our_rate:7.1f} msg/s p99 {our_p99 * 1000:7.1f} ms"
                        f" cpu/msg {our_cpu:5.2f} ms")
                if have_real:
                    real_pid = _real_master(real_root)
                    cpu = tree_cpu(real_pid)
                    real_rate, real_p99 = run(REAL_PORT, msgs, conns)
                    real_cpu = (tree_cpu(real_pid) - cpu) / len(msgs) * 1000
                    ratios.append(our_rate / real_rate)
                    line += (f" | dovecot {real_rate:7.1f} msg/s p99 {real_p99 * 1000:7.1f} ms"
                             f" cpu/msg {real_cpu:5.2f} ms"
                             f" | ratio ours/real {our_rate / real_rate:.2f}x cpu {our_cpu / real_cpu:.2f}x")
                print(line, flush=True)
            if len(ratios) > 1:
                print(f"conns={conns}: median ratio ours/real {statistics.median(ratios):.2f}x "
                      f"over {len(ratios)} rounds", flush=True)
    finally:
        _stop_ours(ours)
        if have_real:
            subprocess.run(["dovecot", "-c", str(real_conf), "stop"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
