"""``service auth`` in its own process under privilege separation (pydovecot/master/auth_process.py).

As Dovecot runs it (``service auth { user = $default_internal_user }``): the root master binds the
auth sockets, one auth process -- a fresh interpreter -- serves them as the dovecot user, and
holds the passdb's data alone.  The master's own lookups (the hand-off's userdb, LMTP's
recipients) go to it over the auth master protocol.  Same configuration and users as
test_privilege_separation.py, plus a Postfix-style SASL socket (``unix_listener
<dir>/spool/private/auth``).  What real Dovecot 2.3.19 does here was recorded on the same
configuration: its auth runs as ``dovecot``, a SIGKILLed auth is logged as
``auth: Fatal: master: service(auth): child N killed with signal 9`` and restarted, and a
root-only (0600) passwd-file fails with the error text asserted below.
"""

from __future__ import annotations

import base64
import os
import pwd
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.master.harness import TIMEOUT
from tests.master.test_privilege_separation import (
    MARKER_PASSWORD,
    PASSWORD,
    USERS,
    Lines,
    Server,
    children,
    connect,
    imap_login,
    memory_holds,
    peer_pid,
    running,
    status_ids,
)
from tests.support import server as our_server
from tests.support.net import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation starts as root")

POSTFIX_SOCKET = "@ROOT@/spool/private/auth"
EXTRA = f"""service auth {{
  unix_listener {POSTFIX_SOCKET} {{
    mode = 0666
  }}
}}
"""
INTERNAL = pwd.getpwnam("dovecot")
GOLDEN = [line for line in (Path(__file__).parent / "goldens" / "auth_process_real_dovecot.txt").read_text().splitlines()
          if not line.startswith("#")]
LOGIN_USER = pwd.getpwnam("dovenull")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running(extra=EXTRA) as server:
        yield server


