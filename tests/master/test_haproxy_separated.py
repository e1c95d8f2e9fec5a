"""HAProxy listeners under privilege separation (as root): the login processes read the PROXY header.

``inet_listener imap { haproxy = yes }`` of imap-login: the header is read by the login process
(dovenull), from ``haproxy_trusted_networks`` only, with Dovecot's log lines, and the client is
separated like any other (login process -> mail process with the user's uid).  From v2's TLVs,
as Dovecot 2.3 (master-service-haproxy.c, login-common's client_alloc): PP2_TYPE_SSL with
PP2_CLIENT_SSL makes the client secured (no LOGINDISABLED under disable_plaintext_auth, plaintext
LOGIN allowed); without it a proxied client is not secured, even from loopback.

Real Dovecot 2.3.19 runs on the same configuration in the same test and gets the same bytes: the
greeting (with its capabilities), the LOGIN reply and the haproxy log lines must match.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pydovecot.master.haproxy import V2_SIGNATURE, parse_header
from tests.master.harness import ROOT, TIMEOUT, make_cert
from tests.master.test_privilege_separation import LOGIN_USER, peer_pid, status_ids
from tests.support import real_dovecot
from tests.support import server as our_server
from tests.support.conf import passwd_file_dbs
from tests.support.net import free_port, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation starts as root")

PASSWORD = "secret"
UID = 10000


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def ssl_tlv(client: int, *subs: bytes) -> bytes:
    return tlv(0x20, bytes([client]) + bytes(4) + b"".join(subs))


def v2(*tlvs: bytes, remote: str = "192.0.2.9", local: str = "198.51.100.1") -> bytes:
    body = socket.inet_aton(remote) + socket.inet_aton(local) + struct.pack("!HH", 40009, 143) + b"".join(tlvs)
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


V1 = b"PROXY TCP4 192.0.2.7 198.51.100.1 40007 143\r\n"
V2_SSL = v2(ssl_tlv(0x01, tlv(0x21, b"TLSv1.3"), tlv(0x22, b"client.example.test")), tlv(0x02, b"mail.example.test"))
V2_NO_SSL = v2(ssl_tlv(0x00))
V2_TRUNCATED_SSL = v2(tlv(0x20, b"\x01\x00"))
GARBAGE = b"GARBAGE here\r\n"


@dataclass
class Server:
    root: Path
    port: int

    @property
    def log(self) -> str:
        path = self.root / "log"
        return path.read_text() if path.exists() else ""


def _prepare(prefix: str, trusted: str) -> tuple[Path, int]:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    cert, key = make_cert(root)
    (root / "users").write_text(f"alice:{{PLAIN}}{PASSWORD}:{UID}:{UID}::{root}/home/alice::\n")
    home = root / "home" / "alice"
    home.mkdir(parents=True)
    os.chown(home, UID, UID)
    port = free_port()
    (root / "dovecot.conf").write_text(f"""\
