"""One POP3 set-up both real Dovecot and our server run on: config, users, Maildirs, scenarios.

The recorder (record_server_goldens.py) runs the scenarios against real Dovecot 2.3.19 and
stores the transcripts, the Maildir left behind and the log lines; the tests replay them
against our server on a fresh copy of the same set-up.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support import net
from tests.support.conf import inet_listeners, passwd_file_dbs
from tests.support.real_dovecot import chown_tree

HERE = Path(__file__).resolve().parent
GOLDEN_MESSAGES = HERE / "goldens" / "messages"
SERVER_GOLDENS = HERE / "goldens" / "server_sessions.json"
UIDVALIDITY = 1234567  # pinned through a pre-made dovecot-uidlist, so UIDLs are comparable
MAIL_UID = 10000  # the vmail account scripts/setup.sh creates

# Users and their per-user POP3 settings (userdb extra fields override settings in both servers).
USERS = {
    "tester": "",
    "flagger": "userdb_pop3_deleted_flag=$POPDeleted userdb_pop3_reuse_xuidl=yes",
    "noflags": "userdb_pop3_no_flag_updates=yes userdb_pop3_enable_last=yes userdb_pop3_uidl_format=%%f/%%g",
    "saver": "userdb_pop3_save_uidl=yes userdb_pop3_uidl_format=%%v.%%u",
    "locker": "userdb_pop3_lock_session=yes userdb_mail_max_lock_timeout=2s",
}
PASSWORD = "secret"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = {ssl}
disable_plaintext_auth = {disable_plaintext}
auth_mechanisms = plain login
auth_failure_delay = 0
login_greeting = Dovecot ready.
mail_location = maildir:{root}/mail/%u
{dbs}{listeners}service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

TLS_CONFIG = """\
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
"""


def messages() -> list[bytes]:
    """The mailbox every scenario starts from: LF files, CRLF, dots, no final newline, X-UIDL."""
    found = [(GOLDEN_MESSAGES / f"{n}.eml").read_bytes() for n in (1, 2, 3)]
    found.append(b"From: d@example.com\nSubject: no final newline\n\nbody without newline")
    found.append(b"From: e@example.com\r\nSubject: crlf\r\n\r\nline1\r\n.dot\r\n")
    found.append(b"From: f@example.com\nX-UIDL: abc123xyz\nSubject: xuidl\n\nhello\n")
    return found


def write_env(root: Path, port: int, *, tls: bool = False, disable_plaintext: bool = False) -> Path:
    """Config, users and a fresh Maildir per user under ``root``; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)  # real Dovecot's unprivileged processes read the users file
    for sub in ("run", "state"):
        (root / sub).mkdir(exist_ok=True)
    lines = [f"{user}:{{PLAIN}}{PASSWORD}:{MAIL_UID}:{MAIL_UID}::{root}/mail/{user}::{extra}".rstrip(":")
             for user, extra in USERS.items()]
    (root / "users").write_text("\n".join(lines) + "\n")
    text = CONFIG.format(root=root, dbs=passwd_file_dbs(root / "users"), listeners=inet_listeners(pop3=port, pop3s=0),
                         ssl="yes" if tls else "no",
                         disable_plaintext="yes" if disable_plaintext else "no")
    if tls:
        text += TLS_CONFIG.format(root=root)
        make_certificate(root)
    (root / "dovecot.conf").write_text(text)
    for user in USERS:
        fill_maildir(root / "mail" / user)
    return root / "dovecot.conf"


def make_certificate(root: Path) -> None:
    """A throw-away self-signed certificate for the ssl = yes set-up."""
    if (root / "cert.pem").exists():
        return
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(root / "key.pem"),
                    "-out", str(root / "cert.pem"), "-days", "3650", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)


def fill_maildir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    for i, data in enumerate(messages()):
        name = path / "new" / f"{1700000000 + i}.M{i}P1.host"
        name.write_bytes(data)
        os.utime(name, (1700000000 + i, 1700000000 + i))
    (path / "dovecot-uidlist").write_text(f"3 V{UIDVALIDITY} N1\n")
    if os.geteuid() == 0:
        chown_tree(path.parent, MAIL_UID)


