"""The sans-I/O state machines on their own: events, limits, escaping, the receive buffer."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.auth.wire import LineBuffer, LineTooLong, tab_escape, tab_unescape
from pydovecot.auth.wire import client_protocol as cp
from pydovecot.auth.wire import master_protocol as mp


def new_client() -> cp.ClientConnection:
    conn = cp.ClientConnection(["PLAIN", "LOGIN"], ["MECH\tPLAIN\tplaintext"], spid=1, cuid=2, cookie=bytes(16))
    assert conn.data_to_send() == (b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t2\nCOOKIE\t"
                                   + b"0" * 32 + b"\nDONE\n")
    return conn


def events(conn: cp.ClientConnection | mp.MasterConnection, data: bytes) -> list[object]:
    conn.receive_data(data)
    out = []
    while (event := conn.next_event()) is not None:
        out.append(event)
    return out


@given(st.text())
def test_tab_escape_round_trips(text: str) -> None:
    escaped = tab_escape(text)
    assert not any(c in escaped for c in "\t\r\n")
    assert tab_unescape(escaped) == text


def test_line_buffer_byte_at_a_time() -> None:
    buffer = LineBuffer(16)
    lines = []
    for byte in b"abc\r\nde\n" + b"x" * 15 + b"\n":
        buffer.feed(bytes([byte]))
        while (line := buffer.next_line()) is not None:
            lines.append(line)
    assert lines == [b"abc", b"de", b"x" * 15]
    buffer.feed(b"y" * 16)
    with pytest.raises(LineTooLong):
        buffer.next_line()


def test_line_buffer_rejects_a_complete_overlong_line_after_the_good_ones() -> None:
    buffer = LineBuffer(8)
    buffer.feed(b"ok\n" + b"z" * 8 + b"\n")
    assert buffer.next_line() == b"ok"
    with pytest.raises(LineTooLong):
        buffer.next_line()


def test_client_handshake_and_auth_events() -> None:
    conn = new_client()
    resp = base64.b64encode(b"\0alice\0pw").decode()
    got = events(conn, f"VERSION\t1\t2\nCPID\t99\nAUTH\t3\tplain\tservice=imap\trip=192.0.2.1\tsecured\t"
                       f"x=a\x01tb\tresp={resp}\n".encode())
    assert got[0] == cp.Handshake(99, 2)
    begin = got[1]
    assert isinstance(begin, cp.AuthBegin)
    assert (begin.id, begin.mechanism, begin.service, begin.initial_response) == (3, "PLAIN", "imap", b"\0alice\0pw")
    assert begin.param("rip") == "192.0.2.1" and begin.flag("secured") and begin.param("x") == "a\tb"
    # The driver answers: a CONT is then accepted exactly once.
    conn.send_continue(3, b"")
    assert events(conn, b"CONT\t3\t\n") == [cp.AuthContinue(3, b"")]
    assert events(conn, b"CONT\t3\t\n") == [cp.RequestAborted(3, cp.REASON_UNEXPECTED_CONT)]
    assert conn.data_to_send() == b"CONT\t3\t\nFAIL\t3\treason=Unexpected continuation\n"


def test_client_fail_and_ok_lines() -> None:
    conn = new_client()
    conn.send_fail(1, user="a\tb", code="temp_fail", tail=[("original_user", "A")])
    conn.send_ok(2, "bob")
    assert conn.data_to_send() == b"FAIL\t1\tuser=a\x01tb\tcode=temp_fail\toriginal_user=A\nOK\t2\tuser=bob\n"


def test_retired_request_is_treated_as_unknown() -> None:
    conn = new_client()
    events(conn, b"VERSION\t1\t2\nCPID\t9\nAUTH\t1\tLOGIN\tservice=imap\n")
    conn.send_continue(1, b"Username:")
    conn.retire(1)
    conn.data_to_send()
    assert events(conn, b"CONT\t1\tYQ==\n") == []
    assert conn.data_to_send() == b"FAIL\t1\treason=Authentication request timed out\n"


@pytest.mark.parametrize("line", [
    b"AUTH\t1\tPLAIN\tresp=\tservice=imap\n",
    b"AUTH\t1\tGSSAPI\tservice=imap\n",
    b"AUTH\t-1\tPLAIN\tservice=imap\n",
    b"CANCEL\t\n",
    b"CONT\t1\n",
    b"VERSION\t1\t2\n",
])
def test_client_violations_close(line: bytes) -> None:
    conn = new_client()
    events(conn, b"VERSION\t1\t2\nCPID\t9\n")
    got = events(conn, line + b"AUTH\t2\tPLAIN\tservice=imap\n")
    assert len(got) == 1 and isinstance(got[0], cp.ProtocolError)
    assert conn.state is cp.ConnectionState.CLOSED
    assert events(conn, b"AUTH\t3\tPLAIN\tservice=imap\n") == []


def test_master_list_holds_later_input() -> None:
    conn = mp.MasterConnection(spid=5)
    assert conn.data_to_send() == b"VERSION\t1\t1\nSPID\t5\n"
    got = events(conn, b"VERSION\t1\t1\nLIST\t1\tuser=a*\nUSER\t2\tx\tservice=imap\n")
    assert got == [mp.ListUsers(1, "a*", (("user", "a*"),)), mp.UserLookup(2, "x", (("service", "imap"),))]
    # Arrives while listing: held, as Dovecot stops reading the socket.
    assert events(conn, b"USER\t3\ty\tservice=imap\n") == []
    conn.send_list_user(1, "alice")
    conn.send_list_done(1)
    assert events(conn, b"") == [mp.UserLookup(3, "y", (("service", "imap"),))]
    assert conn.data_to_send() == b"LIST\t1\talice\nDONE\t1\t\n"


def test_master_second_list_fails_and_userdb_socket_refuses_request() -> None:
    conn = mp.MasterConnection(spid=5)
    events(conn, b"VERSION\t1\t1\nLIST\t1\nLIST\t2\n")
    assert conn.data_to_send().endswith(b"DONE\t2\tfail\n")
    userdb = mp.MasterConnection(spid=5, userdb_only=True)
    got = events(userdb, b"VERSION\t1\t1\nCACHE-FLUSH\t1\n")
    assert len(got) == 1 and isinstance(got[0], mp.ProtocolError)