protocols = imap
base_dir = {root}/run
listen = 127.0.0.1
log_path = {root}/log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
first_valid_uid = 500
shutdown_clients = yes
mail_location = maildir:~/Maildir
haproxy_trusted_networks = {trusted}
haproxy_timeout = 2 secs
{passwd_file_dbs(root / "users")}service imap-login {{
  inet_listener imap {{
    port = {port}
    haproxy = yes
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    return root, port


@contextlib.contextmanager
def ours(trusted: str = "127.0.0.1/32") -> Iterator[Server]:
    root, port = _prepare("pydovecot-haproxy-sep-", trusted)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYDOVECOT_PROCESS_MODEL": "separated"}
    proc = our_server.start(root / "dovecot.conf", env=env)
    try:
        our_server.wait_started(proc, root / "log")
        yield Server(root, port)
    finally:
        our_server.stop(proc)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def real(trusted: str = "127.0.0.1/32") -> Iterator[Server]:
    root, port = _prepare("real-haproxy-sep-", trusted)
    try:
        with real_dovecot.running(root / "dovecot.conf", ready=lambda: _listening(port)):
            yield Server(root, port)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@contextlib.contextmanager
def proxied(server: Server, header: bytes, source: str = "127.0.0.1") -> Iterator[tuple[socket.socket, object]]:
    sock = socket.socket()
    sock.settimeout(TIMEOUT)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(header)
    f = sock.makefile("rwb", buffering=0)
    try:
        yield sock, f
    finally:
        f.close()
        sock.close()


def exchange(server: Server, header: bytes) -> list[str]:
    """The greeting and the LOGIN reply after ``header``."""
    with proxied(server, header) as (_, f):
        greeting = f.readline().decode()  # type: ignore[attr-defined]
        f.write(f"a LOGIN alice {PASSWORD}\r\n".encode())  # type: ignore[attr-defined]
        reply = []
        while line := f.readline():  # type: ignore[attr-defined]
            reply.append(line.decode())
            if line.startswith(b"a "):
                break
        f.write(b"b LOGOUT\r\n")  # type: ignore[attr-defined]
        return [greeting, *reply]


def closed_without_reply(server: Server, header: bytes, source: str = "127.0.0.1") -> bool:
    """Closed with nothing said (a reset, when the header is left unread, is a close too)."""
    with proxied(server, header, source) as (_, f):
        try:
            return f.readline() == b""  # type: ignore[attr-defined]
        except ConnectionResetError:
            return True


def haproxy_lines(text: str) -> list[str]:
    """``service: Level: message`` of the haproxy lines, without the time stamp."""
    return [re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", line) for line in text.splitlines() if "haproxy" in line]


def scrub(lines: list[str]) -> list[str]:
    return [re.sub(r"^a OK \[CAPABILITY [^]]*\]", "a OK [CAPABILITY ...]", line) for line in lines]


# --- the header is read by the login process, and the client is separated --------------------

def test_proxied_client_is_held_by_a_login_process_then_by_the_users_mail_process() -> None:
    with ours() as server, proxied(server, V2_SSL) as (sock, f):
        assert f.readline().startswith(b"* OK")  # type: ignore[attr-defined]
        login_pid = peer_pid(server.port, sock)
        assert status_ids(login_pid) == (LOGIN_USER.pw_uid, LOGIN_USER.pw_gid)
        f.write(f"a LOGIN alice {PASSWORD}\r\n".encode())  # type: ignore[attr-defined]
        while not (line := f.readline()).startswith(b"a "):  # type: ignore[attr-defined]
            assert line
        assert line.startswith(b"a OK"), line
        assert wait_for(lambda: peer_pid(server.port, sock) != login_pid, TIMEOUT)
        assert status_ids(peer_pid(server.port, sock)) == (UID, UID)
        login = next(ln for ln in server.log.splitlines() if "Login: user=<alice>" in ln)
        assert "rip=192.0.2.9, lip=198.51.100.1" in login


# --- TLVs: what Dovecot reads ------------------------------------------------------------------

def test_tlvs_are_parsed_as_dovecot_reads_them() -> None:
    size, addresses = parse_header(V2_SSL, "127.0.0.1")  # type: ignore[misc]
    assert size == len(V2_SSL)
    assert (addresses.remote_ip, addresses.remote_port, addresses.local_ip, addresses.local_port) == \
        ("192.0.2.9", 40009, "198.51.100.1", 143)
    assert addresses.ssl and addresses.cert_common_name == "client.example.test"
    assert addresses.hostname == "mail.example.test"
    _, plain = parse_header(V2_NO_SSL, "127.0.0.1")  # type: ignore[misc]
    assert not plain.ssl and plain.cert_common_name == "" and plain.hostname == ""


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[Server, Server]]:
    with ours() as our, real() as theirs:
        yield our, theirs


@pytest.mark.parametrize("header", [V1, V2_NO_SSL, V2_SSL], ids=["v1", "v2-no-ssl", "v2-ssl"])
def test_greeting_and_plaintext_login_match_real_dovecot(both: tuple[Server, Server], header: bytes) -> None:
    """disable_plaintext_auth = yes: a proxied client is secured only by PP2_CLIENT_SSL."""
    our, theirs = both
    expected = scrub(exchange(theirs, header))
    got = scrub(exchange(our, header))
    assert got == expected  # with the "* BAD [ALERT] Plaintext authentication not allowed..." before a NO
    secured = header is V2_SSL
    assert ("LOGINDISABLED" in got[0]) is not secured
    assert got[-1].startswith("a OK" if secured else "a NO")


@pytest.mark.parametrize(("header", "message"), [
    (GARBAGE, "imap-login: Error: haproxy: Client disconnected: Failed to read valid HAproxy data (rip=127.0.0.1)"),
    (V2_TRUNCATED_SSL, "imap-login: Error: haproxy(v2): Client disconnected: Invalid TLV: get_ssl_tlv(0) failed: "
                       "Truncated data (cmd=01, rip=127.0.0.1)"),
], ids=["garbage", "truncated-ssl-tlv"])
def test_bad_headers_close_with_real_dovecots_log_line(both: tuple[Server, Server], header: bytes,
                                                       message: str) -> None:
    our, theirs = both
    for server in (theirs, our):
        assert closed_without_reply(server, header)
        assert wait_for(lambda server=server: message in haproxy_lines(server.log), TIMEOUT), \
            haproxy_lines(server.log)


def test_untrusted_proxy_is_refused_like_real_dovecot() -> None:
    message = "imap-login: Warning: haproxy: Client not trusted (rip=127.0.0.2)"
    with ours("127.0.0.1/32") as our, real("127.0.0.1/32") as theirs:
        for server in (theirs, our):
            assert closed_without_reply(server, V1, source="127.0.0.2")
            assert wait_for(lambda server=server: message in haproxy_lines(server.log), TIMEOUT), \
                haproxy_lines(server.log)


def test_login_line_of_a_proxied_tls_client_matches_real_dovecot(both: tuple[Server, Server]) -> None:
    """The proxied addresses, and "secured" from PP2_CLIENT_SSL, in imap-login's Login line."""
    def login_line(server: Server) -> str:
        exchange(server, V2_SSL)
        assert wait_for(lambda: "Login: user=<alice>" in server.log, TIMEOUT)
        line = next(ln for ln in server.log.splitlines() if "Login: user=<alice>" in ln)
        line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", line)
        return re.sub(r", (mpid|session)=[^,]*", "", line)

    our, theirs = both
    assert login_line(our) == login_line(theirs)
    assert ", secured" in login_line(our)
