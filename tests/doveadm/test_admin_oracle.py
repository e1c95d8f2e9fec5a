"""Live against real doveadm 2.3.19: both read the same anvil CONNECT-DUMP from a fake anvil socket,
and `who` must print the same bytes (real's user order comes from its hash table, so ours is fed
the dump in real's order first)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.oracle

DUMPS = {
    "mixed": [("pop3/127.0.0.1/bob", 28520, 1), ("pop3/127.0.0.1/alice", 28518, 1),
              ("pop3/127.0.0.1/alice", 28524, 2), ("imap/10.1.2.3/carol", 1, 1), ("pop3/127.0.0.1/bob", 28526, 1),
              ("imap/::1/carol", 77, 1), ("lmtp/dave", 5, 1)],
    "long": [("imap/10.1.2.3/carol", 1, 1),
             ("pop3/127.0.0.1/averyveryverylongusername_indeed_longer_than_forty@example.com", 28520, 2)],
    "empty": [],
}
ARGS = [["who"], ["who", "-1"], ["who", "alice"], ["who", "-1", "CAR*"], ["who", "127.0.0.0/8"],
        ["who", "-1", "10.0.0.0/8", "c*"], ["who", "::1"]]


class FakeAnvil:
    """Answers every CONNECT-DUMP with ``dump``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dump: list[tuple[str, int, int]] = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(30)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as f:
                f.readline()  # VERSION
                if f.readline().strip() == b"CONNECT-DUMP":
                    f.write("".join(f"{i}\t{p}\t{n}\n" for i, p, n in self.dump).encode() + b"\n")
                    f.flush()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[FakeAnvil]:
    fake = FakeAnvil(tmp_path / "anvil")
    yield fake
    fake.close()


def run(binary: list[str], conf: Path, anvil: FakeAnvil, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*binary, "-c", str(conf), args[0], "-a", str(anvil.path), *args[1:]],
                          capture_output=True, text=True, timeout=30, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def in_real_order(dump: list[tuple[str, int, int]], output: str) -> list[tuple[str, int, int]]:
    """The dump reordered so that users first appear in the order real doveadm printed them."""
    order = [line.split()[0] for line in output.splitlines()[1:]]
    rank = {name: i for i, name in reversed(list(enumerate(order)))}
    return sorted(dump, key=lambda entry: rank.get(entry[0].rsplit("/", 1)[-1], len(rank)))


@pytest.mark.parametrize("dump_name", sorted(DUMPS))
def test_who_output_identical_to_real(real_dovecot: Path, tmp_path: Path, anvil: FakeAnvil,
                                      dump_name: str) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"base_dir = {tmp_path}\n")
    for args in ARGS:
        anvil.dump = DUMPS[dump_name]
        real = run([str(real_dovecot / "doveadm")], conf, anvil, args)
        if "-1" not in args:
            anvil.dump = in_real_order(DUMPS[dump_name], real.stdout)
        ours = run([sys.executable, "-m", "doveadm"], conf, anvil, args)
        assert (ours.returncode, ours.stdout, ours.stderr) == (real.returncode, real.stdout, real.stderr), args


@pytest.mark.parametrize("formatter", ["tab", "json", "flow", "pager"])
def test_who_formatters_identical_to_real(real_dovecot: Path, tmp_path: Path, anvil: FakeAnvil,
                                          formatter: str) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"base_dir = {tmp_path}\n")
    anvil.dump = DUMPS["mixed"]
    for args in (["who", "-1"], ["who", "alice"], ["who", "-1", "nobody"]):
        real = run([str(real_dovecot / "doveadm"), "-f", formatter], conf, anvil, args)
        ours = run([sys.executable, "-m", "doveadm", "-f", formatter], conf, anvil, args)
        assert (ours.returncode, ours.stdout, ours.stderr) == (real.returncode, real.stdout, real.stderr), args