def maildir_state(path: Path) -> list[str]:
    """What a session left: each message's base name with its flags, and the keyword names."""
    state = []
    for sub in ("new", "cur"):
        for name in sorted(os.listdir(path / sub)):
            state.append(f"{sub}/{name}")
    keywords = path / "dovecot-keywords"
    if keywords.exists():
        state.extend(f"keyword {line}" for line in keywords.read_text().splitlines())
    uidlist = path / "dovecot-uidlist"
    if uidlist.exists():
        # the POP3 UIDLs pop3_save_uidl stored: the records' P extension
        for line in uidlist.read_text().splitlines()[1:]:
            fields = line.split(" :", 1)[0].split(" ")
            state.extend(f"uidl {fields[0]} {f[1:]}" for f in fields[1:] if f.startswith("P"))
    return state


def plain(user: str, password: str = PASSWORD) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def login(user: str) -> list[str]:
    return [f"USER {user}", f"PASS {PASSWORD}"]


CLOSE = "<close>"  # drop the connection without QUIT

SCENARIOS: dict[str, dict[str, object]] = {
    "read_all": {"user": "tester", "lines": login("tester") + [
        "CAPA", "STAT", "LIST", "UIDL", "LIST 4", "UIDL 6",
        "RETR 1", "RETR 2", "RETR 3", "RETR 4", "RETR 5", "RETR 6",
        "TOP 2 1", "TOP 4 0", "TOP 5 9", "LAST", "QUIT"]},
    "dele_and_quit": {"user": "tester", "lines": login("tester") + [
        "DELE 1", "DELE 3", "RETR 2", "RETR 3", "STAT", "LIST", "UIDL", "QUIT"]},
    "rset_forgets_seen_and_dele": {"user": "tester", "lines": login("tester") + [
        "RETR 1", "DELE 2", "RSET", "RETR 3", "QUIT"]},
    "dropped_without_quit": {"user": "tester", "lines": login("tester") + ["RETR 1", "DELE 2", CLOSE]},
    "auth_login_mechanism": {"user": "tester", "lines": [
        "AUTH LOGIN", base64.b64encode(b"tester").decode(), base64.b64encode(b"secret").decode(),
        "STAT", "QUIT"]},
    "auth_plain_ir_after_failure": {"user": "tester", "lines": [
        "USER tester", "PASS wrong", f"AUTH PLAIN {plain('tester', 'nope')}", f"AUTH PLAIN {plain('tester')}",
        "NOOP", "QUIT"]},
    "login_quit": {"user": "", "lines": ["CAPA", "AUTH", "QUIT"]},
    "login_failed_then_closed": {"user": "tester", "lines": ["USER tester", "PASS wrong", CLOSE]},
    "too_many_bad_login_commands": {"user": "", "lines": ["X1", "X2", "X3"]},
    "deleted_flag_and_xuidl": {"user": "flagger", "lines": login("flagger") + [
        "UIDL", "DELE 2", "RETR 1", "QUIT", *login("flagger"), "STAT", "UIDL", "QUIT"]},
    "no_flag_updates_and_last": {"user": "noflags", "lines": login("noflags") + [
        "UIDL 1", "UIDL 6", "LAST", "RETR 2", "LAST", "RETR 1", "LAST", "DELE 3", "QUIT"]},
    "save_uidl": {"user": "saver", "lines": login("saver") + ["UIDL", "QUIT"]},
}


# Played from 127.0.0.2 to a server on 127.0.0.1 with ssl = yes and disable_plaintext_auth = yes:
# the client is neither local nor on TLS until it sends STLS.
INSECURE_SOURCE = "127.0.0.2"
TLS_SCENARIOS: dict[str, dict[str, object]] = {
    "plaintext_refused_then_stls": {"user": "tester", "lines": [
        "CAPA", "USER tester", "PASS secret", "AUTH PLAIN", f"AUTH PLAIN {plain('tester')}", "AUTH", "AUTH LOGIN",
        "STLS", "CAPA", "STLS", "USER tester", "PASS secret", "STAT", "RETR 5", "QUIT"]},
    "plaintext_refused_quit": {"user": "tester", "lines": ["USER tester", "QUIT"]},
}


