"""Shared by the LMTP goldens recorder, the tests and the benchmark: a temp config that real
Dovecot and pydovecot both read, a byte-level LMTP client, and the normalisation of the values
that differ by nature (session ids, dates, pids)."""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

USERS = ("alice@example.test", "bob@example.test")
HOSTNAME = "mx.example.test"


def write_config(root: Path, port: int, *, extra: str = "", uid: int | None = None) -> Path:
    """``root/dovecot.conf`` with passwd-file users whose mail lives under ``root/mail``."""
    root.mkdir(parents=True, exist_ok=True)
    if uid is None:
        uid = 65534 if os.geteuid() == 0 else os.geteuid()
    gid = 65534 if uid == 65534 else os.getegid()
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    os.chmod(root, 0o755)
    os.chmod(root / "mail", 0o777)
    users = "".join(f"{u}:{{PLAIN}}secret:{uid}:{gid}::{root}/mail/{u}::\n" for u in USERS)
    (root / "users").write_text(users)
    identity = "default_internal_user = nobody\ndefault_login_user = nobody\n" if os.geteuid() == 0 else (
        f"default_internal_user = {_me()}\ndefault_login_user = {_me()}\n")
    (root / "dovecot.conf").write_text(f"""\
protocols = lmtp
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = lmtptest{port}
hostname = {HOSTNAME}
login_greeting = Dovecot ready.
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = {min(uid, 1)}
mail_fsync = always
ssl = no
recipient_delimiter = +
postmaster_address = postmaster@example.test
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
{identity}{extra}
""")
    return root / "dovecot.conf"


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def final_lines(data: bytes) -> int:
    """How many complete final reply lines (``NNN text``) the bytes hold."""
    return sum(1 for line in data.split(b"\r\n") if len(line) >= 4 and line[3:4] == b" ")


def converse(port: int, steps: list[bytes], expected: list[int] | None = None, *,
             quiet: float = 0.35, timeout: float = 10.0) -> list[bytes]:
    """The greeting then the server's bytes after each step.

    With ``expected`` (final reply lines per step, from a golden) each read stops as soon as
    they arrived; without it, when the server has been quiet for ``quiet`` seconds (recording).
    """
    replies: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        replies.append(_read(sock, expected[0] if expected else None, quiet, timeout))
        for pos, step in enumerate(steps, start=1):
            try:
                sock.sendall(step)
            except OSError:
                break
            replies.append(_read(sock, expected[pos] if expected else None, quiet, timeout))
    return replies


def _read(sock: socket.socket, want: int | None, quiet: float, timeout: float) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        if want is not None and final_lines(buf) >= want and buf.endswith(b"\r\n"):
            return buf
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return buf
        sock.settimeout(min(remaining, quiet) if want is None else remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return buf
        except OSError:
            return buf
        if not chunk:
            return buf
        buf += chunk


_SID = re.compile(rb"(<[^>]*> )([A-Za-z0-9+/]{12,24})((?::[TR]\d+)*) Saved")
_HDR_ID = re.compile(rb"^(\tid )[A-Za-z0-9+/]{12,24}((?::[TR]\d+)*)$", re.M)
_DATE = re.compile(rb"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")


def normalize_reply(data: bytes) -> bytes:
    return _SID.sub(rb"\1SID\3 Saved", data)


def normalize_message(data: bytes) -> bytes:
    return _DATE.sub(b"DATE", _HDR_ID.sub(rb"\1SID\2", data))


def maildir_messages(root: Path, sub: str = "") -> dict[str, list[bytes]]:
    """Every user's delivered files (new/ and cur/) in delivery order, normalised."""
    out: dict[str, list[bytes]] = {}
    for user in USERS:
        files: list[Path] = []
        for part in ("new", "cur"):
            folder = root / "mail" / user / "Maildir" / sub / part
            if folder.is_dir():
                files.extend(folder.iterdir())
        files.sort(key=lambda p: _delivery_key(p.name))
        out[user] = [normalize_message(p.read_bytes()) for p in files]
    return out


def _delivery_key(name: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.M(\d+)", name)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def folder_messages(root: Path) -> dict[str, list[bytes]]:
    """Mail in the users' other folders (``user/.Work``), normalised, in delivery order."""
    out: dict[str, list[bytes]] = {}
    for user in USERS:
        base = root / "mail" / user / "Maildir"
        for folder in sorted(base.glob(".*")) if base.is_dir() else ():
            if folder.is_dir():
                msgs = maildir_messages(root, sub=folder.name)[user]
                out[f"{user}/{folder.name}"] = msgs
    return out


def record_real_variants(variants: Iterable[str], write_variant: Callable[[Path, int, str], Path], port: int,
                         steps: list[bytes], observe: Callable[[Path], dict[str, object]], golden: Path) -> None:
    """Run ``steps`` against real Dovecot once per config variant (each in a fresh directory,
    on ``port``) and write the replies and ``observe(root)`` of each into ``golden``."""
    from tests.support import real_dovecot

    results: dict[str, object] = {}
    for name in variants:
        with tempfile.TemporaryDirectory(prefix="lmtp-record-", dir="/tmp") as tmp:
            root = Path(tmp)
            root.chmod(0o755)
            conf = write_variant(root, port, name)
            with real_dovecot.running(conf):
                time.sleep(0.5)
                replies = converse(port, steps)
                time.sleep(0.3)
            results[name] = {
                "expected": [final_lines(r) for r in replies],
                "replies": [normalize_reply(r).decode("latin-1") for r in replies],
                **observe(root),
            }
    golden.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"wrote {golden}")
