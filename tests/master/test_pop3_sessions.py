"""The POP3 server registers its logged-in sessions (pydovecot.login.sessions) and ends one on a kick
the way Dovecot's SIGTERM does: "Disconnected: Server shutting down." in the log."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydovecot.login.sessions import REGISTRY
from tests.pop3.our_server import OurServer
from tests.pop3.server_env import PASSWORD, write_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the set-up's Maildirs belong to the vmail user")
TIMEOUT = 20.0


@pytest.fixture
def server() -> Iterator[OurServer]:
    root = Path(tempfile.mkdtemp(prefix="pop3adm-"))
    try:
        with OurServer(write_env(root, port=1)) as ours:
            yield ours
    finally:
        shutil.rmtree(root, ignore_errors=True)


def login(server: OurServer, user: str) -> tuple[socket.socket, object]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    f = sock.makefile("rwb", buffering=0)
    f.readline()
    f.write(f"USER {user}\r\n".encode())
    f.readline()
    f.write(f"PASS {PASSWORD}\r\n".encode())
    assert f.readline().startswith(b"+OK")
    return sock, f


def idents() -> list[str]:
    return sorted(s.ident for s in REGISTRY.sessions)


def wait_for(predicate: object) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_login_registers_and_quit_unregisters(server: OurServer) -> None:
    sock, f = login(server, "tester")
    assert idents() == ["pop3/127.0.0.1/tester"]
    assert REGISTRY.sessions[0].pid == os.getpid()
    f.write(b"QUIT\r\n")  # type: ignore[attr-defined]
    assert f.readline().startswith(b"+OK")  # type: ignore[attr-defined]
    wait_for(lambda: idents() == [])
    sock.close()


def test_kick_ends_just_that_session(server: OurServer) -> None:
    kicked_sock, kicked = login(server, "tester")
    other_sock, other = login(server, "saver")
    server.loop.call_soon_threadsafe(REGISTRY.kick_ident, "pop3/127.0.0.1/tester")
    assert kicked.readline() == b""  # type: ignore[attr-defined]
    wait_for(lambda: idents() == ["pop3/127.0.0.1/saver"])
    wait_for(lambda: any("Disconnected: Server shutting down." in line for line in server.log.lines))
    line = next(line for line in server.log.lines if "Server shutting down" in line)
    assert line.startswith("pop3(tester)<") and "Server shutting down. top=0/0, retr=0/0, del=0/" in line
    other.write(b"NOOP\r\n")  # type: ignore[attr-defined]
    assert other.readline() == b"+OK\r\n"  # type: ignore[attr-defined]
    for f, sock in ((kicked, kicked_sock), (other, other_sock)):
        f.close()  # type: ignore[attr-defined]
        sock.close()
    wait_for(lambda: idents() == [])