def split_sessions(lines: list[str]) -> list[list[str]]:
    """A scenario may log in twice: a QUIT or CLOSE ends one connection, the rest is the next."""
    sessions: list[list[str]] = [[]]
    for line in lines:
        sessions[-1].append(line)
        if line in ("QUIT", CLOSE):
            sessions.append([])
    return [s for s in sessions if s]


def _read_line(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            line = bytes(buf)
            buf.clear()
            return line
        buf += chunk
    end = buf.index(b"\r\n") + 2
    line = bytes(buf[:end])
    del buf[:end]
    return line


def _multiline(sent: str, first: bytes) -> bool:
    verb, _, args = sent.partition(" ")
    verb = verb.upper()
    if not first.startswith(b"+OK"):
        return False
    return verb in ("CAPA", "RETR", "TOP") or (verb in ("LIST", "UIDL", "AUTH") and args == "")


def _read_reply(sock: socket.socket, buf: bytearray, sent: str) -> bytes:
    first = _read_line(sock, buf)
    reply = first
    if _multiline(sent, first):
        while True:
            line = _read_line(sock, buf)
            reply += line
            if line in (b".\r\n", b""):
                break
    return reply


def _read_rest(sock: socket.socket, buf: bytearray, timeout: float) -> bytes:
    """Whatever the server still sends before it closes (or falls silent for ``timeout``)."""
    sock.settimeout(timeout)
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    rest = bytes(buf)
    buf.clear()
    return rest


def _client_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the set-up's certificate is self-signed
    return ctx


def run_session(port: int, lines: list[str], *, timeout: float = 10.0, rest_timeout: float = 1.0,
                source_ip: str | None = None) -> dict[str, object]:
    """One connection: the greeting, then each line sent and the reply it got."""
    exchanges = []
    source = (source_ip, 0) if source_ip else None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=source) as plain_sock:
        sock: socket.socket = plain_sock
        buf = bytearray()
        greeting = _read_line(sock, buf).decode()
        for line in lines:
            if line == CLOSE:
                break
            try:
                sock.sendall(line.encode() + b"\r\n")
                reply = _read_reply(sock, buf, line)
                if line.upper() == "STLS" and reply.startswith(b"+OK") and not isinstance(sock, ssl.SSLSocket):
                    sock = _client_tls().wrap_socket(sock)
            except OSError:
                reply = b""
            exchanges.append({"send": line, "reply": reply.decode("utf-8", "replace")})
            if not reply:
                break
        else:
            if exchanges:
                # e.g. "Too many invalid bad commands." after the last reply, then the close
                rest = _read_rest(sock, buf, rest_timeout).decode("utf-8", "replace")
                exchanges[-1]["reply"] = str(exchanges[-1]["reply"]) + rest
    return {"greeting": greeting, "exchanges": exchanges}


_NORMALIZE = [
    (re.compile(r"mpid=\d+"), "mpid=PID"),
    (re.compile(r"session=<[^>]*>"), "session=<ID>"),
    (re.compile(r"\)<\d+><[^>]*>"), ")<PID><ID>"),
    (re.compile(r"in \d+ secs"), "in N secs"),
]


def normalize_log(line: str) -> str:
    for pattern, replacement in _NORMALIZE:
        line = pattern.sub(replacement, line)
    return line


def interesting_log(lines: list[str]) -> list[str]:
    """The login/logout lines both servers write, timestamps and ids normalized."""
    keep = []
    for line in lines:
        for marker in ("pop3-login: ", "pop3("):
            at = line.find(marker)
            if at >= 0 and ("Login:" in line or "Disconnected" in line):
                keep.append(normalize_log(line[at:]))
                break
    return keep


def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    return net.wait_for(predicate, timeout)
