"""Live against real Dovecot on one Maildir: real doveadm reads what we delivered, and real and our
deliveries interleaved (LMTP and LDA) keep UIDs increasing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_real_dovecot
from tests.lmtp.harness import converse, write_config
from tests.lmtp.ours import OurServer
from tests.support import real_dovecot

pytestmark = pytest.mark.oracle
ROOT = Path(__file__).resolve().parents[2]
PORT = 24041
USER = "alice@example.test"


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A config both servers read; the real one runs (its auth answers doveadm and its LDA)."""
    require_real_dovecot()
    if os.geteuid() != 0:
        pytest.skip("needs root: the real Dovecot switches to the mail user")
    root = Path(tempfile.mkdtemp(prefix="lmtp-interop-", dir="/tmp"))
    conf = write_config(root, PORT)
    try:
        with real_dovecot.running(conf, timeout=30):
            yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _lmtp(port: int, subject: str) -> bytes:
    msg = f"Subject: {subject}\r\nMessage-ID: <{subject}@interop>\r\n\r\nbody of {subject}\r\n".encode()
    steps = [b"LHLO interop\r\n", b"MAIL FROM:<s@ext.test>\r\n", f"RCPT TO:<{USER}>\r\n".encode(), b"DATA\r\n",
             msg + b".\r\n", b"QUIT\r\n"]
    replies = converse(port, steps, [1, 1, 1, 1, 1, 1, 1])
    assert replies[5].startswith(b"250 2.0.0 <alice@example.test> "), replies
    return msg


def _lda(binary: list[str], root: Path, subject: str) -> None:
    msg = f"Subject: {subject}\nMessage-ID: <{subject}@interop>\n\nbody of {subject}\n".encode()
    proc = subprocess.run([*binary, "-c", str(root / "dovecot.conf"), "-d", USER], input=msg, timeout=60,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr


def _fetch(root: Path) -> list[tuple[int, str, str]]:
    out = subprocess.run(["doveadm", "-c", str(root / "dovecot.conf"), "fetch", "-u", USER, "uid flags text", "all"],
                         capture_output=True, check=True, timeout=60).stdout.decode("utf-8", "replace")
    rows = []
    for block in out.split("\f\n"):
        match = re.match(r"uid: (\d+)\nflags: (.*)\ntext:\n(.*)", block, re.S)
        if match:
            rows.append((int(match.group(1)), match.group(2), match.group(3)))
    return rows


def test_real_doveadm_reads_our_mail_and_uids_interleave(shared_root: Path) -> None:
    with OurServer(shared_root / "dovecot.conf") as ours:
        _lmtp(PORT, "real-lmtp-1")
        ours_msg = _lmtp(ours.port, "ours-lmtp-1")
        _lda(["/usr/lib/dovecot/dovecot-lda"], shared_root, "real-lda-1")
        _lda([sys.executable, str(ROOT / "bin" / "dovecot-lda")], shared_root, "ours-lda-1")
        _lmtp(PORT, "real-lmtp-2")
        _lmtp(ours.port, "ours-lmtp-2")
    rows = _fetch(shared_root)
    subjects = [re.search(r"Subject: (\S+)", text).group(1) for _, _, text in rows]  # type: ignore[union-attr]
    assert subjects == ["real-lmtp-1", "ours-lmtp-1", "real-lda-1", "ours-lda-1", "real-lmtp-2", "ours-lmtp-2"]
    uids = [uid for uid, _, _ in rows]
    assert uids == sorted(uids) and len(set(uids)) == 6
    # Our LMTP delivery, as real doveadm reads it: the trace headers then the client's bytes, LF ends.
    text = rows[1][2]
    assert text.startswith("Return-Path: <s@ext.test>\nDelivered-To: alice@example.test\nReceived: from interop")
    assert text.rstrip("\n").endswith(ours_msg.decode().replace("\r\n", "\n").rstrip("\n"))
    # Files we wrote belong to the mail user, as the real server's do.
    for path in (shared_root / "mail" / USER / "Maildir" / "new").iterdir():
        assert path.stat().st_uid == 65534
