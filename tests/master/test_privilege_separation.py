"""Privilege separation (PYDOVECOT_PROCESS_MODEL=separated, as root): no client is served as root.

Our master runs on a temporary configuration (the one real Dovecot was recorded on, plus LMTP)
with passwd-file users: alice (uid 10000), bob (65534), carol (10001) and lowuid (uid 100, below
first_valid_uid = 500).  The tests log in over IMAP and POP3, plain and with STARTTLS/STLS, and
read /proc/<pid>/status of the process serving each stage (found with ss): the login process
runs as default_login_user (dovenull), the mail session as the user's uid -- the process the
login line names (``mpid=``) -- never 0.  Files the sessions and LMTP create belong to the
user; uid 100 gets real Dovecot's replies and log lines (goldens/privsep_refused_real_dovecot.json);
a password only the passdb knows is in the master's memory and in no login or mail process's.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.master.harness import ROOT, TIMEOUT, make_cert
from tests.master.record_privsep_goldens import GOLDEN, conf_text, imap_refused, normalize_log, pop3_refused
from tests.support import server as our_server
from tests.support.net import free_port, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation starts as root")

PASSWORD = "secret"
# A user nobody logs in as, with a password made for this run: found in a process's memory only
# if that process has (a copy of) the passdb's data.
MARKER_PASSWORD = "marker-" + secrets.token_hex(12)
USERS = {"alice": (10000, 10000), "bob": (65534, 65534), "lowuid": (100, 100), "carol": (10001, 10001)}


@dataclass
class Server:
    dir: Path
    log: Path
    imap: int
    pop3: int
    lmtp: int
    proc: subprocess.Popen[str]

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def _write_conf(root: Path, imap: int, pop3: int, lmtp: int, extra: str = "") -> Path:
    cert, key = make_cert(root)
    (root / "users").write_text("".join(
        f"{name}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/home/{name}::\n" for name, (uid, gid) in USERS.items())
        + f"zed:{{PLAIN}}{MARKER_PASSWORD}:10000:10000::{root}/home/alice::\n")
    for name, (uid, gid) in USERS.items():
        home = root / "home" / name
        home.mkdir(parents=True)
        os.chown(home, uid, gid)
    conf = root / "dovecot.conf"
    # the one real Dovecot was recorded on, and LMTP
    conf.write_text(conf_text(root, imap, pop3, cert, key).replace("protocols = imap pop3", "protocols = imap pop3 lmtp")
                    + f"service lmtp {{\n  inet_listener lmtp {{\n    port = {lmtp}\n  }}\n}}\n" + extra)
    return conf


@contextlib.contextmanager
def running(model: str = "separated", *, extra: str = "",
            prepare: Callable[[Path], object] | None = None) -> Iterator[Server]:
    """Our master on the test configuration (+ ``extra`` text); ``prepare(dir)`` runs before it
    starts."""
    # not pytest's tmp_path: its 0700 parents would hide the homes from the users, and other
    # pytest runs on the machine clean old base temp directories away
    root = Path(tempfile.mkdtemp(prefix="pydovecot-privsep-"))
    root.chmod(0o755)
    imap, pop3, lmtp = free_port(), free_port(), free_port()
    conf = _write_conf(root, imap, pop3, lmtp, extra.replace("@ROOT@", str(root)))
    if prepare is not None:
        prepare(root)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYDOVECOT_PROCESS_MODEL": model}
    proc = our_server.start(conf, env=env)
    try:
        our_server.wait_started(proc, root / "log")
        yield Server(root, root / "log", imap, pop3, lmtp, proc)
    finally:
        our_server.stop(proc)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running() as server:
        yield server


# --- helpers -------------------------------------------------------------------------------

def status_ids(pid: int) -> tuple[int, int]:
    """(real uid, real gid) of ``pid``; /proc also shows effective/saved/fs: all must match."""
    text = Path(f"/proc/{pid}/status").read_text()
    uids = [int(x) for x in re.search(r"^Uid:\s+(.*)$", text, re.M).group(1).split()]  # type: ignore[union-attr]
    gids = [int(x) for x in re.search(r"^Gid:\s+(.*)$", text, re.M).group(1).split()]  # type: ignore[union-attr]
    assert len(set(uids)) == 1 and len(set(gids)) == 1, (uids, gids)  # real = effective = saved = fs
    return uids[0], gids[0]


def peer_pid(port: int, client: socket.socket) -> int:
    """The pid of the process holding the server side of ``client``'s TCP connection."""
    lport = client.getsockname()[1]
    out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} and dport = :{lport} )"],
                         capture_output=True, text=True, check=True).stdout
    pids = {int(p) for p in re.findall(r"pid=(\d+)", out)}
    assert len(pids) == 1, out
    return pids.pop()


