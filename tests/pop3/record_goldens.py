"""Record POP3 exchanges from a running real Dovecot into goldens/sessions.json.

Run by hand against a private Dovecot (see goldens/README.md); the tests only read the result.
Each scenario is a fresh connection: the greeting, then one reply per line we send.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MULTILINE = {"CAPA", "LIST", "UIDL", "TOP", "RETR"}
PLAIN = base64.b64encode(b"\0tester\0secret").decode()
LOGIN = ["USER tester", "PASS secret"]

SCENARIOS: dict[str, list[str]] = {
    # the login process drops a client after 3 bad commands, so each of these stays under that
    "login_capa": ["CAPA", "NOOP", "STAT", "QUIT"],
    "login_wrong_state": ["LIST", "RETR 1", "QUIT"],
    "login_empty_and_pass_first": ["", "PASS secret", "QUIT"],
    "login_bad_user": ["USER", "USER tester", "PASS wrong", "QUIT"],
    "login_apop_stls": ["APOP tester 0123456789abcdef0123456789abcdef", "STLS", "QUIT"],
    "user_pass": ["user tester", "pass secret", "QUIT"],
    "auth_plain_initial": [f"AUTH PLAIN {PLAIN}", "STAT", "QUIT"],
    "auth_plain_continuation": ["AUTH PLAIN", PLAIN, "STAT", "QUIT"],
    "auth_cancel": ["AUTH PLAIN", "*", "AUTH BOGUS", "AUTH", "AUTH PLAIN !!!", "QUIT"],
    "auth_bad_password": ["AUTH PLAIN " + base64.b64encode(b"\0tester\0nope").decode(), "QUIT"],
    "transaction": LOGIN
    + [
        "CAPA",
        "STAT",
        "LIST",
        "LIST 2",
        "LIST 4",
        "LIST 0",
        "LIST x",
        "LIST 1 2",
        "UIDL",
        "UIDL 3",
        "UIDL 9",
        "UIDL abc",
        "TOP 1 0",
        "TOP 2 2",
        "TOP 2 100",
        "TOP 3",
        "TOP",
        "TOP 5 1",
        "TOP 1 x",
        "RETR 1",
        "RETR 2",
        "RETR 3",
        "RETR 4",
        "RETR",
        "RETR z",
        "NOOP",
        "NOOP x",
        "FOO",
        "USER tester",
        "PASS secret",
        "STLS",
        "AUTH PLAIN",
        "LAST",
        "QUIT",
    ],
    "delete_then_rset": LOGIN
    + [
        "DELE 2",
        "DELE 2",
        "RETR 2",
        "TOP 2 0",
        "LIST 2",
        "UIDL 2",
        "STAT",
        "LIST",
        "UIDL",
        "DELE 9",
        "DELE",
        "RSET",
        "STAT",
        "LIST 2",
        "RSET x",
        "QUIT",
    ],
    "delete_then_quit_no_expunge_check": LOGIN + ["DELE 1", "STAT", "RSET", "QUIT"],
    "bad_commands_login": [
        "BAD1",
        "BAD2",
        "BAD3",
        "BAD4",
        "BAD5",
        "BAD6",
        "BAD7",
        "BAD8",
        "BAD9",
        "BAD10",
        "BAD11",
    ],
    "bad_commands_session": LOGIN + [f"BAD{i}" for i in range(1, 23)],
    "bad_counter_resets": ["BAD1", "BAD2", "CAPA", "BAD3", "BAD4", *LOGIN]
    + [f"LIST {i}" for i in range(100, 120)]
    + ["NOOP"]
    + [f"BAD{i}" for i in range(1, 21)]
    + ["STAT", "RETR 99", "DELE", "TOP 1 x", "QUIT"],
    # last, because QUIT really expunges: re-recording needs a freshly filled mailbox
    "delete_and_quit": LOGIN + ["DELE 3", "QUIT"],
}


def read_line(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            line, buf[:] = bytes(buf), b""
            return line
        buf += chunk
    index = buf.index(b"\r\n") + 2
    line = bytes(buf[:index])
    del buf[:index]
    return line


def read_reply(sock: socket.socket, buf: bytearray, sent: str) -> bytes:
    first = read_line(sock, buf)
    reply = first
    verb = sent.split(" ")[0].upper()
    multiline = (
        first.startswith(b"+OK")
        and verb in MULTILINE
        and (verb in {"TOP", "RETR", "CAPA"} or len(sent.split(" ")) == 1)
    )
    if multiline:
        while True:
            line = read_line(sock, buf)
            reply += line
            if line in (b".\r\n", b""):
                break
    # anything more arriving means our guess of the reply shape was wrong: keep it so the golden is honest
    sock.settimeout(0.15)
    try:
        while True:
            extra = sock.recv(65536)
            if not extra:
                break
            reply += extra
    except TimeoutError:
        pass
    sock.settimeout(5)
    reply += bytes(buf)
    buf.clear()
    return reply


def record(port: int, names: list[str]) -> dict[str, object]:
    sessions: dict[str, object] = {}
    for name, lines in SCENARIOS.items():
        if names and name not in names:
            continue
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            buf = bytearray()
            greeting = read_line(sock, buf).decode()
            exchanges = []
            for line in lines:
                try:
                    sock.sendall(line.encode() + b"\r\n")
                    reply = read_reply(sock, buf, line)
                except OSError:
                    reply = b""
                exchanges.append({"send": line, "reply": reply.decode("utf-8")})
                if not reply:
                    break
            sessions[name] = {"greeting": greeting, "exchanges": exchanges}
        time.sleep(0.1)
    return sessions


if __name__ == "__main__":
    # usage: record_goldens.py PORT [SCENARIO...]; naming scenarios re-records just those
    port, names = int(sys.argv[1]), sys.argv[2:]
    out = HERE / "goldens" / "sessions.json"
    sessions = json.loads(out.read_text()) if names and out.exists() else {}
    sessions.update(record(port, names))
    out.write_text(json.dumps(sessions, indent=1) + "\n")
    print(f"wrote {out}")