def auth_pids(server: Server) -> list[int]:
    out = []
    for pid in children(server.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"pydovecot.master.auth_process" in cmdline and b"--worker" not in cmdline:
                out.append(pid)
        except (FileNotFoundError, ProcessLookupError):  # gone, or exiting while we read
            continue
    return out


def the_auth_pid(server: Server) -> int:
    assert wait_for(lambda: len(auth_pids(server)) == 1, TIMEOUT), auth_pids(server)
    return auth_pids(server)[0]


def sasl_plain(path: Path, user: str, password: str) -> str:
    """What Postfix's dovecot SASL client does: handshake, then AUTH PLAIN; the reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(str(path))
        f = sock.makefile("rwb", buffering=0)
        f.write(b"VERSION\t1\t2\nCPID\t4242\n")
        while f.readline().rstrip(b"\n") != b"DONE":
            pass
        resp = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        f.write(f"AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tresp={resp}\n".encode())
        return f.readline().decode().rstrip("\n")


def pop3_login(server: Server, user: str) -> tuple[socket.socket, Lines]:
    sock = connect(server.pop3)
    c = Lines(sock)
    c.line()
    c.send(f"USER {user}")
    c.line()
    c.send(f"PASS {PASSWORD}")
    assert c.line() == "+OK Logged in.\r\n"
    return sock, c


def lmtp_deliver(server: Server, rcpt: str, subject: str) -> str:
    sock = connect(server.lmtp)
    c = Lines(sock)
    try:
        c.line()
        c.send("LHLO test")
        c.until("250 ")
        c.send("MAIL FROM:<sender@example.test>")
        c.line()
        c.send(f"RCPT TO:<{rcpt}>")
        reply = c.line()
        if not reply.startswith("250 "):
            return reply
        c.send("DATA")
        c.line()
        c.f.write(f"Subject: {subject}\r\n\r\nhello\r\n.\r\n".encode())
        return c.line()
    finally:
        sock.close()


# --- the tests -----------------------------------------------------------------------------

def test_auth_process_runs_as_default_internal_user(server: Server) -> None:
    """One auth process, a child of the master, as dovecot (real, effective, saved and fs ids)
    once it serves (a login has been answered)."""
    sock, _ = imap_login(server.imap, "alice")
    sock.close()
    pid = the_auth_pid(server)
    assert status_ids(pid) == (INTERNAL.pw_uid, INTERNAL.pw_gid)
    groups = re.search(r"^Groups:\s*(.*)$", Path(f"/proc/{pid}/status").read_text(), re.M).group(1).split()  # type: ignore[union-attr]
    assert groups == [str(INTERNAL.pw_gid)]
    assert status_ids(server.proc.pid)[0] == 0  # the master stays root
    # the auth sockets are still the master's: bound as root, with their modes
    assert oct((server.dir / "spool" / "private" / "auth").stat().st_mode & 0o777) == "0o666"


def test_imap_pop3_and_postfix_sasl_log_in_through_it(server: Server) -> None:
    sock, c = imap_login(server.imap, "alice")
    assert status_ids(peer_pid(server.imap, sock)) == USERS["alice"]
    c.send("z LOGOUT")
    sock.close()
    sock, p = pop3_login(server, "bob")
    assert status_ids(peer_pid(server.pop3, sock)) == USERS["bob"]
    p.send("QUIT")
    sock.close()
    path = server.dir / "spool" / "private" / "auth"
    assert sasl_plain(path, "alice", PASSWORD) == "OK\t1\tuser=alice"
    assert sasl_plain(path, "alice", "wrong").startswith("FAIL\t1\tuser=alice")
    bad = connect(server.imap)
    b = Lines(bad)
    b.line()
    b.send("x LOGIN bob wrong")
    assert b.until("x ")[-1].startswith("x NO [AUTHENTICATIONFAILED]")
    bad.close()


def test_only_the_auth_process_holds_the_passdb(server: Server) -> None:
    """A password nobody logs in with: in the auth process once it read the passwd-file, in no
    other process -- not in the master any more, nor in the login or mail processes."""
    sock, _ = imap_login(server.imap, "alice")
    secret = MARKER_PASSWORD.encode()
    auth = the_auth_pid(server)
    assert memory_holds(auth, secret)
    assert not memory_holds(server.proc.pid, secret)
    others = [pid for top in children(server.proc.pid) if top != auth for pid in [top, *children(top)]]
    assert len(others) >= 3  # two templates and their login processes, a mail process
    for pid in others:
        try:
            assert not memory_holds(pid, secret), pid
        except FileNotFoundError:
            continue  # a login process done with its client
    sock.close()


def test_lmtp_and_the_handoff_ask_it_over_the_master_protocol(server: Server) -> None:
    """LMTP stays in the root master (as Dovecot's lmtp runs as root); its recipient lookups and
    the hand-off's userdb lookup go to the auth process."""
    assert lmtp_deliver(server, "bob", "via auth").startswith("250 2.0.0 <bob>")
    new = server.dir / "home" / "bob" / "Maildir" / "new"
    files = [p for p in new.iterdir() if b"Subject: via auth" in p.read_bytes()]
    assert files and all((p.stat().st_uid, p.stat().st_gid) == USERS["bob"] for p in files)
    assert lmtp_deliver(server, "nobody-here", "x").startswith("550 5.1.1 <nobody-here> User doesn't exist")
    # user names are normalised by the auth process (auth_username_format = %Lu)
    assert lmtp_deliver(server, "BOB", "upper").startswith("250 2.0.0 <BOB>")


def _login_works(server: Server) -> bool:
    try:
        sock, c = imap_login(server.imap, "carol")
    except (AssertionError, OSError):
        return False
    c.send("z LOGOUT")
    sock.close()
    return True


def test_restart_after_sigkill_reload_and_stop() -> None:
    with running(extra=EXTRA) as server:
        old = the_auth_pid(server)
        assert _login_works(server)
        os.kill(old, signal.SIGKILL)
        line = GOLDEN[0].replace("<PID>", str(old))
        assert wait_for(lambda: line in server.log_text(), TIMEOUT), server.log_text()
        assert wait_for(lambda: auth_pids(server) and auth_pids(server) != [old], TIMEOUT)
        new = the_auth_pid(server)
        # the login processes whose auth died are replaced; logins work again
        assert wait_for(lambda: _login_works(server), TIMEOUT)
        assert status_ids(new) == (INTERNAL.pw_uid, INTERNAL.pw_gid)
        assert sasl_plain(server.dir / "spool" / "private" / "auth", "bob", PASSWORD) == "OK\t1\tuser=bob"
        assert lmtp_deliver(server, "carol", "after restart").startswith("250 2.0.0 <carol>")

        # a reload: a new auth process from the new configuration, the old one goes
        server.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: new not in auth_pids(server) and len(auth_pids(server)) == 1, TIMEOUT)
        newer = the_auth_pid(server)
        assert wait_for(lambda: _login_works(server), TIMEOUT)
        assert lmtp_deliver(server, "alice", "after reload").startswith("250 2.0.0 <alice>")

        our_server.stop(server.proc, close=False)
        assert not Path(f"/proc/{newer}").exists()
        assert "Error" not in server.log_text(), server.log_text()


def test_root_only_passwd_file_is_unreadable_as_in_dovecot() -> None:
    """Real Dovecot's auth (as dovecot) cannot open a 0600 root passwd-file either: the client gets
    a temporary failure, the log says why (recorded from Dovecot 2.3.19)."""
    with running(extra=EXTRA, prepare=lambda root: (root / "users").chmod(0o600)) as server:
        sock = connect(server.imap)
        c = Lines(sock)
        c.line()
        c.send(f"a LOGIN alice {PASSWORD}")
        assert c.until("a ")[-1].startswith("a NO [UNAVAILABLE] Temporary authentication failure.")
        sock.close()
        users = server.dir / "users"
        expected = [line.replace("<USERS>", str(users)).replace("<UID>", str(INTERNAL.pw_uid))
                    .replace("<GID>", str(INTERNAL.pw_gid)) for line in GOLDEN[1:]]

        def logged() -> list[str]:
            return [re.sub(r"^.*?auth: ", "auth: ", re.sub(r"<[^>]+>\)", "<SESSION>)", ln))
                    for ln in server.log_text().splitlines() if "passwd-file" in ln]

        # when auth starts (once for the passdb, once for the userdb), then at the lookup
        assert wait_for(lambda: len(logged()) >= 3, TIMEOUT), server.log_text()
        assert logged() == expected


def test_blocking_root_drivers_keep_auth_root(tmp_path: Path) -> None:
    """Dovecot runs shadow/pam lookups in auth-worker, root by default; we have no auth-worker, so
    such a passdb/userdb keeps the auth process root -- unless ``blocking=no`` puts the lookup in
    auth itself (as dovecot, in Dovecot too).  passwd (NSS) needs no root."""
    from pydovecot.config import load
    from pydovecot.master.auth_process import internal_identity, root_drivers

    conf = tmp_path / "dovecot.conf"
    conf.write_text("passdb {\n  driver = shadow\n}\npassdb {\n  driver = pam\n  args = blocking=no dovecot\n}\n"
                    "userdb {\n  driver = passwd\n}\n")
    node = load(str(conf)).lookup(service="auth")
    assert root_drivers(node) == ["passdb shadow"]
    assert internal_identity(node).uid == INTERNAL.pw_uid
    conf.write_text("passdb {\n  driver = passwd-file\n  args = /nonexistent\n}\nuserdb {\n  driver = passwd\n}\n")
    assert root_drivers(load(str(conf)).lookup(service="auth")) == []


def test_shadow_lookups_go_to_a_root_auth_worker() -> None:
    """``passdb { driver = shadow }``: as in Dovecot, /etc/shadow is read by a root auth-worker,
    while auth itself runs as dovecot.  The system user ``dovecot`` has a locked password ("!")
    in /etc/shadow: only a process that could read the file can say so (as dovecot the lookup
    would fail with Permission denied).  A killed worker is replaced."""
    shadow = "auth_verbose = yes\npassdb {\n  driver = shadow\n}\n"
    with running(extra=EXTRA + shadow) as server:
        def workers() -> list[int]:
            return [pid for pid in children(server.proc.pid)
                    if b"--worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]

        def refused(count: int) -> bool:
            sock = connect(server.imap)
            c = Lines(sock)
            c.line()
            c.send("a LOGIN dovecot whatever")
            reply = c.until("a ")[-1]
            sock.close()
            assert reply.startswith("a NO [AUTHENTICATIONFAILED]"), reply
            return wait_for(lambda: server.log_text().count("Password disabled") >= count, TIMEOUT)

        assert refused(1), server.log_text()
        assert "shadow(dovecot,127.0.0.1," in server.log_text()
        assert "Permission denied" not in server.log_text()
        assert status_ids(the_auth_pid(server)) == (INTERNAL.pw_uid, INTERNAL.pw_gid)
        [worker] = workers()
        assert status_ids(worker) == (0, 0)
        assert _login_works(server)  # passwd-file users as before

        os.kill(worker, signal.SIGKILL)
        line = f"auth-worker: Fatal: master: service(auth-worker): child {worker} killed with signal 9"
        assert wait_for(lambda: line in server.log_text(), TIMEOUT), server.log_text()
        assert wait_for(lambda: len(workers()) == 1 and workers() != [worker], TIMEOUT)
        assert refused(2), server.log_text()