def memory_holds(pid: int, needle: bytes) -> bool:
    """Whether ``needle`` is anywhere in the readable memory of ``pid`` (as root)."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r") or line.rstrip().endswith("[vvar]"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


def auth_pid(server: Server) -> int:
    """The auth process (auth_process.py): the master's child started for ``service auth``."""
    def find() -> int | None:
        return next((pid for pid in children(server.proc.pid)
                     if (cmd := Path(f"/proc/{pid}/cmdline").read_bytes()).find(b"pydovecot.master.auth_process") >= 0
                     and b"--worker" not in cmd), None)

    assert wait_for(lambda: find() is not None, TIMEOUT)
    pid = find()
    assert pid is not None
    return pid


def login_line(server: Server, user: str, service: str) -> str:
    """The last "Login:" line of ``user`` (the login process logs it once the mail process has the client)."""
    def lines() -> list[str]:
        return [ln for ln in server.log_text().splitlines() if f"{service}-login: Info: Login: user=<{user}>" in ln]

    assert wait_for(lambda: bool(lines()), TIMEOUT)
    return lines()[-1]


def mpid(line: str) -> int:
    return int(re.search(r"mpid=(\d+)", line).group(1))  # type: ignore[union-attr]


class Lines:
    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self.sock = sock
        self.f = sock.makefile("rwb", buffering=0)

    def send(self, line: str) -> None:
        self.f.write(line.encode() + b"\r\n")

    def line(self) -> str:
        return self.f.readline().decode()

    def until(self, prefix: str) -> list[str]:
        got: list[str] = []
        while True:
            line = self.line()
            assert line, f"connection closed, had {got}"
            got.append(line)
            if line.startswith(prefix):
                return got


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


LOGIN_USER = pwd.getpwnam("dovenull")


# --- the tests -----------------------------------------------------------------------------

