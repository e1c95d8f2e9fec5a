"""``Pop3Connection.pending_read_size``: what the server uses to answer small commands on its
event loop instead of a storage thread. It must never under-state what the buffered input reads."""

from __future__ import annotations

from pop3_fixtures import Driver, InMemoryMailbox, golden_settings

from pydovecot.pop3 import Pop3Connection

MESSAGES = [b"Subject: a\n\nshort\n", b"Subject: b\n\n" + b"x" * 5000 + b"\n"]


def logged_in() -> tuple[Pop3Connection, InMemoryMailbox]:
    conn = Pop3Connection(golden_settings())
    mailbox = InMemoryMailbox(list(MESSAGES), ["u1", "u2"])
    Driver(conn, mailbox, "tester", "secret").send(b"USER tester\r\nPASS secret\r\n")
    return conn, mailbox


def test_unknown_before_login() -> None:
    conn = Pop3Connection(golden_settings())
    conn.receive_data(b"USER tester\r\n")
    assert conn.pending_read_size() is None


def test_retr_and_top_report_the_message_size() -> None:
    conn, mailbox = logged_in()
    conn.receive_data(b"RETR 2\r\n")
    assert conn.pending_read_size() == mailbox.message_size(1)
    conn.next_event()
    conn.data_to_send()
    conn.receive_data(b"top 1 0\r\n")
    assert conn.pending_read_size() == mailbox.message_size(0)


def test_commands_answered_from_memory_read_nothing() -> None:
    conn, _ = logged_in()
    for line in (b"STAT\r\n", b"LIST\r\n", b"LIST 1\r\n", b"DELE 1\r\n", b"RSET\r\n", b"NOOP\r\n", b"CAPA\r\n"):
        conn.receive_data(line)
        assert conn.pending_read_size() == 0, line
        conn.next_event()
        conn.data_to_send()


def test_nothing_complete_reads_nothing() -> None:
    conn, _ = logged_in()
    assert conn.pending_read_size() == 0
    conn.receive_data(b"RETR")
    assert conn.pending_read_size() == 0


def test_errors_read_nothing() -> None:
    conn, _ = logged_in()
    for line in (b"RETR 9\r\n", b"RETR x\r\n", b"RETR 0\r\n"):
        conn.receive_data(line)
        assert conn.pending_read_size() == 0, line
        conn.next_event()
        conn.data_to_send()


def test_unknown_for_pipelined_input_and_storage_commands() -> None:
    conn, _ = logged_in()
    conn.receive_data(b"RETR 1\r\nRETR 2\r\n")
    assert conn.pending_read_size() is None
    conn2, _ = logged_in()
    conn2.receive_data(b"UIDL\r\n")
    assert conn2.pending_read_size() is None
    conn3, _ = logged_in()
    conn3.receive_data(b"QUIT\r\n")
    assert conn3.pending_read_size() is None
