"""Behaviour of the POP3 core beyond the recorded sessions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pop3_fixtures import Driver, InMemoryMailbox, golden_mailbox, golden_settings

from pydovecot.pop3 import (
    NEED_DATA,
    CheckApop,
    Pop3Connection,
    Pop3ProtocolError,
    Pop3ProtocolSettings,
    Pop3State,
    SaslAborted,
    StartTls,
)
from pydovecot.pop3.protocol import MAX_LINE_LENGTH, dot_stuff


def logged_in(settings: Pop3ProtocolSettings | None = None, mailbox: InMemoryMailbox | None = None) -> Driver:
    conn = Pop3Connection(settings or golden_settings())
    driver = Driver(conn, mailbox or golden_mailbox(), "tester", "secret")
    assert driver.send(b"USER tester\r\nPASS secret\r\n") == b"+OK\r\n+OK Logged in.\r\n"
    assert conn.state is Pop3State.TRANSACTION
    return driver


def test_dot_stuffing_and_line_endings() -> None:
    assert dot_stuff(b"a\n.b\r\n..c\nno newline") == b"a\r\n..b\r\n...c\r\nno newline\r\n"
    assert dot_stuff(b"") == b""


def test_retr_of_message_without_final_newline_still_terminates() -> None:
    driver = logged_in(mailbox=InMemoryMailbox([b"Subject: x\n\n.body"], ["u1"]))
    assert driver.send(b"RETR 1\r\n") == b"+OK 19 octets\r\nSubject: x\r\n\r\n..body\r\n.\r\n"


def test_byte_at_a_time_gives_the_same_replies_as_one_chunk() -> None:
    script = b"USER tester\r\nPASS secret\r\nLIST\r\nRETR 2\r\nTOP 2 1\r\nDELE 1\r\nSTAT\r\nQUIT\r\n"
    whole = Driver(Pop3Connection(golden_settings()), golden_mailbox(), "tester", "secret").send(script)
    trickle = Driver(Pop3Connection(golden_settings()), golden_mailbox(), "tester", "secret")
    pieces = b"".join(trickle.send(script[i : i + 1]) for i in range(len(script)))
    assert pieces == whole
    assert whole.endswith(b"+OK Logging out, messages deleted.\r\n")


def test_last_only_when_enabled() -> None:
    disabled = logged_in()
    assert disabled.send(b"LAST\r\n") == b"-ERR Unknown command: LAST\r\n"
    settings = Pop3ProtocolSettings(greeting="x", sasl_mechanisms=("PLAIN",), enable_last=True)
    enabled = logged_in(settings)
    assert enabled.send(b"LAST\r\n") == b"+OK 0\r\n"
    enabled.send(b"RETR 2\r\n")
    assert enabled.send(b"LAST\r\n") == b"+OK 2\r\n"
    assert enabled.send(b"RSET\r\nLAST\r\n") == b"+OK\r\n+OK 0\r\n"


def test_apop_and_stls_become_events_when_offered() -> None:
    settings = Pop3ProtocolSettings(greeting="hi", tls_available=True, apop_challenge="<1.2@host>")
    conn = Pop3Connection(settings)
    assert conn.greeting() == b"+OK hi <1.2@host>\r\n"
    conn.receive_data(b"STLS\r\nCAPA\r\n")
    assert conn.next_event() == StartTls()
    assert conn.next_event() is NEED_DATA  # CAPA waits until TLS is up
    assert conn.data_to_send() == b"+OK Begin TLS negotiation now.\r\n"
    conn.settings = replace(settings, tls_active=True)
    conn.tls_started()
    # what was pipelined in the clear after STLS is dropped, not run as if it came over TLS
    assert conn.next_event() is NEED_DATA
    assert conn.data_to_send() == b""
    conn.receive_data(b"CAPA\r\nSTLS\r\n")
    assert conn.next_event() is NEED_DATA
    out = conn.data_to_send()
    assert b"STLS\r\n" not in out.split(b".\r\n")[0]  # no longer offered
    assert out.endswith(b"-ERR TLS is already active.\r\n")
    conn.receive_data(b"APOP tester 0123abcd\r\n")
    assert conn.next_event() == CheckApop("tester", "0123abcd")


def test_sasl_cancel_and_bad_continuation() -> None:
    conn = Pop3Connection(golden_settings())
    conn.receive_data(b"AUTH PLAIN\r\n")
    conn.next_event()
    conn.sasl_challenge(b"")
    conn.receive_data(b"not base64!\r\n")
    assert conn.next_event() == SaslAborted()
    assert conn.data_to_send() == b"+ \r\n-ERR [AUTH] Invalid base64 data in continued response\r\n"
    assert conn.state is Pop3State.AUTHORIZATION


def test_endless_line_is_a_protocol_error() -> None:
    conn = Pop3Connection()
    conn.receive_data(b"X" * (MAX_LINE_LENGTH + 1))
    with pytest.raises(Pop3ProtocolError):
        conn.next_event()


def test_answering_without_a_pending_event_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        Pop3Connection().login_succeeded(golden_mailbox())


def test_failed_commands_count_towards_the_bad_command_limit() -> None:
    # Dovecot's pop3 counts every command that fails, not only unknown ones (read from its source)
    driver = logged_in()
    replies = driver.send(b"LIST 9\r\n" * 20)
    assert replies.count(b"-ERR There's no message 9.\r\n") == 20
    assert driver.send(b"RETR 0\r\n") == b"-ERR There's no message 0.\r\n-ERR Too many bad commands.\r\n"
    assert driver.closed