def test_imap_plain_login_runs_as_the_user(server: Server) -> None:
    sock = connect(server.imap)
    c = Lines(sock)
    assert c.line().startswith("* OK")
    # before login: a login process, as dovenull
    assert status_ids(peer_pid(server.imap, sock)) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
    # LOGIN with a command pipelined behind it: the mail process must get those bytes too
    c.f.write(f"a LOGIN alice {PASSWORD}\r\nb CREATE Work\r\n".encode())
    assert c.until("a ")[-1].startswith("a OK [CAPABILITY IMAP4rev1")
    assert c.until("b ")[-1].startswith("b OK Create completed")
    served_by = peer_pid(server.imap, sock)
    assert status_ids(served_by) == USERS["alice"]
    assert mpid(login_line(server, "alice", "imap")) == served_by
    # a fresh interpreter, not a fork of the master or of auth: the passdb's data (every user's
    # password) is in the auth process's memory only (test_auth_process.py has more)
    secret = MARKER_PASSWORD.encode()
    assert memory_holds(auth_pid(server), secret)
    assert not memory_holds(served_by, secret)
    c.send("c APPEND INBOX {5+}\r\nhello")
    assert c.until("c ")[-1].startswith("c OK")
    maildir = server.dir / "home" / "alice" / "Maildir"
    for path in [maildir, maildir / ".Work", *maildir.joinpath("new").iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == USERS["alice"], path
    c.send("d LOGOUT")
    assert c.until("d ")[-1].startswith("d OK")
    sock.close()


def test_two_users_two_mail_processes(server: Server) -> None:
    a, b = connect(server.imap), connect(server.imap)
    ca, cb = Lines(a), Lines(b)
    for c, user in ((ca, "alice"), (cb, "bob")):
        c.line()
        c.send(f"x LOGIN {user} {PASSWORD}")
        assert c.until("x ")[-1].startswith("x OK")
    pa, pb = peer_pid(server.imap, a), peer_pid(server.imap, b)
    assert pa != pb
    assert status_ids(pa) == USERS["alice"] and status_ids(pb) == USERS["bob"]
    for pid in (pa, pb):
        assert os.getppid() != pid and status_ids(pid)[0] != 0
    a.close()
    b.close()


def test_imap_starttls_is_proxied_by_the_login_process(server: Server) -> None:
    raw = connect(server.imap)
    c = Lines(raw)
    c.line()
    c.send("s STARTTLS")
    assert c.until("s ")[-1].startswith("s OK")
    tls = tls_context().wrap_socket(raw, server_hostname="localhost")
    t = Lines(tls)
    t.send(f"a LOGIN bob {PASSWORD}")
    assert t.until("a ")[-1].startswith("a OK")
    t.send("b SELECT INBOX")
    assert t.until("b ")[-1].startswith("b OK")
    # the TLS state stays in the login process (dovenull): it holds the TCP connection ...
    assert status_ids(peer_pid(server.imap, tls)) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
    # ... and the session itself runs in bob's mail process
    line = login_line(server, "bob", "imap")
    assert "TLS" in line
    assert status_ids(mpid(line)) == USERS["bob"]
    t.send("c LOGOUT")
    assert t.until("c ")[-1].startswith("c OK")
    tls.close()


def test_pop3_plain_and_stls(server: Server) -> None:
    sock = connect(server.pop3)
    c = Lines(sock)
    assert c.line().startswith("+OK")
    assert status_ids(peer_pid(server.pop3, sock)) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
    c.send("USER alice")
    c.line()
    c.f.write(f"PASS {PASSWORD}\r\nSTAT\r\n".encode())
    assert c.line() == "+OK Logged in.\r\n"
    assert c.line().startswith("+OK ")  # STAT, pipelined behind PASS
    assert status_ids(peer_pid(server.pop3, sock)) == USERS["alice"]
    c.send("QUIT")
    assert c.line().startswith("+OK")
    sock.close()

    raw = connect(server.pop3)
    c = Lines(raw)
    c.line()
    c.send("STLS")
    assert c.line().startswith("+OK")
    tls = tls_context().wrap_socket(raw, server_hostname="localhost")
    t = Lines(tls)
    t.send("USER bob")
    t.line()
    t.send(f"PASS {PASSWORD}")
    assert t.line() == "+OK Logged in.\r\n"
    t.send("STAT")
    assert t.line().startswith("+OK ")
    assert status_ids(peer_pid(server.pop3, tls)) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
    assert status_ids(mpid(login_line(server, "bob", "pop3"))) == USERS["bob"]
    t.send("QUIT")
    assert t.line().startswith("+OK")
    tls.close()


def test_uid_below_first_valid_uid_is_refused(server: Server) -> None:
    """As real Dovecot (goldens/privsep_refused_real_dovecot.json): the login succeeds, the user's
    mail cannot be served: "Logged in, but initialization failed." + BYE / -ERR [SYS/TEMP], and
    the log line of mail-storage-service."""
    golden = json.loads(GOLDEN.read_text())
    assert imap_refused(server.imap, "lowuid") == golden["imap"]
    assert pop3_refused(server.pop3, "lowuid") == golden["pop3"]
    assert wait_for(lambda: len([ln for ln in server.log_text().splitlines() if "(lowuid): Error" in ln]) == 2, TIMEOUT)
    ours = [ln for ln in normalize_log(server.log_text()) if "lowuid" in ln]
    assert sorted(ours) == sorted(golden["log"])  # two processes write them: the order may vary
    assert not (server.dir / "home" / "lowuid" / "Maildir").exists()


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_no_client_is_served_as_root(server: Server) -> None:
    """Root: the master, and per login service a template that forks the login processes and
    never accepts a client.  Every process holding a client connection runs as someone else."""
    sock, _ = imap_login(server.imap, "bob")  # at least one login and one mail process
    assert status_ids(server.proc.pid)[0] == 0

    def uid(pid: int) -> int | None:
        try:
            return status_ids(pid)[0]
        except FileNotFoundError:  # a login process done with its client
            return None

    templates = []
    for pid in children(server.proc.pid):
        if uid(pid) == 0:  # only the templates: exec'ed, they keep their command line
            assert b"pydovecot.master.login_process" in Path(f"/proc/{pid}/cmdline").read_bytes(), pid
            templates.append(pid)
    assert len(templates) == 2  # imap-login, pop3-login
    # the templates' children: login processes, root only for the moment between fork and drop
    assert wait_for(lambda: all(uid(pid) != 0 for t in templates for pid in children(t)), TIMEOUT)
    out = subprocess.run(["ss", "-Htnp", "state", "established"], capture_output=True, text=True, check=True).stdout
    serving = {int(pid) for line in out.splitlines()
               if re.search(rf":({server.imap}|{server.pop3})\s", line.split()[2] + " ")
               for pid in re.findall(r"pid=(\d+)", line)}
    assert serving and all(uid(pid) not in (0, None) for pid in serving), serving
    sock.close()


def test_lmtp_delivers_as_each_user(server: Server) -> None:
    """LMTP stays in the root master, as Dovecot's lmtp runs as root and drops privileges per
    recipient for the delivery: each file belongs to its user; uid 100 is refused."""
    sock = connect(server.lmtp)
    c = Lines(sock)
    assert c.line().startswith("220 ")
    c.send("LHLO test")
    c.until("250 ")
    c.send("MAIL FROM:<sender@example.test>")
    assert c.line().startswith("250 ")
    for rcpt in ("alice", "bob", "lowuid"):
        c.send(f"RCPT TO:<{rcpt}>")
        assert c.line().startswith("250 ")
    c.send("DATA")
    assert c.line().startswith("354 ")
    c.f.write(b"Subject: privsep\r\n\r\nhello\r\n.\r\n")
    replies = [c.line() for _ in range(3)]
    assert replies[0].startswith("250 2.0.0 <alice>") and replies[1].startswith("250 2.0.0 <bob>")
    assert replies[2].startswith("451 ") and "<lowuid>" in replies[2]
    c.send("QUIT")
    sock.close()
    for user in ("alice", "bob"):
        new = server.dir / "home" / user / "Maildir" / "new"
        files = [p for p in new.iterdir() if b"Subject: privsep" in p.read_bytes()]
        assert files and all((p.stat().st_uid, p.stat().st_gid) == USERS[user] for p in files)
    assert not (server.dir / "home" / "lowuid" / "Maildir").exists()
    assert wait_for(lambda: "lmtp(lowuid)" in server.log_text(), TIMEOUT)
    line = next(ln for ln in server.log_text().splitlines() if "lmtp(lowuid)" in ln and "Error" in ln)
    assert line.endswith("Mail access for users with UID 100 not permitted "
                         "(see first_valid_uid in config file, uid from userdb lookup).")


def imap_login(port: int, user: str) -> tuple[socket.socket, Lines]:
    sock = connect(port)
    c = Lines(sock)
    c.line()
    c.send(f"l LOGIN {user} {PASSWORD}")
    assert c.until("l ")[-1].startswith("l OK")
    return sock, c


def test_reload_then_stop() -> None:
    """A reload: the open session stays in its mail process, new ones get a fresh process, the old
    one exits with its last session.  A stop: no process of ours is left."""
    with running() as server:
        old_sock, old = imap_login(server.imap, "alice")
        old_pid = peer_pid(server.imap, old_sock)
        server.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "SIGHUP received" in server.log_text(), TIMEOUT)
        old.send("n NOOP")
        assert old.until("n ")[-1].startswith("n OK")
        new_sock, new = imap_login(server.imap, "alice")
        new_pid = peer_pid(server.imap, new_sock)
        assert new_pid != old_pid and status_ids(new_pid) == USERS["alice"]
        old.send("o LOGOUT")
        old.until("o ")
        old_sock.close()
        assert wait_for(lambda: not Path(f"/proc/{old_pid}").exists(), TIMEOUT)
        ours = children(server.proc.pid)
        assert new_pid in ours
        our_server.stop(server.proc, close=False)
        assert new.line() in ("", "* BYE Server shutting down.\r\n")
        new_sock.close()
        for pid in ours:
            assert not Path(f"/proc/{pid}").exists(), pid
        assert "Error" not in server.log_text() and "Fatal" not in server.log_text(), server.log_text()


