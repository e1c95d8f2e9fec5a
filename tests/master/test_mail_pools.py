"""Mail-process pools and the limits of ``service imap`` under privilege separation (as root).

Virtual users share one uid (10000, like a vmail user); each identity gets a pool of mail
processes (``process_min_avail``, else one per CPU, at most ``process_limit``) and a session goes
to the process a stable hash of the user name picks: every session of one user meets in one
process, two users of one uid can be spread over two.  The limits: ``process_limit x
client_limit`` sessions for the service (at the limit the master logs Dovecot's warning, and the
login waits for room), ``client_limit`` (above 1) per process, ``vsz_limit`` as the mail
process's RLIMIT_AS (its death explained with Dovecot's "Out of memory" line), and
``mail_max_userip_connections`` counted across mail processes.  Which process serves a session is
read from /proc (ss: the holder of the TCP connection; /proc/<pid>/status: its uid).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pydovecot.master.separation import pool_slot
from tests.master.harness import ROOT, TIMEOUT
from tests.master.test_privilege_separation import Lines, connect, peer_pid, status_ids
from tests.support import server as our_server
from tests.support.conf import inet_listeners, passwd_file_dbs
from tests.support.net import free_port, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation starts as root")

PASSWORD = "secret"
VMAIL = 10000
# user -> uid: many virtual users under one uid, one user with a uid of its own
USERS = {**{f"user{i}": VMAIL for i in range(8)}, "other": 10001}


@dataclass
class Server:
    dir: Path
    imap: int
    proc: object

    @property
    def log(self) -> str:
        path = self.dir / "log"
        return path.read_text() if path.exists() else ""


@contextlib.contextmanager
def running(imap_service: str = "", extra: str = "") -> Iterator[Server]:
    root = Path(tempfile.mkdtemp(prefix="pydovecot-pools-"))
    root.chmod(0o755)
    (root / "users").write_text("".join(f"{name}:{{PLAIN}}{PASSWORD}:{uid}:{uid}::{root}/home/{name}::\n"
                                        for name, uid in USERS.items()))
    for name, uid in USERS.items():
        home = root / "home" / name
        home.mkdir(parents=True)
        os.chown(home, uid, uid)
    imap = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""\
protocols = imap
base_dir = {root}/run
listen = 127.0.0.1
log_path = {root}/log
ssl = no
disable_plaintext_auth = no
first_valid_uid = 500
shutdown_clients = yes
mail_location = maildir:~/Maildir
{passwd_file_dbs(root / "users")}{inet_listeners(imap=imap, imaps=0)}service imap {{
{imap_service}}}
{extra}""")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYDOVECOT_PROCESS_MODEL": "separated"}
    proc = our_server.start(conf, env=env)
    try:
        our_server.wait_started(proc, root / "log")
        yield Server(root, imap, proc)
    finally:
        our_server.stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def login(server: Server, user: str) -> tuple[socket.socket, Lines]:
    sock = connect(server.imap)
    lines = Lines(sock)
    assert lines.line().startswith("* OK")
    lines.send(f"a LOGIN {user} {PASSWORD}")
    reply = lines.until("a ")
    assert reply[-1].startswith("a OK"), reply
    return sock, lines


def hang_up(sock: socket.socket, lines: Lines) -> None:
    """Really close: the file made by makefile() keeps the socket open until it is closed too."""
    lines.f.close()
    sock.close()


def serving_pid(server: Server, sock: socket.socket) -> int:
    """The mail process holding the session's connection (the login process has let it go)."""
    found: list[int] = []

    def held_by_mail_process() -> bool:
        with contextlib.suppress(AssertionError):
            pid = peer_pid(server.imap, sock)
            if pid in mail_processes(server):
                found.append(pid)
                return True
        return False

    assert wait_for(held_by_mail_process, TIMEOUT)
    return found[-1]


