"""NOTIFY against the transcripts recorded from real Dovecot (goldens/notify.json), and what
only our server can be asked: a change written straight into the Maildir, NOTIFY during IDLE,
bad input."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from .cases import LOGIN, _Conn
from .harness import RunningServer, running_server
from .notify_cases import CASE_SETTINGS, CASES, drain, normalise_notify, run_notify_case, views

GOLDEN = Path(__file__).with_name("goldens") / "notify.json"
GOLDENS: dict[str, list[list[str]]] = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.fixture(scope="module")
def server() -> RunningServer:
    with running_server() as srv:
        yield srv  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_real_dovecot(name: str) -> None:
    if name not in GOLDENS:
        pytest.skip("no golden recorded")
    with running_server(CASE_SETTINGS.get(name, "")) as srv:  # an empty mail home, as recorded
        pairs = run_notify_case("127.0.0.1", srv.port, CASES[name])
    got = [[line, normalise_notify(reply)] for line, reply in pairs]
    ours_first, ours_second = views(got)
    # The goldens again through normalise_notify: it may have learnt an order Dovecot does
    # not keep since they were recorded (renames).
    real_first, real_second = views([[line, normalise_notify(reply)] for line, reply in GOLDENS[name]])
    assert ours_second == real_second
    assert ours_first.split("\r\n") == real_first.split("\r\n")


def _login(port: int) -> _Conn:
    conn = _Conn("127.0.0.1", port, 10)
    conn.read_until(lambda ls: True)
    assert " OK " in conn.command(LOGIN)  # type: ignore[operator]
    return conn


def _maildir(srv: RunningServer) -> Path:
    return srv.tmp / "home" / "alice@example.test" / "Maildir"


def _wait_for(conn: _Conn, word: str, seconds: float = 5.0) -> str:
    seen = ""
    end = time.monotonic() + seconds
    while word not in seen and time.monotonic() < end:
        seen += drain(conn, 0.2)
    return seen


def test_a_file_written_into_the_maildir_is_reported() -> None:
    """Another program (real Dovecot, an MDA) delivering into the folder: inotify tells us."""
    with running_server() as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in two.command("x CREATE Box")  # type: ignore[operator]
        assert " OK " in one.command("b NOTIFY SET (PERSONAL (MessageNew MessageExpunge))")  # type: ignore[operator]
        new = _maildir(srv) / ".Box" / "new"
        tmp = new.parent / "tmp" / "1700000000.P1Q1.host"
        tmp.write_bytes(b"Subject: direct\r\n\r\nbody\r\n")
        os.rename(tmp, new / tmp.name)
        pushed = _wait_for(one, "STATUS Box")
        assert "* STATUS Box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY " in pushed
        assert pushed.rstrip().endswith("UNSEEN 1)")
        one.sock.close()
        two.sock.close()


def test_notify_during_idle_and_after_a_command() -> None:
    with running_server() as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in one.command(  # type: ignore[operator]
            "b NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName))")
        one.sock.sendall(b"c IDLE\r\n")
        assert _wait_for(one, "+ idling").startswith("+ idling")
        assert " OK " in two.command("x CREATE Box")  # type: ignore[operator]
        assert '* LIST () "/" Box' in _wait_for(one, "LIST")
        assert " OK " in two.command("y APPEND Box {5+}\r\nabc\r\n")  # type: ignore[operator]
        assert "* STATUS Box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY" in _wait_for(one, "STATUS")
        one.sock.sendall(b"DONE\r\n")
        assert "c OK Idle completed" in _wait_for(one, "c OK")
        # A change made while session 1 runs a command shows right after that command.
        assert " OK " in two.command("z APPEND Box {5+}\r\nabc\r\n")  # type: ignore[operator]
        reply = one.command("d NOOP") or ""
        reply += _wait_for(one, "STATUS", 2.0)
        assert "* STATUS Box (MESSAGES 2 UIDNEXT 3 UNSEEN 2)" in reply
        # NOTIFY NONE: no more pushes.
        assert " OK " in one.command("e NOTIFY NONE")  # type: ignore[operator]
        assert " OK " in two.command("w APPEND Box {5+}\r\nabc\r\n")  # type: ignore[operator]
        assert drain(one, 0.5) == ""
        one.sock.close()
        two.sock.close()


def test_no_watches_outlive_the_session() -> None:
    with running_server() as srv:
        one = _login(srv.port)
        assert " OK " in one.command("b NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName))")  # type: ignore[operator]
        assert srv.service is not None
        watcher = srv.service.watcher
        end = time.monotonic() + 5
        while not watcher._listeners and time.monotonic() < end:  # noqa: SLF001 - armed after the reply
            time.sleep(0.05)
        assert watcher._listeners  # noqa: SLF001
        one.sock.close()
        end = time.monotonic() + 5
        while watcher._listeners and time.monotonic() < end:  # noqa: SLF001
            time.sleep(0.05)
        assert not watcher._listeners  # noqa: SLF001


@pytest.mark.parametrize("line", [
    "b NOTIFY SET (" * 50,
    "b NOTIFY SET (PERSONAL (MessageNew)",
    "b NOTIFY SET (SELECTED (MessageNew (BODY[ MessageExpunge))",
    "b NOTIFY SET (SUBTREE \"unterminated (MessageNew))",
    "b NOTIFY SET (MAILBOXES (" + " ".join(f"m{i}" for i in range(101)) + ") (MessageNew))",
    "b NOTIFY \x01\x02",
])
def test_bad_input_is_refused_and_the_session_goes_on(server: RunningServer, line: str) -> None:
    conn = _login(server.port)
    reply = conn.command(line) or ""
    assert reply.startswith("b BAD ") or reply.startswith("b NO ")
    assert "c OK" in (conn.command("c NOOP") or "")
    conn.sock.close()


def test_too_many_names_is_notificationoverflow(server: RunningServer) -> None:
    conn = _login(server.port)
    names = " ".join(f"m{i}" for i in range(101))
    reply = conn.command(f"b NOTIFY SET (MAILBOXES ({names}) (MessageNew))") or ""
    assert reply.startswith("b NO [NOTIFICATIONOVERFLOW] Too many mailbox names")
    conn.sock.close()


def test_socket_closed_mid_notify_does_not_hurt_the_server(server: RunningServer) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(f"{LOGIN}\r\nb NOTIFY SET (PERSONAL (MessageNew MessageExpunge))\r\n".encode())
    sock.close()
    conn = _login(server.port)
    assert "c OK" in (conn.command("c NOOP") or "")
    conn.sock.close()


def test_subscribed_follows_the_subscriptions() -> None:
    """SUBSCRIBED means the subscriptions as they are when the change happens (RFC 5465 6.2);
    Dovecot 2.3.19 is unreliable here (notify_cases.py), so this is checked on ours only."""
    with running_server() as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in two.command("x CREATE Box")  # type: ignore[operator]
        assert " OK " in one.command(  # type: ignore[operator]
            "b NOTIFY SET (SUBSCRIBED (MessageNew MessageExpunge SubscriptionChange))")
        assert " OK " in two.command("y APPEND Box {5+}\r\nabc\r\n")  # type: ignore[operator]
        assert drain(one, 0.5) == ""  # not subscribed
        assert " OK " in two.command("z SUBSCRIBE Box")  # type: ignore[operator]
        assert _wait_for(one, "LIST") == '* LIST (\\Subscribed) "/" Box\r\n'
        assert " OK " in two.command("w APPEND Box {5+}\r\nabc\r\n")  # type: ignore[operator]
        assert "* STATUS Box (MESSAGES 2 UIDNEXT 3 UIDVALIDITY " in _wait_for(one, "STATUS")
        assert " OK " in two.command("v APPEND Sent {5+}\r\nabc\r\n")  # type: ignore[operator]
        assert "* STATUS Sent (" in _wait_for(one, "STATUS")  # auto = subscribe
        assert " OK " in two.command("u UNSUBSCRIBE Box")  # type: ignore[operator]
        assert drain(one, 0.5) == ""  # Box left the filter: its unsubscription is not news here
        one.sock.close()
        two.sock.close()


def test_selected_mailbox_quiet_without_message_events() -> None:
    """After a NOTIFY without SELECTED's MessageNew, syncing the selected mailbox sends no
    EXISTS/RECENT (Dovecot's notify_count_changes); expunges still come at the next command."""
    with running_server() as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in one.command("b SELECT INBOX")  # type: ignore[operator]
        assert " OK " in one.command("c NOTIFY NONE")  # type: ignore[operator]
        assert " OK " in two.command("x APPEND INBOX {5+}\r\nabc\r\n")  # type: ignore[operator]
        time.sleep(0.3)
        reply = one.command("d NOOP") or ""
        assert reply.startswith("d OK ") and "EXISTS" not in reply and "RECENT" not in reply
        assert " OK " in two.command("y SELECT INBOX")  # type: ignore[operator]
        assert " OK " in two.command("z STORE 1 +FLAGS (\\Deleted)")  # type: ignore[operator]
        assert " OK " in two.command("w EXPUNGE")  # type: ignore[operator]
        assert "* 1 EXPUNGE" in (one.command("e NOOP") or "")
        one.sock.close()
        two.sock.close()


@pytest.mark.skipif(not os.path.exists("/usr/lib/dovecot/imap") or os.geteuid() != 0,
                    reason="needs real Dovecot's imap and root (mail owned by uid 10000)")
def test_real_dovecot_writing_the_same_maildir_is_reported() -> None:
    """Real Dovecot (PREAUTH imap on the same home) creates, appends and flags; our NOTIFY
    session hears all of it through inotify."""
    import subprocess

    from tests.support.real_dovecot import imap_preauth

    with running_server() as srv:
        one = _login(srv.port)
        assert " OK " in one.command("a0 CREATE Box")  # type: ignore[operator]
        assert " OK " in one.command(  # type: ignore[operator]
            "b NOTIFY SET (PERSONAL (MessageNew MessageExpunge FlagChange MailboxName))")
        conf = srv.tmp / "real.conf"
        conf.write_text(srv.conf.read_text() + "mail_uid = 10000\nmail_gid = 10000\n")
        home = srv.tmp / "home" / "alice@example.test"
        proc = imap_preauth(conf, "alice@example.test", home, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        proc.communicate(b"a CREATE Real\r\nb APPEND Box {5+}\r\nabc\r\n\r\nc SELECT Box\r\n"
                         b"d STORE 1 +FLAGS (\\Seen)\r\nz LOGOUT\r\n", timeout=60)
        pushed = _wait_for(one, "UNSEEN 0)")
        one.sock.close()
    assert '* LIST () "/" Real\r\n' in pushed
    assert "* STATUS Box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY " in pushed
    assert pushed.rstrip().endswith("UNSEEN 0)") or "* STATUS Box (UNSEEN 0)" in pushed


def test_lmtp_delivery_is_reported() -> None:
    """Our LMTP's delivery code writing into the Maildir: a NOTIFY session hears it."""
    from pydovecot.config import load
    from pydovecot.lmtp.delivery import deliver
    from pydovecot.storage.access import run_as
    from pydovecot.storage.mail_user import create_mail_user

    with running_server() as srv:
        one = _login(srv.port)
        assert " OK " in one.command("b NOTIFY SET (PERSONAL (MessageNew MessageExpunge))")  # type: ignore[operator]
        home = srv.tmp / "home" / "alice@example.test"
        owner = home.stat()
        fields = {"uid": str(owner.st_uid), "gid": str(owner.st_gid), "home": str(home)}
        user = create_mail_user(load(str(srv.conf)).lookup(service="lmtp"), "alice@example.test", fields,
                                service="lmtp")
        import asyncio

        asyncio.run(run_as(user.uid, user.gid, deliver, user, "Sent", b"Subject: lmtp\n\nhello\n",
                           sender="bob@example.test"))
        pushed = _wait_for(one, "STATUS")
        one.sock.close()
    assert "* STATUS Sent (MESSAGES 1 UIDNEXT 2 UIDVALIDITY " in pushed
