"""Real IMAP clients against our service: imapclient (Python) and isync's mbsync (C)."""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cases import PASSWORD, SIMPLE
from .harness import RunningServer, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


def test_imapclient_session(server: RunningServer) -> None:
    imapclient = pytest.importorskip("imapclient")
    with imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10) as client:
        client.login("alice@example.test", PASSWORD)
        assert b"MOVE" in client.capabilities()
        client.create_folder("Projects")
        client.append("Projects", SIMPLE, flags=[b"\\Seen", b"$Work"])
        info = client.select_folder("Projects")
        assert info[b"EXISTS"] == 1 and b"$Work" in info[b"FLAGS"]
        uids = client.search(["SUBJECT", "plain"])
        assert uids == [1]
        data = client.fetch(uids, ["FLAGS", "ENVELOPE", "RFC822.SIZE", "BODY.PEEK[TEXT]"])
        assert data[1][b"ENVELOPE"].subject == b"plain"
        assert data[1][b"BODY[TEXT]"] == b"hello\r\n"
        assert set(data[1][b"FLAGS"]) - {b"\\Recent"} == {b"\\Seen", b"$Work"}
        client.add_flags(uids, [b"\\Flagged"])
        client.move(uids, "INBOX")
        assert client.search(["ALL"]) == []
        folders = {name for _, _, name in client.list_folders()}
        assert {"INBOX", "Projects", "Drafts", "Sent", "Trash"} <= folders
        assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] >= 1
        client.delete_folder("Projects")


def _mbsync_config(tmp: Path, port: int) -> Path:
    local = tmp / "local"
    local.mkdir()
    conf = tmp / "mbsyncrc"
    conf.write_text(f"""\
IMAPAccount acc
Host 127.0.0.1
Port {port}
User bob@example.test
Pass {PASSWORD}
SSLType None
AuthMechs PLAIN

IMAPStore remote
Account acc

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX Work
Create Both
Expunge Both
SyncState *
""")
    return conf


def _local_messages(folder: Path) -> list[bytes]:
    return [p.read_bytes() for sub in ("cur", "new") for p in sorted((folder / sub).glob("*"))]


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="isync (mbsync) is not installed")
def test_mbsync_syncs_both_ways(server: RunningServer, tmp_path: Path) -> None:
    imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    imap.login("bob@example.test", PASSWORD)
    imap.create("Work")
    imap.append("Work", "(\\Seen)", None, SIMPLE)
    conf = _mbsync_config(tmp_path, server.port)
    run = subprocess.run(["mbsync", "-c", str(conf), "-a"], capture_output=True, timeout=60, text=True)
    assert run.returncode == 0, run.stderr
    local = _local_messages(tmp_path / "local" / "Work")
    # mbsync stores with LF line ends and adds its X-TUID header.
    assert len(local) == 1 and b"Subject: plain\n" in local[0] and local[0].endswith(b"\n\nhello\n")

    # A message written locally goes up on the next run.
    local_new = tmp_path / "local" / "INBOX" / "new"
    mine = b"From: me@example.test\r\nSubject: from the laptop\r\n\r\nsynced up\r\n"
    (local_new / f"1700000000.P{os.getpid()}.laptop").write_bytes(mine)
    run = subprocess.run(["mbsync", "-c", str(conf), "-a"], capture_output=True, timeout=60, text=True)
    assert run.returncode == 0, run.stderr
    imap.select("INBOX")
    typ, data = imap.search(None, "SUBJECT", '"from the laptop"')
    assert data[0], "the local message did not reach the server"
    typ, fetched = imap.fetch(data[0].split()[0], "(BODY.PEEK[])")
    uploaded = fetched[0][1]  # mbsync adds its X-TUID header on the way up
    assert uploaded.startswith(b"From: me@example.test\r\nSubject: from the laptop\r\n")
    assert uploaded.endswith(b"\r\n\r\nsynced up\r\n")
    imap.logout()
