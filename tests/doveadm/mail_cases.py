"""The mail commands compared with real doveadm 2.3.19: a prepared Maildir, the cases, and how
to run them and normalise what they print.

Every case starts from a fresh copy of the same Maildir (two users, fixed file names, times,
UIDVALIDITY and mailbox GUIDs in the uidlists) and runs its steps in order; mutating commands
are followed by a step that shows the effect. Real Dovecot keeps its own index (modseqs,
save dates, GUIDs of mailboxes it creates), so those are normalised; nothing else is.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.real_dovecot import chown_tree

MAIL_UID = 65534
USERS = ("alice", "bob")
RECEIVED = 1672660800  # 2023-01-02 12:00:00 UTC

MESSAGES = {
    "alice": {
        "": [
            ("1672660800.M1P1.host,S={size},W={vsize}:2,Sa", b"From: Alice <alice@example.test>\nTo: bob@example.test\n"
             b"Subject: hello world\nDate: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-ID: <1@example.test>\n\n"
             b"body one\nline2\n"),
            ("1672660801.M2P2.host,S={size},W={vsize}:2,", b"From: Carol <carol@example.test>\nTo: alice@example.test\n"
             b"Cc: dave@example.test\nSubject: second\nDate: Tue, 03 Jan 2023 11:00:00 +0100\n\nanother body text\n"),
            ("1672660802.M3P3.host,S={size},W={vsize}:2,FS", b"From: bob@example.test\nTo: alice@example.test\n"
             b"Subject: =?utf-8?q?caf=C3=A9?=\nDate: Wed, 04 Jan 2023 09:30:00 -0500\n\n"
             + b"a larger body line\n" * 20),
        ],
        "Work": [
            ("1672660803.M4P4.host,S={size},W={vsize}:2,", b"Subject: in work\nFrom: dave@example.test\n\nw\n"),
        ],
        "Work.Sub": [],
    },
    "bob": {
        "": [
            ("1672660804.M5P5.host,S={size},W={vsize}:2,", b"Subject: for bob\n\nhi bob\n"),
        ],
    },
}
GUIDS = {"": "0a0b0c0d0e0f10111213141516171819", "Work": "1a1b1c1d1e1f20212223242526272829",
         "Work.Sub": "2a2b2c2d2e2f30313233343536373839"}
UIDVALIDITY = {"": 1672000000, "Work": 1672000001, "Work.Sub": 1672000002}


def prepare(root: Path) -> Path:
    """Users' Maildirs and a configuration under ``root`` (which every user can traverse)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "run").mkdir(exist_ok=True)
    users = "".join(f"{u}:{{PLAIN}}x:{MAIL_UID}:{MAIL_UID}::{root}/home/{u}\n" for u in USERS)
    (root / "users").write_text(users)
    for user, boxes in MESSAGES.items():
        maildir = root / "home" / user / "Maildir"
        for box, messages in boxes.items():
            _write_box(maildir / (f".{box}" if box else ""), box, messages)
        (maildir / "subscriptions").write_text("V\t2\n\nWork\n" if user == "alice" else "V\t2\n\n")
        (maildir / "dovecot-keywords").write_text("0 $Label1\n")
    chown_tree(root / "home", MAIL_UID)
    (root / "userlist").write_text("bob\nalice\n")
    conf = root / "dovecot.conf"
    conf.write_text(CONFIG.format(root=root, uid=MAIL_UID))
    return conf


def _write_box(path: Path, box: str, messages: list[tuple[str, bytes]]) -> None:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if box:
        (path / "maildirfolder").write_text("")
    records = []
    for uid, (pattern, data) in enumerate(messages, start=1):
        name = pattern.format(size=len(data), vsize=len(data) + data.count(b"\n"))
        file = path / "cur" / name
        file.write_bytes(data)
        os.utime(file, (RECEIVED + uid, RECEIVED + uid))
        records.append(f"{uid} :{name.split(':')[0]}\n")
    header = f"3 V{UIDVALIDITY.get(box, 1672000009)} N{len(messages) + 1} G{GUIDS.get(box, '0' * 32)}\n"
    (path / "dovecot-uidlist").write_text(header + "".join(records))


