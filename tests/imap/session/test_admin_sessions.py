"""IMAP sessions in the admin session registry (what `doveadm who` lists and `kick` ends),
and imap-login's `%k` over TLS.

Real Dovecot 2.3.19, for the same client (checked by hand with `doveadm kick` during IDLE):
the client reads `* BYE Server shutting down.` and the log says
`imap(alice@example.test)<pid><session>: Info: Disconnected: Server shutting down. in=... out=...`.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import ssl
import time

import pytest

from pydovecot.login.sessions import REGISTRY, Session

from .cases import LOGIN, PASSWORD
from .harness import running_server


def _imap_sessions() -> list[Session]:
    return [s for s in REGISTRY.sessions if s.service == "imap"]


def _wait(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _read_until(sock: socket.socket | ssl.SSLSocket, word: bytes) -> bytes:
    data = b""
    while word not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(getattr(record, "dovecot_prefix", "") + record.getMessage())


@pytest.fixture
def collected() -> object:
    collect = _Collect()
    logger = logging.getLogger("pydovecot")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(collect)
    yield collect
    logger.removeHandler(collect)
    logger.setLevel(old_level)


def test_who_idle_state_and_kick(collected: _Collect) -> None:
    before = set(map(id, _imap_sessions()))
    with running_server() as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        _read_until(sock, b"\r\n")
        sock.sendall(f"{LOGIN}\r\nb SELECT INBOX\r\n".encode())
        _read_until(sock, b"b OK")
        assert _wait(lambda: [s for s in _imap_sessions() if id(s) not in before])
        (mine,) = [s for s in _imap_sessions() if id(s) not in before]
        assert (mine.user, mine.remote_ip, mine.ident) == ("alice@example.test", "127.0.0.1",
                                                          "imap/127.0.0.1/alice@example.test")
        sock.sendall(b"c IDLE\r\n")
        _read_until(sock, b"+ idling")
        assert _wait(lambda: mine.state == "IDLE")
        sock.sendall(b"DONE\r\n")
        _read_until(sock, b"c OK")
        assert _wait(lambda: mine.state == "")
        sock.sendall(b"d IDLE\r\n")
        _read_until(sock, b"+ idling")
        assert REGISTRY.kick_ident(mine.ident) == 1
        assert _read_until(sock, b"\r\n\x00").endswith(b"* BYE Server shutting down.\r\n")  # then EOF
        assert _wait(lambda: mine not in REGISTRY.sessions)
        assert _wait(lambda: any("Disconnected: Server shutting down. in=" in line for line in collected.lines))
        sock.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
def test_login_line_names_tls_protocol_and_cipher(collected: _Collect) -> None:
    elements = "login_log_format_elements = user=<%u> method=%m rip=%r mpid=%e %c %k session=<%{session}>\n"
    with running_server("ssl = yes\n" + elements) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        _read_until(sock, b"\r\n")
        sock.sendall(b"a STARTTLS\r\n")
        _read_until(sock, b"a OK")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        tls = context.wrap_socket(sock)
        tls.sendall(f"b LOGIN alice@example.test {PASSWORD}\r\nc LOGOUT\r\n".encode())
        _read_until(tls, b"c OK")
        cipher, version = tls.cipher(), tls.version()
        tls.close()
        assert _wait(lambda: any("Login: " in line for line in collected.lines))
    (login,) = [line for line in collected.lines if line.startswith("imap-login: Login: ")]
    assert cipher is not None
    # As real Dovecot's line with the seed's elements (tests/examples' golden log).
    assert re.search(rf", TLS, {re.escape(str(version))} with cipher {re.escape(cipher[0])} "
                     rf"\({cipher[2]}/{cipher[2]} bits\), session=<", login), login
