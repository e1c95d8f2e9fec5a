"""IDLE pushes: another session's delivery shows up at once (inotify), keepalives go out, and a
client that vanishes mid-IDLE costs nothing."""

from __future__ import annotations

import imaplib
import socket

from .cases import LOGIN, PASSWORD, SIMPLE
from .harness import running_server


def _idle(port: int) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.recv(65536)
    sock.sendall(f"{LOGIN}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
    data = b""
    while b"+ idling" not in data:
        data += sock.recv(65536)
    return sock, data


def _read_until(sock: socket.socket, word: bytes, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while word not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_delivery_wakes_idle_without_waiting_for_the_interval() -> None:
    # mailbox_idle_check_interval stays at its 30 s default: only inotify can be this quick.
    with running_server() as server:
        sock, _ = _idle(server.port)
        writer = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
        writer.login("alice@example.test", PASSWORD)
        writer.append("INBOX", None, None, SIMPLE)
        pushed = _read_until(sock, b"EXISTS", timeout=10)
        assert b"* 1 EXISTS" in pushed
        writer.select("INBOX")
        writer.store("1", "+FLAGS", "\\Flagged")
        pushed = _read_until(sock, b"FETCH", timeout=10)
        assert b"* 1 FETCH (FLAGS (\\Flagged" in pushed
        sock.sendall(b"DONE\r\nd LOGOUT\r\n")
        assert b"c OK Idle completed" in _read_until(sock, b"d OK", timeout=10)
        sock.close()
        writer.logout()


def test_keepalive_and_vanishing_client() -> None:
    with running_server("imap_idle_notify_interval = 1 secs\n") as server:
        sock, _ = _idle(server.port)
        assert b"* OK Still here" in _read_until(sock, b"Still here", timeout=10)
        sock.close()  # gone mid-IDLE
        other = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
        other.login("alice@example.test", PASSWORD)
        assert other.noop()[0] == "OK"
        other.logout()
