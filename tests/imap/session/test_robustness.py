"""Hostile and broken clients: never a crash, replies as Dovecot's, other connections unaffected."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from pydovecot.login.connection import ConnectionInfo

from .cases import LOGIN, run_case
from .harness import RunningServer, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server("disable_plaintext_auth = yes\n") as running:
        yield running


def raw_session(port: int, data: bytes, *, close: bool = True, wait: float = 0.3) -> bytes:
    """Send bytes, collect what comes back until the server is quiet (or closes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(wait)
    received = b""
    try:
        received += sock.recv(65536)
        sock.sendall(data)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    finally:
        if close:
            sock.close()
    return received


def still_serving(server: RunningServer) -> None:
    pairs = run_case("127.0.0.1", server.port, [LOGIN, "b SELECT INBOX", "c LOGOUT"])
    assert pairs[1][1].startswith("a OK [CAPABILITY"), pairs
    assert "b OK [READ-WRITE]" in pairs[2][1]


def test_garbage_bytes(server: RunningServer) -> None:
    reply = raw_session(server.port, b"\x00\xff\xfe garbage \x01\r\n" * 3 + b"\r\n")
    assert b"BAD" in reply and b"* BYE Too many invalid IMAP commands." in reply
    still_serving(server)


def test_overlong_line_before_login(server: RunningServer) -> None:
    reply = raw_session(server.port, b"a " + b"X" * 70000 + b"\r\n")
    assert b"* BYE Input buffer full, aborting" in reply
    still_serving(server)


def test_overlong_line_after_login(server: RunningServer) -> None:
    data = f"{LOGIN}\r\n".encode() + b"b SELECT " + b"X" * 70000 + b"\r\nc NOOP\r\n"
    reply = raw_session(server.port, data)
    assert b"b BAD Error in IMAP command SELECT: Too long argument." in reply
    assert b"c OK NOOP completed" in reply
    still_serving(server)


def test_literal_too_big(server: RunningServer) -> None:
    reply = raw_session(server.port, f"{LOGIN}\r\nb APPEND INBOX {{99999999999}}\r\n".encode())
    # Dovecot streams any APPEND literal ("+ OK"); we bound what one connection may make us hold.
    assert reply.endswith(b"* BYE Literal size too large\r\n")
    still_serving(server)


def test_disconnect_mid_literal_and_mid_idle(server: RunningServer) -> None:
    raw_session(server.port, f"{LOGIN}\r\nb APPEND INBOX {{500}}\r\nhalf a message".encode())
    raw_session(server.port, f"{LOGIN}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
    raw_session(server.port, b"a AUTHENTICATE PLAIN\r\n")
    still_serving(server)


def test_sequence_number_limits(server: RunningServer) -> None:
    pairs = run_case("127.0.0.1", server.port, [
        LOGIN, "b SELECT INBOX", "c UID FETCH 1:4294967295 UID", "d FETCH 1:4294967296 UID", "e LOGOUT"])
    assert pairs[3][1].endswith("c OK Fetch completed.\r\n") or "c OK Fetch completed" in pairs[3][1]
    assert pairs[4][1].startswith("d BAD")


def test_logindisabled_without_tls(server: RunningServer) -> None:
    port = server.listen_as(ConnectionInfo("127.0.0.1", 143, "192.0.2.10", 40000, "imap"))
    pairs = run_case("127.0.0.1", port, ["a CAPABILITY", LOGIN, "b LOGOUT"])
    greeting = pairs[0][1]
    assert "LOGINDISABLED" in greeting and "AUTH=PLAIN" not in greeting
    assert pairs[2][1].startswith("* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your "
                                  "client did it anyway. If anyone was listening, the password was exposed.\r\n"
                                  "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed")


def test_inactivity_disconnects(server: RunningServer) -> None:
    assert server.service is not None
    old = server.service.login_idle_timeout, server.service.session_idle_timeout
    server.service.login_idle_timeout = server.service.session_idle_timeout = 0.3
    try:
        silent = raw_session(server.port, b"", wait=3)
        assert silent.endswith(b"* BYE Disconnected for inactivity.\r\n")
        after_login = raw_session(server.port, f"{LOGIN}\r\n".encode(), wait=3)
        assert after_login.endswith(b"Logged in\r\n* BYE Disconnected for inactivity.\r\n")
    finally:
        server.service.login_idle_timeout, server.service.session_idle_timeout = old


def test_literal_limits_before_and_after_login(server: RunningServer) -> None:
    # Before login nobody needs a big literal: an unauthenticated client can't make us buffer it.
    reply = raw_session(server.port, b"a LOGIN {100000}\r\n")
    assert reply.endswith(b"* BYE Literal size too large\r\n")
    body = b"Subject: big\r\n\r\n" + b"x" * 76 + b"\r\n"
    body = body * (1_000_000 // len(body))
    reply = raw_session(server.port, f"{LOGIN}\r\nb APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n",
                        wait=2)
    assert b"b OK [APPENDUID" in reply