def mail_processes(server: Server) -> list[int]:
    """The master's children that are not root: the mail processes (the login templates and
    the auth process stay root or have their own users' names; their titles are rewritten)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, AttributeError):
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            title = Path(f"/proc/{entry}/cmdline").read_bytes()
            if ppid == server.proc.pid and title.startswith(b"dovecot/imap") and b"login" not in title:  # type: ignore[attr-defined]
                pids.append(int(entry))
    return pids


def two_users_apart(size: int) -> tuple[str, str]:
    """Two users of the vmail uid whose names hash to different slots of a pool of ``size``."""
    names = [name for name, uid in USERS.items() if uid == VMAIL]
    first = names[0]
    second = next(name for name in names if pool_slot(name, size) != pool_slot(first, size))
    return first, second


# --- pools -------------------------------------------------------------------------------------

def test_sessions_of_one_user_meet_in_one_process_and_two_users_spread() -> None:
    first, second = two_users_apart(2)
    with running("  process_min_avail = 2\n") as server, contextlib.ExitStack() as stack:
        pids = {}
        for name, user in (("a1", first), ("b1", second), ("a2", first), ("b2", second), ("a3", first)):
            sock, _ = login(server, user)
            stack.callback(sock.close)
            pids[name] = serving_pid(server, sock)
        assert pids["a1"] == pids["a2"] == pids["a3"]
        assert pids["b1"] == pids["b2"]
        assert pids["a1"] != pids["b1"]
        for pid in set(pids.values()):
            assert status_ids(pid) == (VMAIL, VMAIL)  # both are the vmail uid's, never root
        assert len(mail_processes(server)) == 2


def test_pool_is_started_on_demand_and_identities_get_their_own() -> None:
    with running("  process_min_avail = 2\n") as server, contextlib.ExitStack() as stack:
        assert mail_processes(server) == []  # no login yet: no mail process
        sock, _ = login(server, "user0")
        stack.callback(sock.close)
        assert len(mail_processes(server)) == 1  # only the slot user0 maps to
        sock, _ = login(server, "other")
        stack.callback(sock.close)
        assert status_ids(serving_pid(server, sock)) == (10001, 10001)
        assert len(mail_processes(server)) == 2


def test_pool_size_is_bounded_by_process_limit() -> None:
    first, second = two_users_apart(2)
    with running("  process_min_avail = 2\n  process_limit = 1\n  client_limit = 10\n") as server, \
            contextlib.ExitStack() as stack:
        pids = set()
        for user in (first, second, first):
            sock, _ = login(server, user)
            stack.callback(sock.close)
            pids.add(serving_pid(server, sock))
        assert len(pids) == 1


# --- limits ------------------------------------------------------------------------------------

def test_process_limit_times_client_limit_queues_with_dovecots_warning() -> None:
    """Dovecot's imap default is a process per session: process_limit = 2 means two sessions.
    A third login waits (the master logs the warning) and is served when one ends."""
    with running("  process_limit = 2\n  client_limit = 1\n") as server:
        one, one_lines = login(server, "user0")
        two, two_lines = login(server, "user1")
        third = connect(server.imap)
        lines = Lines(third)
        assert lines.line().startswith("* OK")
        lines.send(f"c LOGIN user2 {PASSWORD}")
        warning = "master: Warning: service(imap): process_limit (2) reached, client connections are being dropped"
        assert wait_for(lambda: warning in server.log, TIMEOUT), server.log
        assert select.select([third], [], [], 0.5)[0] == []  # still waiting for room
        hang_up(one, one_lines)
        reply = lines.until("c ")
        assert reply[-1].startswith("c OK"), reply
        hang_up(two, two_lines)
        hang_up(third, lines)


def test_client_limit_caps_each_process_and_more_start_up_to_process_limit() -> None:
    with running("  process_min_avail = 1\n  process_limit = 2\n  client_limit = 2\n") as server, \
            contextlib.ExitStack() as stack:
        pids = []
        for _ in range(4):  # one user: its process takes 2, the next 2 go to a second process
            sock, _ = login(server, "user0")
            stack.callback(sock.close)
            pids.append(serving_pid(server, sock))
        assert pids[0] == pids[1] != pids[2] == pids[3]
        fifth = connect(server.imap)
        stack.callback(fifth.close)
        lines = Lines(fifth)
        lines.line()
        lines.send(f"e LOGIN user0 {PASSWORD}")
        warning = "master: Warning: service(imap): process_limit (2) reached, client connections are being dropped"
        assert wait_for(lambda: warning in server.log, TIMEOUT), server.log


def test_vsz_limit_kills_the_mail_process_with_dovecots_out_of_memory_line() -> None:
    with running("  vsz_limit = 40M\n") as server:
        sock = connect(server.imap)
        lines = Lines(sock)
        lines.line()
        lines.send(f"a LOGIN user0 {PASSWORD}")
        expected = re.compile(r"Fatal: master: service\(imap\): child \d+ returned error 83 \(Out of memory "
                              r"\(service imap \{ vsz_limit=40 MB \}, you may need to increase it\) - set "
                              r"CORE_OUTOFMEM=1 environment to get core dump\)")
        assert wait_for(lambda: expected.search(server.log), TIMEOUT), server.log
        sock.close()


def test_mail_max_userip_connections_counts_across_mail_processes() -> None:
    """A reload leaves the first session in the old (retiring) mail process and starts a new
    one for the next login: the limit still counts the old one."""
    with running(extra="mail_max_userip_connections = 1\n") as server:
        first, first_lines = login(server, "user0")
        old_pid = serving_pid(server, first)
        server.proc.send_signal(signal.SIGHUP)  # type: ignore[attr-defined]
        assert wait_for(lambda: "SIGHUP received - reloading configuration" in server.log, TIMEOUT)
        second = connect(server.imap)
        lines = Lines(second)
        assert lines.line().startswith("* OK")
        lines.send(f"b LOGIN user0 {PASSWORD}")
        reply = lines.until("b ")
        assert reply[-1].startswith("b NO [LIMIT] Maximum number of connections from user+IP exceeded "
                                    "(mail_max_userip_connections=1)"), reply
        hang_up(second, lines)
        assert os.path.exists(f"/proc/{old_pid}")  # the first session's process is still there
        hang_up(first, first_lines)
        # once it has ended, a login is accepted again
        assert wait_for(lambda: not os.path.exists(f"/proc/{old_pid}"), TIMEOUT)
        third, third_lines = login(server, "user0")
        hang_up(third, third_lines)
