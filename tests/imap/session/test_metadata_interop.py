"""Attributes written by us are read by real Dovecot 2.3.19 and the other way round: the same
dict file (mail_attribute_dict = file:%h/dovecot-attributes), key layout and mailbox GUIDs.
Live only: skipped where real Dovecot is not installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.real_dovecot import IMAP, imap_preauth

from .cases import LOGIN, USERS, normalise, run_case
from .harness import RunningServer, running_server
from .metadata_cases import ON

pytestmark = pytest.mark.skipif(not os.path.exists(IMAP) or os.geteuid() != 0,
                                reason="needs real Dovecot's imap and root (mail owned by uid 10000)")


def real_session(server: RunningServer, lines: list[bytes]) -> str:
    """Real imap in PREAUTH mode on the same home (and so the same Maildir and dict file)."""
    conf = server.tmp / "real.conf"
    conf.write_text(server.conf.read_text() + "mail_uid = 10000\nmail_gid = 10000\n")
    proc = imap_preauth(conf, USERS[0], home_of(server), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
    out, _err = proc.communicate(b"".join(lines) + b"z LOGOUT\r\n", timeout=60)
    return normalise(out.decode("utf-8", "replace"))


def ours(server: RunningServer, lines: list[str]) -> str:
    return "".join(normalise(reply) for _line, reply in run_case("127.0.0.1", server.port, [LOGIN, *lines]))


def home_of(server: RunningServer) -> Path:
    return server.tmp / "home" / USERS[0]


def test_ours_then_real() -> None:
    with running_server(ON) as server:
        ours(server, ['b SETMETADATA INBOX (/private/comment "from ours" /shared/x {6+}\r\na\r\n\tb\x01)',
                      'c SETMETADATA "" (/private/s "server value")', "d CREATE Work",
                      'e SETMETADATA Work (/private/w "work")'])
        text = real_session(server, [b"a GETMETADATA INBOX (/private/comment /shared/x)\r\n",
                                     b'b GETMETADATA "" /private/s\r\n',
                                     b"c GETMETADATA (DEPTH infinity) Work /private\r\n"])
    assert "* METADATA INBOX (/private/comment {9}\r\nfrom ours /shared/x {6}\r\na\r\n\tb\x01)\r\n" in text
    assert '* METADATA "" (/private/s {12}\r\nserver value)\r\n' in text
    assert "* METADATA Work (/private/w {4}\r\nwork)\r\n" in text


def test_real_then_ours() -> None:
    with running_server(ON) as server:
        ours(server, ["b NOOP"])  # creates the home as the mail user
        text = real_session(server, [b"a CREATE Work\r\n",
                                     b'b SETMETADATA Work (/private/w "from real" /shared/s {4+}\r\nx\r\ny)\r\n',
                                     b'c SETMETADATA "" (/shared/srv "real server")\r\n',
                                     b'd SETMETADATA INBOX (/private/i "inbox")\r\n'])
        assert text.count(" OK Setmetadata completed") == 3, text
        got = ours(server, ["b GETMETADATA Work (/private/w /shared/s)", 'c GETMETADATA "" /shared/srv',
                            "d GETMETADATA (DEPTH 1) INBOX /private", "e DELETE Work"])
        assert "* METADATA Work (/private/w {9}\r\nfrom real /shared/s {4}\r\nx\r\ny)\r\n" in got
        assert '* METADATA "" (/shared/srv {11}\r\nreal server)\r\n' in got
        # Server attributes live on INBOX under Dovecot's pvt prefix: not listed as INBOX's own.
        assert "* METADATA INBOX (/private/i {5}\r\ninbox)\r\n" in got
        # DELETE dropped Work's attributes from the dict; the others stay.
        data = (home_of(server) / "dovecot-attributes").read_bytes()
        assert b"/w\n" not in data and b"/s\n" not in data
        assert b"/i\ninbox\n" in data and b"/vendor/vendor.dovecot/pvt/server/srv\nreal server\n" in data


def test_real_waits_for_our_dotlock() -> None:
    """Both sides replace the dict under PATH.lock (dict-file's default dotlock)."""
    with running_server(ON) as server:
        ours(server, ['b SETMETADATA INBOX (/private/a "1")'])
        lock = home_of(server) / "dovecot-attributes.lock"
        lock.write_text("")
        os.chown(lock, 10000, 10000)
        conf = server.tmp / "real.conf"
        conf.write_text(server.conf.read_text() + "mail_uid = 10000\nmail_gid = 10000\n")
        proc = imap_preauth(conf, USERS[0], home_of(server), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(b'c SETMETADATA INBOX (/private/r "real")\r\nz LOGOUT\r\n')
        proc.stdin.flush()
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)  # held up by the lock we hold
        lock.unlink()
        out, _err = proc.communicate(timeout=60)
        assert b"c OK Setmetadata completed" in out
        got = ours(server, ["b GETMETADATA INBOX (/private/a /private/r)"])
    assert "* METADATA INBOX (/private/a {1}\r\n1 /private/r {4}\r\nreal)\r\n" in got
