"""pop3_client_workarounds (outlook-no-nuls, oe-ns-eoh): our RETR/TOP bytes against real
Dovecot's, recorded by record_workaround_goldens.py on the same messages."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from pop3_fixtures import GOLDENS, Driver, InMemoryMailbox, golden_settings
from record_workaround_goldens import WORKAROUND_MESSAGES, WORKAROUND_SETS, commands

from pydovecot.pop3 import Pop3Connection
from pydovecot.pop3.protocol import apply_workarounds, parse_workarounds


def replies(workarounds: str) -> bytes:
    from dataclasses import replace

    settings = replace(golden_settings(), workarounds=parse_workarounds(workarounds))
    mailbox = InMemoryMailbox(list(WORKAROUND_MESSAGES), [f"u{n}" for n in range(len(WORKAROUND_MESSAGES))])
    driver = Driver(Pop3Connection(settings), mailbox, "tester", "secret")
    driver.send(b"USER tester\r\nPASS secret\r\n")
    return driver.send(commands())


@pytest.mark.parametrize("name", sorted(WORKAROUND_SETS))
def test_retr_and_top_match_real_dovecot(name: str) -> None:
    golden = (GOLDENS / "workarounds" / f"{name}.bin").read_bytes()
    ours = replies(WORKAROUND_SETS[name])
    # real's pre-authenticated pop3 says "Logging out." without a login before it
    assert ours.split(b"+OK Logging out")[0] == golden.split(b"+OK Logging out")[0]


def test_outlook_no_nuls_replaces_every_nul() -> None:
    assert apply_workarounds(b"a\0b\0\r\n", b"a\0b\0\n", frozenset({"outlook-no-nuls"})) == b"a\x80b\x80\r\n"
    assert apply_workarounds(b"a\0b\r\n", b"a\0b\n", frozenset()) == b"a\0b\r\n"


def test_oe_ns_eoh_adds_the_missing_empty_line_only() -> None:
    eoh = frozenset({"oe-ns-eoh"})
    assert apply_workarounds(b"H: 1\r\n", b"H: 1\n", eoh) == b"H: 1\r\n\r\n"
    assert apply_workarounds(b"H: 1\r\n\r\nb\r\n", b"H: 1\n\nb\n", eoh) == b"H: 1\r\n\r\nb\r\n"
    assert apply_workarounds(b"\r\nbody\r\n", b"\r\nbody\r\n", eoh) == b"\r\nbody\r\n"


def test_workaround_list_accepts_commas_and_spaces() -> None:
    assert parse_workarounds("outlook-no-nuls, oe-ns-eoh") == {"outlook-no-nuls", "oe-ns-eoh"}
    assert parse_workarounds("") == frozenset()


@pytest.mark.skipif(os.geteuid() != 0, reason="the set-up's Maildirs belong to the vmail user")
def test_workarounds_from_settings_reach_the_session() -> None:
    """The whole server: pop3_client_workarounds read for the logged-in user, as real's output."""
    from our_server import OurServer
    from server_env import MAIL_UID, PASSWORD, write_env

    from tests.support.real_dovecot import chown_tree

    root = Path(tempfile.mkdtemp(prefix="pop3wa-"))
    try:
        conf = write_env(root, port=1)
        conf.write_text(conf.read_text() + "pop3_client_workarounds = outlook-no-nuls oe-ns-eoh\n")
        maildir = root / "mail" / "tester"
        shutil.rmtree(maildir)
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        for n, data in enumerate(WORKAROUND_MESSAGES, 1):
            (maildir / "cur" / f"{1000 + n}.M{n}P1.host,S={len(data)}:2,").write_bytes(data)
        chown_tree(maildir, MAIL_UID)
        with OurServer(conf) as ours, socket.create_connection(("127.0.0.1", ours.port), timeout=20) as sock:
            sock.sendall(f"USER tester\r\nPASS {PASSWORD}\r\n".encode() + commands())
            received = b""
            while b"+OK Logging out" not in received and (chunk := sock.recv(65536)):
                received += chunk
    finally:
        shutil.rmtree(root, ignore_errors=True)
    golden = (GOLDENS / "workarounds" / "both.bin").read_bytes().split(b"+OK Logging out")[0]
    replies = received.split(b"+OK Logged in.\r\n", 1)[1].split(b"+OK Logging out")[0]
    assert replies == golden
