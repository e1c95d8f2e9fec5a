"""Replay POP3 sessions recorded from Dovecot 2.3.19 through our core, byte for byte."""

from __future__ import annotations

import json

import pytest
from pop3_fixtures import GOLDENS, Driver, golden_mailbox, golden_settings, load_meta

from pydovecot.pop3 import Pop3Connection, Quit

SESSIONS = json.loads((GOLDENS / "sessions.json").read_text())


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_replay_golden_session(name: str) -> None:
    session = SESSIONS[name]
    meta = load_meta()
    mailbox = golden_mailbox()
    after_expunge = meta.get("recorded_after_message_3_was_expunged", [])
    assert isinstance(after_expunge, list)
    if name in after_expunge:
        # re-recorded after the delete_and_quit scenario had really expunged message 3
        del mailbox.messages[2], mailbox.uidls[2]
    conn = Pop3Connection(golden_settings())
    driver = Driver(conn, mailbox, str(meta["user"]), str(meta["password"]))
    assert conn.greeting().decode() == session["greeting"]
    for number, exchange in enumerate(session["exchanges"]):
        reply = driver.send(exchange["send"].encode() + b"\r\n")
        assert reply.decode() == exchange["reply"], f"exchange {number}: {exchange['send']!r}"


def test_quit_reports_the_deleted_messages() -> None:
    meta = load_meta()
    conn = Pop3Connection(golden_settings())
    driver = Driver(conn, golden_mailbox(), str(meta["user"]), str(meta["password"]))
    driver.send(b"USER tester\r\nPASS secret\r\nDELE 3\r\nDELE 1\r\nQUIT\r\n")
    quits = [e for e in driver.events if isinstance(e, Quit)]
    assert quits == [Quit(deleted=(0, 2))]
    assert driver.closed