CONFIG = """\
base_dir = {root}/run
log_path = /dev/stderr
ssl = no
protocols =
default_internal_user = nobody
default_login_user = nobody
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
"""


@dataclass(frozen=True)
class Step:
    args: tuple[str, ...]
    stdin: str = ""


def _s(*args: str, stdin: str = "") -> Step:
    return Step(tuple(args), stdin)


_SHOW = _s("fetch", "-u", "alice", "mailbox uid flags", "ALL")
_NEW_MAIL = "From: x@example.test\nSubject: saved\n\nsaved body\n"

# name -> steps; every case runs on a fresh copy of the prepared Maildir.
CASES: dict[str, list[Step]] = {
    "list": [_s("mailbox", "list", "-u", "alice"), _s("mailbox", "list", "-u", "alice", "W*"),
             _s("mailbox", "list", "-u", "alice", "-s"), _s("mailbox", "list", "-u", "bob")],
    "list-formats": [_s("-f", fmt, "mailbox", "list", "-u", "alice") for fmt in ("flow", "tab", "table", "pager", "json")],
    "list-users": [_s("mailbox", "list", "-A"), _s("-f", "tab", "mailbox", "list", "-u", "*"),
                   _s("-f", "json", "mailbox", "list", "-u", "a*")],
    "unknown-user": [_s("mailbox", "list", "-u", "nosuch"), _s("search", "-u", "nosuch", "ALL")],
    "create": [_s("mailbox", "create", "-u", "alice", "New"), _s("mailbox", "create", "-u", "alice", "-s", "Sub2"),
               _s("mailbox", "create", "-u", "alice", "Work"), _s("mailbox", "list", "-u", "alice", "New", "Sub2"),
               _s("mailbox", "list", "-u", "alice", "-s")],
    "delete": [_s("mailbox", "delete", "-u", "alice", "Nope"), _s("mailbox", "delete", "-u", "alice", "Work.Sub"),
               _s("mailbox", "list", "-u", "alice")],
    "rename": [_s("mailbox", "rename", "-u", "alice", "Nope", "X"), _s("mailbox", "rename", "-u", "alice", "Work.Sub", "Other"),
               _s("mailbox", "list", "-u", "alice")],
    "subscribe": [_s("mailbox", "subscribe", "-u", "alice", "Work.Sub"), _s("mailbox", "list", "-u", "alice", "-s"),
                  _s("mailbox", "unsubscribe", "-u", "alice", "Work"), _s("mailbox", "list", "-u", "alice", "-s")],
    "status": [_s("mailbox", "status", "-u", "alice", "all", "*"),
               _s("mailbox", "status", "-u", "alice", "unseen messages vsize", "INBOX"),
               _s("mailbox", "status", "-u", "alice", "-t", "all", "*"),
               _s("-f", "table", "mailbox", "status", "-u", "alice", "messages uidnext", "*"),
               _s("-f", "json", "mailbox", "status", "-u", "alice", "messages guid", "INBOX"),
               _s("mailbox", "status", "-u", "alice", "messages", "Nope"),
               _s("mailbox", "status", "-u", "alice", "bogus", "INBOX"),
               _s("mailbox", "status", "-u", "alice", "-t", "guid", "INBOX"),
               _s("mailbox", "status", "-u", "alice")],
    "search": [_s("search", "-u", "alice", *q.split()) for q in (
        "ALL", "mailbox INBOX", "mailbox W*", "uid 2:*", "mailbox INBOX 2", "1", "mailbox INBOX NOT 3", "SEEN", "NOT SEEN", "FLAGGED", "NEW", "OLD",
        "uid 1 OR uid 3", "( uid 1 OR uid 3 ) mailbox INBOX", "mailbox INBOX OR uid 1 uid 2", "larger 300",
        "smaller 1k", "from carol", "to alice", "cc dave", "subject hello", "subject café", "body another",
        "text Carol", "header Message-ID example.test", "keyword $Label1", "before 2023-01-03",
        "since 2023-01-03", "on 2023-01-02", "sentbefore 3-Jan-2023", "sentsince 2023-01-03", "since 1d",
        "before 1000w", "savedsince 2023-01-01", "mailbox nosuch", "bogus", "uid", "before xyz",
        "mailbox INBOX AND uid 1")] + [_s("search", "-u", "alice"), _s("-f", "json", "search", "-u", "alice", "ALL")],
    "fetch": [_s("fetch", "-u", "alice", "uid seq mailbox guid flags size.physical size.virtual", "ALL"),
              _s("fetch", "-u", "alice", "date.received date.sent date.received.unixtime date.sent.unixtime", "ALL"),
              _s("fetch", "-u", "alice", "hdr", "mailbox", "INBOX", "uid", "1"),
              _s("fetch", "-u", "alice", "text body", "uid", "2", "mailbox", "INBOX"),
              _s("fetch", "-u", "alice", "hdr.subject hdr.to user", "ALL"),
              _s("fetch", "-u", "alice", "imap.envelope imap.bodystructure", "mailbox", "INBOX"),
              _s("fetch", "-u", "alice", "bogus", "ALL"), _s("fetch", "-u", "alice", "uid"),
              _s("fetch", "-u", "alice", "uid", "mailbox", "nosuch")],
    "fetch-formats": [_s("-f", fmt, "fetch", "-u", "alice", "uid flags hdr", "mailbox", "INBOX")
                      for fmt in ("flow", "tab", "pager", "json")]
    + [_s("-f", "table", "fetch", "-u", "alice", "uid flags mailbox", "ALL"),
       _s("-f", "table", "fetch", "-u", "alice", "uid hdr", "ALL"),
       _s("-f", "tab", "fetch", "-A", "uid mailbox", "ALL")],
    "flags": [_s("flags", "add", "-u", "alice", "\\Flagged $Label1", "mailbox", "INBOX", "uid", "2"), _SHOW,
              _s("flags", "remove", "-u", "alice", "\\Seen", "ALL"), _SHOW,
              _s("flags", "replace", "-u", "alice", "\\Answered", "mailbox", "Work"), _SHOW,
              _s("flags", "add", "-u", "alice", "\\Bogus", "ALL")],
    "expunge": [_s("expunge", "-u", "alice", "ALL"), _s("expunge", "-u", "alice", "mailbox", "INBOX", "uid", "2"),
                _SHOW, _s("mailbox", "status", "-u", "alice", "messages uidnext", "INBOX")],
    "save": [_s("save", "-u", "alice", stdin=_NEW_MAIL), _s("save", "-u", "alice", "-m", "Work", stdin=_NEW_MAIL),
             _s("save", "-u", "alice", "-m", "Nope", stdin=_NEW_MAIL),
             _s("fetch", "-u", "alice", "mailbox uid size.physical text", "subject", "saved")],
    "copy-move": [_s("copy", "-u", "alice", "Work", "mailbox", "INBOX", "uid", "1"),
                  _s("move", "-u", "alice", "Work.Sub", "mailbox", "INBOX", "uid", "2"),
                  _s("copy", "-u", "alice", "Nope", "mailbox", "INBOX"),
                  _s("copy", "-u", "bob", "INBOX", "user", "alice", "mailbox", "Work"),
                  # (flags of copies differ in \\Recent only: see the note on recent in doveadm/mail_access.py)
                  _s("fetch", "-u", "alice", "mailbox uid hdr.subject", "ALL"),
                  _s("search", "-u", "alice", "SEEN", "KEYWORD", "$Label1"),
                  _s("fetch", "-u", "bob", "uid hdr.subject", "ALL"), _s("search", "-u", "bob", "SEEN", "KEYWORD", "$Label1")],
    "more": [_s("mailbox", "create", "-u", "alice", "Grüße", "Work.Sub.Deep"), _s("mailbox", "list", "-u", "alice", "-7", "Gr*"),
             _s("mailbox", "list", "-u", "alice", "-8", "Gr*"), _s("mailbox", "delete", "-u", "alice", "-r", "Work"),
             _s("mailbox", "list", "-u", "alice"), _s("mailbox", "list", "-F", "{root}/userlist"),
             _s("search", "-u", "alice", "mailbox-guid", GUIDS[""]), _s("expunge", "-u", "alice", "-m", "mailbox", "Grüße", "ALL"),
             _s("mailbox", "list", "-u", "alice"), _s("fetch", "-u", "alice", "uid", "mailbox", "INBOX", "OR", "uid", "1")],
    "index": [_s("index", "-A", "*"), _s("index", "-u", "alice", "INBOX"), _s("force-resync", "-u", "alice", "*"),
              _s("index", "-u", "alice"), _SHOW],
}