def test_who_and_kick_reach_the_mail_processes(server: Server) -> None:
    """Mail processes report their sessions to the master's anvil socket (connected while still
    root), so doveadm who lists them under their own pids and kick ends just that session."""
    import sys

    alice_sock, alice = imap_login(server.imap, "alice")
    carol_sock, carol = imap_login(server.imap, "bob")
    pids = {"alice": peer_pid(server.imap, alice_sock), "bob": peer_pid(server.imap, carol_sock)}

    def doveadm(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "doveadm", "-c", str(server.dir / "dovecot.conf"), *args],
                              capture_output=True, text=True, check=True, cwd=ROOT).stdout

    def listed() -> bool:
        out = doveadm("who")
        return all(re.search(rf"^{user}\s+\d+ imap\s+\([^)]*\b{pid}\b", out, re.M) for user, pid in pids.items())

    assert wait_for(listed, TIMEOUT)
    doveadm("kick", "bob")
    assert carol.line() == "* BYE Server shutting down.\r\n"
    alice.send("n NOOP")
    assert alice.until("n ")[-1].startswith("n OK")
    alice_sock.close()
    carol_sock.close()


def test_first_login_after_the_master_used_its_thread_pools(server: Server) -> None:
    """LMTP (in the master) saves through the storage thread pool; a mail process forked after
    that must not inherit a pool whose threads it does not have (it hung on its first storage
    call).  carol has had no session yet: her process is forked now."""
    sock = connect(server.lmtp)
    c = Lines(sock)
    c.line()
    for line in ("LHLO test", "MAIL FROM:<sender@example.test>", "RCPT TO:<carol>", "DATA"):
        c.send(line)
        c.until("250 " if line != "DATA" else "354 ")
    c.f.write(b"Subject: for carol\r\n\r\nhello carol\r\n.\r\n")
    assert c.line().startswith("250 2.0.0 <carol>")
    sock.close()
    pop = connect(server.pop3)
    p = Lines(pop)
    p.line()
    p.send("USER carol")
    p.line()
    p.send(f"PASS {PASSWORD}")
    assert p.line() == "+OK Logged in.\r\n"
    p.send("RETR 1")
    assert "Subject: for carol\r\n" in p.until(".\r\n")
    assert status_ids(peer_pid(server.pop3, pop)) == USERS["carol"]
    p.send("QUIT")
    p.line()
    pop.close()


