"""Replay `imap_golden_cases.CASES` against a live Dovecot and store its replies as goldens.

Not a test: run by hand against a private Dovecot (see the golden file's header for the set-up):
    python tests/imap/protocol/record_imap_goldens.py 127.0.0.1 21143 alice secret
"""

from __future__ import annotations

import json
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from imap_golden_cases import CASES, GoldenCase  # noqa: E402

GOLDEN = Path(__file__).parent / "goldens" / "imap_errors.json"


def _read_quiet(sock: socket.socket, quiet: float = 0.5) -> bytes:
    """Read until the server has been silent for `quiet` seconds."""
    got = b""
    sock.settimeout(quiet)
    while True:
        try:
            part = sock.recv(65536)
        except TimeoutError:
            return got
        except ConnectionResetError:
            return got + b"<connection reset>"
        if not part:
            return got + b"<connection closed>"
        got += part


def _read_tagged(sock: socket.socket, tag: bytes) -> bytes:
    """Read until the tagged reply for `tag` arrives (set-up commands only)."""
    got = b""
    sock.settimeout(10)
    while not (got.startswith(tag + b" ") or b"\r\n" + tag + b" " in got) or not got.endswith(b"\r\n"):
        got += sock.recv(65536)
    return got


def _run(host: str, port: int, user: str, password: str, case: GoldenCase) -> list[str]:
    with socket.create_connection((host, port)) as sock:
        _read_quiet(sock, 0.3)
        if case.state in ("authenticated", "selected"):
            sock.sendall(f"x LOGIN {user} {password}\r\n".encode())
            _read_tagged(sock, b"x")
        if case.state == "selected":
            sock.sendall(b"y SELECT INBOX\r\n")
            _read_tagged(sock, b"y")
        replies = []
        for chunk in case.chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                replies.append("<send failed: connection closed>")
                break
            replies.append(_read_quiet(sock).decode("latin-1"))
        return replies


def _seed_inbox(host: str, port: int, user: str, password: str) -> None:
    with socket.create_connection((host, port)) as sock:
        _read_quiet(sock, 0.3)
        sock.sendall(f"x LOGIN {user} {password}\r\n".encode())
        for n in range(3):
            body = f"Subject: m{n}\r\n\r\nbody {n}\r\n".encode()
            sock.sendall(b"s APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
        sock.sendall(b"z LOGOUT\r\n")
        _read_quiet(sock, 0.5)


def main() -> None:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    _seed_inbox(host, port, user, password)
    time.sleep(0.2)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: _run(host, port, user, password, c), CASES))
    golden = {
        "recorded_from": "Dovecot 2.3.19.1 (9b53102964), imap on 127.0.0.1 with ssl=no; INBOX has 3 messages",
        "cases": {case.name: replies for case, replies in zip(CASES, results, strict=True)},
    }
    GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
