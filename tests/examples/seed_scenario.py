"""The client side of the seed end-to-end run, the same for our server and the real Dovecot.

``run_scenario`` delivers over LMTP, reads over POP3 and IMAP(S), copies/deletes/expunges,
tries wrong passwords, and returns what it saw; ``normalize`` masks what differs from run to
run in the log (times, pids, session ids, message ids, sizes) so that lines compare.
"""

from __future__ import annotations

import gzip
import imaplib
import poplib
import re
import smtplib
import ssl
from collections.abc import Callable
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from tests.examples.seed_support import SeedInstance
from tests.support import net

ALICE, ALICE_PASSWORD = "alice@example.test", "alice-seed"
BOB, BOB_PASSWORD = "bob@example.test", "bob-seed"


def message(to: str, subject: str, body: str) -> tuple[str, bytes]:
    msgid = make_msgid(domain="sender.test")
    text = (f"From: Sender <sender@sender.test>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\n\r\n{body}\r\n")
    return msgid, text.encode()


def maildir_files(maildir: Path) -> list[Path]:
    return sorted(p for sub in ("new", "cur") if (maildir / sub).is_dir() for p in (maildir / sub).iterdir())


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    return net.wait_for(predicate, timeout, interval=0.2)


def tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the seed's self-signed /etc/pki/dovecot certificate
    return ctx


def deliver(inst: SeedInstance, to: str, subject: str, body: str) -> tuple[str, bytes, dict[str, Any]]:
    msgid, data = message(to, subject, body)
    with smtplib.LMTP("127.0.0.1", inst.ports["lmtp"], timeout=30) as lmtp:
        refused = lmtp.sendmail("sender@sender.test", [to], data)
    return msgid, data, refused


def pop3_read(inst: SeedInstance) -> tuple[int, bytes]:
    pop = poplib.POP3("127.0.0.1", inst.ports["pop3"], timeout=30)
    try:
        pop.user(ALICE)
        pop.pass_(ALICE_PASSWORD)
        count, _ = pop.stat()
        _, lines, _ = pop.retr(1)
        return count, b"\r\n".join(lines)
    finally:
        pop.quit()


def pop3s_wrong_password(inst: SeedInstance) -> str:
    pop = poplib.POP3_SSL("127.0.0.1", inst.ports["pop3s"], context=tls(), timeout=30)
    try:
        pop.user(BOB)
        try:
            pop.pass_("not-" + BOB_PASSWORD)
        except poplib.error_proto as exc:
            return str(exc)
        return "accepted"
    finally:
        pop.quit()


def imaps_session(inst: SeedInstance) -> dict[str, Any]:
    """Read the mail, LIST, copy it to Trash, delete and expunge it."""
    out: dict[str, Any] = {}
    imap = imaplib.IMAP4_SSL("127.0.0.1", inst.ports["imaps"], ssl_context=tls(), timeout=30)
    try:
        out["login"] = imap.login(ALICE, ALICE_PASSWORD)[0]
        out["select"] = imap.select("INBOX")[1][0].decode()  # type: ignore[index,union-attr]
        fetched = imap.fetch("1", "(BODY.PEEK[])")[1]
        out["body"] = fetched[0][1] if fetched and isinstance(fetched[0], tuple) else b""
        out["list"] = sorted(line.decode() for line in imap.list('""', "*")[1])  # type: ignore[union-attr]
        out["copy"] = imap.copy("1", "INBOX/Trash")[0]
        out["store"] = imap.store("1", "+FLAGS", "(\\Deleted)")[0]
        out["expunge"] = imap.expunge()[0]
    finally:
        imap.logout()
    wait_for(lambda: any("Logged out" in line and f"imap({ALICE})<" in line for line in inst.log_lines()), 10)
    return out


def imap_wrong_then_right(inst: SeedInstance) -> tuple[str, str]:
    imap = imaplib.IMAP4("127.0.0.1", inst.ports["imap"], timeout=30)
    try:
        try:
            imap.login(BOB, "wrong")
            wrong = "accepted"
        except imaplib.IMAP4.error as exc:
            wrong = str(exc)
        return wrong, imap.login(BOB, BOB_PASSWORD)[0]
    finally:
        imap.logout()


def stored_facts(maildir: Path, data: bytes) -> dict[str, Any]:
    """What the delivery left on disk: one gzip file (zlib_save = gz) whose S= is the plain
    size, owned by the mail uid, and the quota's maildirsize counting it."""
    stored = maildir_files(maildir)
    facts: dict[str, Any] = {"stored_count": len(stored)}
    if not stored:
        return facts
    raw = stored[0].read_bytes()
    facts["stored_gzip"] = raw[:2] == b"\x1f\x8b"
    plain = gzip.decompress(raw) if facts["stored_gzip"] else raw
    facts["stored_first_line"] = plain.split(b"\n", 1)[0].decode()
    facts["stored_ends_with_message"] = plain.endswith(data.replace(b"\r\n", b"\n"))
    facts["stored_name_has_plain_size"] = f",S={len(plain)}" in stored[0].name
    st = stored[0].stat()
    facts["stored_owner"] = [st.st_uid, st.st_gid]
    lines = (maildir / "maildirsize").read_text().splitlines() if (maildir / "maildirsize").exists() else []
    facts["maildirsize_limits"] = lines[0] if lines else None
    facts["maildirsize_counts_it"] = [sum(int(line.split()[i]) for line in lines[1:]) for i in (0, 1)] == \
        [len(plain), 1]
    return facts


def run_scenario(inst: SeedInstance) -> dict[str, Any]:
    """Everything the e2e test does except Postfix, in the same order; JSON-ready."""
    msgid, data, refused = deliver(inst, ALICE, "seed e2e", "hello from the seed test")
    seen: dict[str, Any] = {"msgid": msgid, "refused": refused, **stored_facts(inst.maildir(ALICE), data)}
    count, body = pop3_read(inst)
    seen["pop3"] = {"count": count, "ends_with_message": body.endswith(data.rstrip(b"\r\n"))}
    seen["pop3s_wrong"] = pop3s_wrong_password(inst)
    imap = imaps_session(inst)
    imap["ends_with_message"] = bytes(imap.pop("body")).endswith(data)
    seen["imaps"] = imap
    seen["imap_wrong"], seen["imap_right"] = imap_wrong_then_right(inst)
    return seen


_MASKS = (
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "), "TS "),
    (re.compile(r"\((\d+)\)"), "(PID)"),
    (re.compile(r"<\d+><[A-Za-z0-9+/]+>"), "<PID><SESSION>"),
    (re.compile(r"session=<[A-Za-z0-9+/]+>"), "session=<SESSION>"),
    (re.compile(r"mpid=\d+"), "mpid=PID"),
    (re.compile(r"msgid=<[^>]*>"), "msgid=MSGID"),
    (re.compile(r"size=\d+"), "size=N"),
    (re.compile(r"in \d+ secs"), "in N secs"),
    (re.compile(r"\b(in|out|body_bytes|hdr_bytes)=\d+"), r"\1=N"),
    (re.compile(r"retr=(\d+)/\d+"), r"retr=\1/N"),
    (re.compile(r"by pid=\d+"), "by pid=PID"),
)


def normalize(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, replacement in _MASKS:
            line = pattern.sub(replacement, line)
        out.append(line)
    return out