def test_login_processes_hold_nothing_of_the_masters_memory(server: Server) -> None:
    """The passdb's data (every user's password) is in the auth process once it has read it; the
    login processes, forked by their template (a fresh interpreter), never had it."""
    sock, _ = imap_login(server.imap, "alice")  # auth has read the passwd-file now
    sock.close()
    secret = MARKER_PASSWORD.encode()
    assert memory_holds(auth_pid(server), secret)
    fresh = connect(server.imap)
    Lines(fresh).line()
    login_pid = peer_pid(server.imap, fresh)
    assert status_ids(login_pid) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
    assert not memory_holds(login_pid, secret)
    fresh.close()


def test_authenticate_with_initial_response(server: Server) -> None:
    """AUTHENTICATE PLAIN with SASL-IR takes the same way as LOGIN: bob's process answers it."""
    import base64

    sock = connect(server.imap)
    c = Lines(sock)
    c.line()
    initial = base64.b64encode(f"\0bob\0{PASSWORD}".encode()).decode()
    c.send(f"a AUTHENTICATE PLAIN {initial}")
    assert c.until("a ")[-1].startswith("a OK [CAPABILITY IMAP4rev1")
    assert status_ids(peer_pid(server.imap, sock)) == USERS["bob"]
    assert "method=PLAIN" in login_line(server, "bob", "imap")
    sock.close()


def test_log_reopen_reaches_every_process() -> None:
    """`doveadm log reopen` after a rotation: the master reopens the files and passes them to the
    processes that cannot open root's files themselves (mail processes, the auth process); the
    login templates reopen on their own. Nothing written after it goes to the rotated file."""
    import sys

    with running(extra="auth_verbose = yes\n") as server:
        alice_sock, alice = imap_login(server.imap, "alice")
        rotated = server.dir / "log.1"
        server.log.rename(rotated)
        subprocess.run([sys.executable, "-m", "doveadm", "-c", str(server.dir / "dovecot.conf"), "log", "reopen"],
                       check=True, capture_output=True, cwd=ROOT, timeout=TIMEOUT)
        assert wait_for(server.log.exists, TIMEOUT)
        time.sleep(0.5)  # the descriptors travel to the processes after the master's own reopen
        alice.send("o LOGOUT")
        alice.until("o ")
        alice_sock.close()
        bad = connect(server.imap)
        bad_lines = Lines(bad)
        bad_lines.line()
        bad_lines.send("b LOGIN bob wrong-password")
        assert bad_lines.until("b ")[-1].startswith("b NO")
        bad.close()
        bob_sock, bob = imap_login(server.imap, "bob")
        bob.send("o LOGOUT")
        bob.until("o ")
        bob_sock.close()

        def fresh() -> str:
            return server.log.read_text() if server.log.exists() else ""

        wanted = ("imap(alice)", "auth: Info: ", "imap-login: Info: Login: user=<bob>", "imap(bob)")
        assert wait_for(lambda: all(w in fresh() for w in wanted), TIMEOUT), fresh()
        old = rotated.read_text()
        assert "imap(alice)" not in old and "user=<bob>" not in old and "auth: Info: " not in old, old