# --- normalisation -------------------------------------------------------------------------

_SAVED_NAME = re.compile(r"\b1[0-9]{9}\.M[0-9]+P[0-9]+\.[^,\s:\"]+,")
_FIXED_GUIDS = set(GUIDS.values())


def normalise(text: str) -> str:
    """Hide what legitimately differs between two implementations (see the module docstring)."""
    text = _SAVED_NAME.sub(lambda m: m.group(0) if m.group(0).split(".")[1] in {
        f"M{i}P{i}" for i in range(1, 6)} else "<NEW>.", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", lambda m: m.group(0) if m.group(0) in _FIXED_GUIDS else "<GUID>", text)
    text = re.sub(r"(highestmodseq[=\": \t]+)[0-9]+", r"\g<1><N>", text)
    text = re.sub(r"(firstsaved[=\": \t]+)[0-9]+", r"\g<1><T>", text)
    text = re.sub(r"(uidvalidity[=\": \t]+)1[0-9]{9}", lambda m: m.group(0) if m.group(0)[-10:].startswith("1672")
                  else m.group(1) + "<UV>", text)
    return text


# --- running -------------------------------------------------------------------------------


def _args(conf: Path, step: Step) -> list[str]:
    return ["-c", str(conf), *(arg.replace("{root}", str(conf.parent)) for arg in step.args)]


def run_ours(conf: Path, step: Step) -> dict:
    """Our doveadm in this process: stdout, stderr and exit code of one step."""
    from doveadm.cli import main  # noqa: PLC0415

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin = io.TextIOWrapper(io.BytesIO(step.stdin.encode()))
        sys.stdout = io.TextIOWrapper(out, write_through=True)
        sys.stderr = io.TextIOWrapper(err, write_through=True)
        try:
            code = main(["doveadm", *_args(conf, step)])
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.detach()
            sys.stdin, sys.stdout, sys.stderr = saved
        out.seek(0)
        err.seek(0)
        return {"stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace"),
                "code": code}


def run_real(conf: Path, step: Step, doveadm: str = "/usr/bin/doveadm") -> dict:
    import subprocess  # noqa: PLC0415

    proc = subprocess.run([doveadm, *_args(conf, step)], input=step.stdin.encode(), capture_output=True,
                          timeout=30, check=False)
    return {"stdout": proc.stdout.decode("utf-8", "replace"), "stderr": proc.stderr.decode("utf-8", "replace"),
            "code": proc.returncode}


def comparable(result: dict, root: Path) -> dict:
    return {key: normalise(value.replace(str(root), "<ROOT>")) if isinstance(value, str) else value
            for key, value in result.items()}
