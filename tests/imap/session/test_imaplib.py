"""Python's imaplib as a client of our IMAP service: a full mail session, end to end."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator

import pytest

from .cases import PASSWORD, SIMPLE
from .harness import RunningServer, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server("mailbox_idle_check_interval = 1 secs\n") as running:
        yield running


def client(server: RunningServer, user: str = "alice@example.test") -> imaplib.IMAP4:
    imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    imap.login(user, PASSWORD)
    return imap


def test_login_failure_and_capabilities(server: RunningServer) -> None:
    imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    assert "AUTH=PLAIN" in imap.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login("alice@example.test", "wrong")
    imap.login("alice@example.test", PASSWORD)
    typ, data = imap.capability()
    assert typ == "OK" and b"QRESYNC" in data[0]
    imap.logout()


def test_mail_round_trip(server: RunningServer) -> None:
    imap = client(server, "bob@example.test")
    imap.create("Archive")
    typ, data = imap.append("INBOX", "(\\Flagged)", None, SIMPLE)
    assert typ == "OK" and b"APPENDUID" in data[0]
    typ, data = imap.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = imap.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Flagged" in data[0][0] and data[0][1].startswith(b"Subject: plain")
    typ, data = imap.fetch("1", "(RFC822)")
    assert data[0][1] == SIMPLE
    typ, data = imap.search(None, "SUBJECT", "plain")
    assert data == [b"1"]
    imap.store("1", "+FLAGS", "\\Seen")
    typ, data = imap.fetch("1", "FLAGS")
    assert b"\\Seen" in data[0]
    typ, data = imap.copy("1", "Archive")
    assert typ == "OK"
    imap.store("1", "+FLAGS", "\\Deleted")
    typ, data = imap.expunge()
    assert data == [b"1"]
    typ, data = imap.status("Archive", "(MESSAGES UNSEEN)")
    assert data == [b"Archive (MESSAGES 1 UNSEEN 0)"]
    typ, data = imap.list()
    assert any(b'"Archive"' in line or b" Archive" in line for line in data)
    imap.close()
    imap.logout()


def test_other_session_changes_show_up(server: RunningServer) -> None:
    watcher = client(server)
    typ, data = watcher.select("INBOX")
    before = int(data[0])
    writer = client(server)
    writer.append("INBOX", None, None, SIMPLE)
    watcher.noop()
    assert watcher.untagged_responses["EXISTS"][-1] == str(before + 1).encode()
    watcher.logout()
    writer.logout()
