"""Real clients against our POP3 server: Python's poplib and Debian's fetchmail; and bad input."""

from __future__ import annotations

import os
import poplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from our_server import OurServer
from server_env import INSECURE_SOURCE, PASSWORD, fill_maildir, maildir_state, messages, wait_for, write_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the set-up's Maildirs belong to the vmail user")


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pop3cli-"))
    write_env(path, port=1, tls=True)  # ssl = yes (STLS offered), plaintext allowed
    with (path / "users").open("a") as users:  # a user whose mail storage cannot be set up
        users.write(f"broken:{{PLAIN}}{PASSWORD}:10000:10000::{path}/mail/broken::userdb_uid=no-such-user\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[OurServer]:
    with OurServer(root / "dovecot.conf") as ours:
        yield ours


def wire(data: bytes) -> bytes:
    """A message as POP3 sends it: CRLF line endings, ending in CRLF."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"\r\n".join(lines) + b"\r\n"


def test_poplib_reads_deletes_and_sees_the_result(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    originals = messages()
    client = poplib.POP3("127.0.0.1", server.port, timeout=10)
    assert client.getwelcome() == b"+OK Dovecot ready."
    assert client.user("tester") == b"+OK"
    assert client.pass_(PASSWORD) == b"+OK Logged in."
    count, size = client.stat()
    assert count == len(originals)
    vsizes = [len(m) + m.count(b"\n") - m.count(b"\r\n") for m in originals]  # every line end as CRLF
    assert size == sum(vsizes)
    _, listing, _ = client.list()
    assert [int(line.split()[1]) for line in listing] == vsizes
    _, uidls, _ = client.uidl()
    assert len({line.split()[1] for line in uidls}) == count
    for number, original in enumerate(originals, start=1):
        _, lines, octets = client.retr(number)
        # poplib undoes the dot-stuffing and strips the CRLFs
        assert b"\r\n".join(lines) + b"\r\n" == wire(original)
        assert octets >= len(wire(original))
    _, top, _ = client.top(2, 1)
    assert top[-2:] == [b"", b".leading dot line"]
    client.dele(1)
    client.dele(2)
    assert client.quit() == b"+OK Logging out, messages deleted."

    state = maildir_state(root / "mail" / "tester")
    names = [s for s in state if s.startswith("cur/")]
    assert len(names) == len(originals) - 2
    assert all(name.endswith(":2,S") for name in names)  # RETR'd and QUIT: \Seen
    again = poplib.POP3("127.0.0.1", server.port, timeout=10)
    again.user("tester")
    again.pass_(PASSWORD)
    assert again.stat()[0] == len(originals) - 2
    again.quit()


class _POP3From(poplib.POP3):
    """poplib from another loopback address, so the connection is not 'secured' by locality."""

    def _create_socket(self, timeout: float) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, source_address=(INSECURE_SOURCE, 0))


def test_poplib_stls(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    client = _POP3From("127.0.0.1", server.port, timeout=10)
    assert "STLS" in client.capa()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    client.stls(ctx)
    assert "STLS" not in client.capa()
    client.user("tester")
    client.pass_(PASSWORD)
    assert client.stat()[0] == len(messages())
    client.quit()
    assert wait_for(lambda: any("method=PLAIN" in x and ", TLS, " in x for x in server.log.lines))


def _fetchmail(server: OurServer, workdir: Path, *, keep: bool) -> subprocess.CompletedProcess[str]:
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    rc = workdir / "fetchmailrc"
    rc.write_text(
        f"poll 127.0.0.1 protocol pop3 port {server.port}\n"
        f"  user tester password {PASSWORD}\n"
        f"  mda \"/bin/sh -c 'cat > {out}/msg.$$'\"\n"
        f"  {'keep' if keep else 'nokeep'} fetchall\n"
    )
    rc.chmod(0o600)
    env = {**os.environ, "HOME": str(workdir), "FETCHMAILHOME": str(workdir)}
    return subprocess.run(
        ["fetchmail", "--fetchmailrc", str(rc), "--idfile", str(workdir / "ids"), "--nodetach", "--nosyslog",
         "--sslproto", "", "-v"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed (scripts/setup.sh)")
def test_fetchmail_keep_then_nokeep(server: OurServer, root: Path, tmp_path: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    originals = messages()

    kept = _fetchmail(server, tmp_path, keep=True)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    fetched = sorted((tmp_path / "out").iterdir())
    assert len(fetched) == len(originals)
    # every message arrived whole (fetchmail adds its Received: header in front)
    bodies = [p.read_bytes().replace(b"\r\n", b"\n") for p in fetched]
    for original in originals:
        body = original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
        assert any(body in got for got in bodies), body
    assert len([s for s in maildir_state(root / "mail" / "tester") if s.startswith("cur/")]) == len(originals)

    shutil.rmtree(tmp_path / "out")
    removed = _fetchmail(server, tmp_path, keep=False)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert len(list((tmp_path / "out").iterdir())) == len(originals)
    assert [s for s in maildir_state(root / "mail" / "tester") if not s.startswith("uidl")] == [], removed.stdout


# ---- bad input: never a crash, and the server keeps serving -------------------------------------


def _talk(server: OurServer, data: bytes, *, read_until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        got = sock.recv(1024)
        sock.sendall(data)
        if not read_until_close:
            return got
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            got += chunk
    return got


def _still_serving(server: OurServer) -> None:
    client = poplib.POP3("127.0.0.1", server.port, timeout=10)
    client.user("tester")
    assert client.pass_(PASSWORD) == b"+OK Logged in."
    client.quit()


def _no_errors(server: OurServer, before: int) -> None:
    assert not [line for line in server.log.lines[before:] if ": Error: " in line or "Traceback" in line]


def test_garbage_and_binary_input(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    before = len(server.log.lines)
    reply = _talk(server, b"\x00\xff\xfe garbage\r\n\x80\x81\r\n\r\n")
    assert reply.count(b"-ERR Unknown command.") == 3
    assert reply.endswith(b"-ERR Too many invalid bad commands.\r\n")
    session = b"USER tester\r\nPASS secret\r\n" + b"\x00\x01 junk\r\nRETR \xff\r\nTOP 1 -1\r\nLIST 99999999999\r\nQUIT\r\n"
    reply = _talk(server, session)
    assert b"+OK Logged in." in reply and reply.endswith(b"+OK Logging out.\r\n")
    _still_serving(server)
    _no_errors(server, before)


def test_overlong_lines_close_the_connection(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    before = len(server.log.lines)
    _talk(server, b"x" * 200_000)
    _talk(server, b"USER tester\r\nPASS secret\r\n" + b"NOOP " + b"y" * 200_000)
    assert wait_for(lambda: any("Input buffer full" in x for x in server.log.lines[before:]))
    assert wait_for(lambda: any("Input line too long" in x for x in server.log.lines[before:]))
    _still_serving(server)
    _no_errors(server, before)


def test_client_vanishing_in_the_middle_of_a_big_retr(server: OurServer, root: Path) -> None:
    box = root / "mail" / "tester"
    fill_maildir(box)
    big = b"Subject: big\n\n" + b"".join(b".line %d of a large message\n" % i for i in range(400_000))
    name = box / "new" / "1700000100.M100P1.host"
    name.write_bytes(big)
    os.chown(name, 10000, 10000)
    before = len(server.log.lines)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.recv(1024)
        sock.sendall(b"USER tester\r\nPASS secret\r\nRETR 7\r\n")
        got = b""
        while len(got) < 100_000:
            got += sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    assert b"+OK Logged in." in got
    assert wait_for(lambda: any("Disconnected: Connection closed" in x for x in server.log.lines[before:]))
    # nothing was committed: no \Seen, nothing expunged
    assert all(s.endswith(":2,") for s in maildir_state(box) if s.startswith("cur/"))
    _still_serving(server)
    _no_errors(server, before)


def test_pipelined_commands_in_one_packet(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    reply = _talk(server, b"CAPA\r\nUSER tester\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n")
    assert b"+OK Logged in.\r\n+OK 6 639\r\n+OK 139 octets\r\n" in reply
    assert reply.endswith(b"+OK Marked to be deleted.\r\n+OK Logging out, messages deleted.\r\n")


# ---- pop3_lock_session -----------------------------------------------------------------------


def test_lock_session_makes_a_second_login_wait(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "locker")
    first = poplib.POP3("127.0.0.1", server.port, timeout=10)
    first.user("locker")
    first.pass_(PASSWORD)
    assert (root / "mail" / "locker" / "dovecot-pop3-session.lock").exists()
    second = poplib.POP3("127.0.0.1", server.port, timeout=10)
    second.user("locker")
    result: dict[str, bytes] = {}

    def login() -> None:
        result["reply"] = second.pass_(PASSWORD)

    waiter = threading.Thread(target=login)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # blocked behind the first session
    first.quit()
    waiter.join(10)
    assert result["reply"] == b"+OK Logged in."
    # the lock times out (mail_max_lock_timeout = 2 for this user) while the second one lasts
    third = poplib.POP3("127.0.0.1", server.port, timeout=10)
    third.user("locker")
    with pytest.raises(poplib.error_proto) as refused:
        third.pass_(PASSWORD)
    assert refused.value.args[0].startswith(b"-ERR [IN-USE]")
    second.quit()
    third.quit()


# ---- failures the client sees as temporary, and idle clients ------------------------------------


def test_storage_setup_failure_is_a_temporary_error(server: OurServer) -> None:
    before = len(server.log.lines)
    client = poplib.POP3("127.0.0.1", server.port, timeout=10)
    client.user("broken")
    with pytest.raises(poplib.error_proto) as failed:
        client.pass_(PASSWORD)
    assert failed.value.args[0] == (b"-ERR [SYS/TEMP] Internal error occurred. "
                                    b"Refer to server log for more information.")
    assert client.quit() == b"+OK Logging out"
    assert any(": Error: " in x for x in server.log.lines[before:])
    _still_serving(server)


def test_idle_clients_are_disconnected(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    service = server._service
    assert service is not None
    before = len(server.log.lines)
    service.login_idle_timeout = service.session_idle_timeout = 0.3
    try:
        assert _talk(server, b"").endswith(b"-ERR Disconnected for inactivity.\r\n")
        assert _talk(server, b"USER tester\r\nPASS secret\r\n").endswith(
            b"+OK Logged in.\r\n-ERR Disconnected for inactivity.\r\n")
    finally:
        service.login_idle_timeout, service.session_idle_timeout = 180.0, 600.0
    assert wait_for(lambda: any("Disconnected: Inactivity (no auth attempts" in x
                                for x in server.log.lines[before:]))
    assert wait_for(lambda: any("Disconnected: Disconnected for inactivity top=0/0" in x
                                for x in server.log.lines[before:]))


def test_sasl_cancel_and_bad_continuation_then_login(server: OurServer, root: Path) -> None:
    fill_maildir(root / "mail" / "tester")
    from server_env import plain

    script = (b"AUTH PLAIN\r\n*\r\nAUTH LOGIN\r\n!!notbase64\r\n"
              + f"AUTH PLAIN {plain('tester')}\r\nSTAT\r\nQUIT\r\n".encode())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.recv(1024)
        replies = b""
        for line in script.split(b"\r\n")[:-1]:
            sock.sendall(line + b"\r\n")
            replies += sock.recv(4096)
    assert replies == (b"+ \r\n-ERR Authentication aborted by client.\r\n+ VXNlcm5hbWU6\r\n"
                       b"-ERR [AUTH] Invalid base64 data in continued response\r\n+OK Logged in.\r\n"
                       b"+OK 6 639\r\n+OK Logging out.\r\n")
