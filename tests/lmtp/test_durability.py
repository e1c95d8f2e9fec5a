"""SIGKILL the LMTP server at random points while it delivers: no partial message ever shows in
new/ or cur/ (tmp/ may keep garbage), and every message whose 250 reached the client is there."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from pydovecot.storage.mailbox import MaildirIndexedMailbox
from tests.lmtp.harness import write_config

ROOT = Path(__file__).resolve().parents[2]
RUNS = 30


def _message(n: int, rng: random.Random) -> bytes:
    size = rng.choice((200, 5_000, 40_000, 120_000))
    body = b"".join(b"line %d of message %d\r\n" % (i, n) for i in range(size // 24))
    return b"Message-ID: <dur-%d@test>\r\nSubject: n%d\r\n\r\n" % (n, n) + body + b"END-%d\r\n" % n


class Client(threading.Thread):
    """Delivers messages one transaction after another until the connection dies."""

    def __init__(self, port: int, first: int, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.port, self.next, self.rng = port, first, rng
        self.acked: list[int] = []
        self.sent: dict[int, bytes] = {}

    def run(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            f = sock.makefile("rb")
            f.readline()
            sock.sendall(b"LHLO t\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            while True:
                n = self.next
                self.next += 1
                msg = _message(n, self.rng)
                self.sent[n] = msg
                sock.sendall(b"MAIL FROM:<s@t>\r\nRCPT TO:<alice@example.test>\r\nBDAT %d LAST\r\n" % len(msg) + msg)
                replies = [f.readline() for _ in range(3)]
                if not replies[2].startswith(b"250 2.0.0"):
                    return
                self.acked.append(n)
        except OSError:
            return


def _start(conf: Path) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.lmtp.serve", str(conf)], cwd=ROOT,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, port


def test_sigkill_never_loses_or_tears_mail(tmp_path: Path) -> None:
    conf = write_config(tmp_path, 0, uid=os.geteuid())
    maildir = tmp_path / "mail" / "alice@example.test" / "Maildir"
    rng = random.Random(1234)
    acked: list[int] = []
    sent: dict[int, bytes] = {}
    next_n = 0
    for _ in range(RUNS):
        proc, port = _start(conf)
        client = Client(port, next_n, rng)
        client.start()
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        client.join(10)
        assert not client.is_alive()
        acked += client.acked
        sent.update(client.sent)
        next_n = client.next
        _check(maildir, acked, sent)
    assert len(acked) > RUNS  # the runs did deliver mail, not only start and die
    # After all the crashes the mailbox syncs: every file has one UID, ascending, none lost.
    snapshot = MaildirIndexedMailbox("INBOX", str(maildir)).sync()
    uids = [m.uid for m in snapshot.messages]
    assert len(uids) == len(set(uids)) == sum(1 for _ in (maildir / "new").iterdir()) + sum(
        1 for _ in (maildir / "cur").iterdir())


def _check(maildir: Path, acked: list[int], sent: dict[int, bytes]) -> None:
    found: dict[int, int] = {}
    for sub in ("new", "cur"):
        folder = maildir / sub
        for path in folder.iterdir() if folder.is_dir() else ():
            data = path.read_bytes()
            match = re.search(rb"Message-ID: <dur-(\d+)@test>", data)
            assert match, f"{path.name}: not one of ours or torn"
            n = int(match.group(1))
            expected = sent[n].replace(b"\r\n", b"\n")
            assert data.endswith(expected), f"{path.name}: partial message {n}"
            size = re.search(r",S=(\d+)", path.name)
            assert size and int(size.group(1)) == len(data)
            found[n] = found.get(n, 0) + 1
    missing = [n for n in acked if n not in found]
    assert not missing, f"acknowledged but missing: {missing}"
    assert all(count == 1 for count in found.values())
