"""Drive the real Dovecot ``imap`` binary in PREAUTH mode over stdin/stdout.

The oracle for the MIME layer: each corpus message goes into its own throw-away Maildir and
every FETCH item is sent as its own command, so an error on one item (``[UNKNOWN-CTE]``)
cannot hide the answers to the others.  ``PYDOVECOT_DOVECOT_ROOT`` points at an unpacked
Dovecot tree (``dpkg -x``) when it is not installed under ``/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO

ROOT = Path(os.environ.get("PYDOVECOT_DOVECOT_ROOT", "/"))
IMAP_BIN = ROOT / "usr/lib/dovecot/imap"
DOVECONF_BIN = ROOT / "usr/bin/doveconf"

# The FETCH items recorded for every corpus message (sections that do not exist are part of the test).
ITEMS: tuple[str, ...] = (
    "ENVELOPE", "BODY", "BODYSTRUCTURE", "RFC822.SIZE", "PREVIEW", "SNIPPET",
    "BODY.PEEK[]", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]",
    "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT TO CONTENT-TYPE)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)]",
    "BODY.PEEK[1]", "BODY.PEEK[1.MIME]", "BODY.PEEK[2]", "BODY.PEEK[2.MIME]",
    "BODY.PEEK[1.1]", "BODY.PEEK[2.HEADER]", "BODY.PEEK[2.TEXT]", "BODY.PEEK[2.1]", "BODY.PEEK[2.2]",
    "BODY.PEEK[1.HEADER]", "BODY.PEEK[TEXT]<5.10>", "BODY.PEEK[]<0.20>", "BODY.PEEK[1]<100.5>",
    "BINARY.PEEK[]", "BINARY.PEEK[1]", "BINARY.SIZE[1]", "BINARY.PEEK[2]", "BINARY.SIZE[2]",
    "BINARY.PEEK[2.2]", "BINARY.PEEK[1]<2.8>",
)

_TIMING = re.compile(rb" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.")


def available() -> bool:
    return IMAP_BIN.exists() and DOVECONF_BIN.exists()


def _config(tmp: Path, uid: int, gid: int) -> Path:
    conf = tmp / "dovecot.conf"
    conf.write_text(
        f"base_dir = {tmp}/run\nstate_dir = {tmp}/run\nlog_path = {tmp}/log\nssl = no\n"
        f"mail_location = maildir:{tmp}/Maildir\nfirst_valid_uid = 0\nfirst_valid_gid = 0\n"
        f"mail_uid = {uid}\nmail_gid = {gid}\nprotocols = imap\n"
        "passdb {\n  driver = static\n  args = nopassword\n}\n"
        f"userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={tmp}\n}}\n"
    )
    return conf


def _read_response(stream: IO[bytes], tag: bytes) -> bytes:
    """Read one command's answer up to and including its tagged line (literal-aware)."""
    out = bytearray()
    while True:
        line = stream.readline()
        if not line:
            raise RuntimeError("imap closed the connection: " + out.decode("latin-1"))
        m = re.search(rb"\{(\d+)\}\r\n$", line)
        while m:
            line += stream.read(int(m.group(1)))
            line += stream.readline()
            m = re.search(rb"\{(\d+)\}\r\n$", line)
        out += line
        if line.startswith(tag + b" "):
            return _TIMING.sub(b".", bytes(out))


CRASHED = b"<imap process died>"


class _ImapDied(Exception):
    pass


def _session(conf: Path, env: dict[str, str], items: list[str], answers: dict[str, bytes]) -> None:
    """One imap process: SELECT, then one FETCH per item until done or the process dies."""
    proc = subprocess.Popen(
        [str(DOVECONF_BIN), "-c", str(conf), "-m", "imap", "-e", str(IMAP_BIN)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdout.readline()  # the PREAUTH greeting
        for i, item in enumerate(["SELECT", *items]):
            tag = b"t%03d" % i
            cmd = b"SELECT INBOX" if i == 0 else b"FETCH 1 (%s)" % item.encode()
            try:
                proc.stdin.write(tag + b" " + cmd + b"\r\n")
                proc.stdin.flush()
                answer = _read_response(proc.stdout, tag)
            except (RuntimeError, BrokenPipeError) as exc:
                raise _ImapDied(item) from exc
            if i:
                answers[item] = answer
        proc.stdin.write(b"t999 LOGOUT\r\n")
        proc.stdin.close()
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def fetch_all(message: bytes, items: tuple[str, ...] = ITEMS) -> dict[str, bytes]:
    """Return ``{item: raw response}`` for one message, each item fetched by its own command.

    When Dovecot's imap process dies on an item (it does, e.g. on some partial fetches of
    bodies with bare CRs), that item's answer is ``CRASHED`` and a new session continues.
    """
    uid = os.getuid() or 65534
    gid = os.getgid() or 65534
    tmp = Path(tempfile.mkdtemp(prefix="mimeoracle"))
    try:
        for sub in ("cur", "new", "tmp"):
            (tmp / "Maildir" / sub).mkdir(parents=True)
        (tmp / "run").mkdir()
        (tmp / "Maildir/cur/1000000000.M1P1.oracle:2,S").write_bytes(message)
        conf = _config(tmp, uid, gid)
        if os.getuid() == 0:
            os.chmod(tmp, 0o755)
            for p in [tmp / "run", *(tmp / "Maildir").rglob("*"), tmp / "Maildir"]:
                os.chown(p, uid, gid)
        env = dict(os.environ, USER="oracle", HOME=str(tmp))
        env["LD_LIBRARY_PATH"] = str(ROOT / "usr/lib/dovecot")
        answers: dict[str, bytes] = {}
        todo = list(items)
        while todo:
            try:
                _session(conf, env, todo, answers)
            except _ImapDied as died:
                answers[str(died)] = CRASHED
            todo = [item for item in items if item not in answers]
        return {item: answers[item] for item in items}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_golden(path: Path, answers: dict[str, bytes]) -> None:
    with path.open("wb") as f:
        for item, raw in answers.items():
            f.write(b"#ITEM %s\n#LEN %d\n%s\n" % (item.encode(), len(raw), raw))


def read_golden(path: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    answers: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        item = data[pos + 6:nl].decode()
        nl2 = data.index(b"\n", nl + 1)
        n = int(data[nl + 6:nl2])
        answers[item] = data[nl2 + 1:nl2 + 1 + n]
        pos = nl2 + 1 + n + 1
    return answers
