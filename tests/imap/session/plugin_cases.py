"""Sessions with imap_quota, fts (fts_lucene) and EXAMINE of new/ mail, as real Dovecot 2.3.19
answered them (goldens/plugin_sessions.json). Record again with
``python -m tests.imap.session.plugin_cases [CASE...]`` (starts real dovecot on a high port).

Some cases need mail delivered straight into new/ before the session (`NEW_MAIL`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .cases import LOGIN, USERS, append, normalise, run_case, write_config

GOLDENS = Path(__file__).with_name("goldens") / "plugin_sessions.json"
PORT = 31987

QUOTA = """mail_plugins = quota imap_quota
plugin {
  quota = count:User quota
  quota_rule = *:storage=1k:messages=3
  quota2 = count
  quota2_rule = *:messages=100
  quota3 = count:Nolimit
  quota_vsizes = yes
}
"""
FTS = """mail_plugins = fts fts_lucene
plugin {
  fts = lucene
}
"""
FILLER = b"Subject: fill\r\n\r\n" + b"y" * 300 + b"\r\n"


def _mail(subject: str, sender: str, body: str) -> bytes:
    return f"From: {sender}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


FTS_MAIL = [
    _mail("Quarterly report", "Alice Smith <alice@example.test>", "The budget for the project is ready."),
    _mail("Lunch plans", "Bob Jones <bob@example.test>", "Shall we meet for lunch? The budgeting can wait."),
    _mail("Re: Quarterly report", "Carol <carol@example.test>", "Report looks fine; project budget approved."),
    _mail("holiday", "dave@example.test", "Out of office until Monday.\r\nreports will wait"),
    _mail("Project kickoff", "Alice Smith <alice@example.test>", "Kickoff meeting for the new project."),
]

CASE_SETTINGS: dict[str, str] = {"quota": QUOTA, "fts_search": FTS}
CASES: dict[str, list[str]] = {
    "quota": [
        LOGIN,
        "b CAPABILITY",
        "c GETQUOTAROOT INBOX",
        'd GETQUOTA "User quota"',
        'e GETQUOTA ""',
        "f GETQUOTA Nolimit",
        "g GETQUOTA nosuch",
        'h SETQUOTA "User quota" (STORAGE 100)',
        "i SETQUOTA x",
        "j GETQUOTAROOT",
        append("k", "INBOX", FILLER),
        append("l", "INBOX", FILLER),
        'm GETQUOTAROOT "INBOX"',
        append("n", "INBOX", FILLER),
        append("o", "INBOX", FILLER),
        "p SELECT INBOX",
        "q COPY 1:* Trash",
        "r COPY 1 Trash",
        "s GETQUOTAROOT Trash",
        "t GETQUOTAROOT nosuch",
        "u LOGOUT",
    ],
    "quota_not_loaded": [LOGIN, "b GETQUOTAROOT INBOX", 'c GETQUOTA ""', "d SETQUOTA x (STORAGE 1)", "e LOGOUT"],
    "examine_new": [
        LOGIN,
        "b STATUS INBOX (MESSAGES RECENT)",
        "c EXAMINE INBOX",
        "d FETCH 1:* FLAGS",
        "e SEARCH RECENT",
        "f NOOP",
        "g LOGOUT",
    ],
    "examine_then_select": [
        LOGIN,
        "b EXAMINE INBOX",
        "c SELECT INBOX",
        "d FETCH 1:* FLAGS",
        "e EXAMINE INBOX",
        "f FETCH 1:* FLAGS",
        "g LOGOUT",
    ],
    "examine_sees_new_mail": [
        LOGIN,
        "b EXAMINE INBOX",
        "#2 a LOGIN alice@example.test secret",
        "#2 b APPEND INBOX {12+}\r\nSubject: x\r\n",
        "c NOOP",
        "d FETCH 1:* FLAGS",
        "#2 c SELECT INBOX",
        "e NOOP",
        "f LOGOUT",
    ],
    "fts_search": [
        LOGIN,
        *(append(f"a{i}", "INBOX", body) for i, body in enumerate(FTS_MAIL)),
        "b SELECT INBOX",
        "c STORE 2 +FLAGS (\\Seen)",
        "d SEARCH BODY budget",
        "e SEARCH BODY project",
        "f SEARCH TEXT report",
        "g SEARCH SUBJECT report",
        "h SEARCH FROM alice",
        "i SEARCH TO bob",
        "j UID SEARCH UNSEEN BODY budget",
        "k SEARCH BODY \"project budget\"",
        "l SEARCH BODY budget NOT SEEN",
        "m SEARCH OR BODY lunch BODY kickoff",
        "n SEARCH NOT BODY project",
        "o SEARCH 2:4 TEXT wait",
        "p SEARCH BODY budg",
        "q SEARCH SUBJECT quarter",
        "r SEARCH BODY nosuchword",
        "s LOGOUT",
    ],
}
# Messages put into new/ before the session (examine cases).
NEW_MAIL = {"examine_new": 2, "examine_then_select": 2}


def mail_ids() -> tuple[int, int]:
    uid = gid = 10000 if os.geteuid() == 0 else os.getuid()
    return uid, (gid if os.geteuid() == 0 else os.getgid())


def deliver_new(tmp: Path, count: int) -> Path:
    """`count` messages straight into alice's new/ (as an MTA writing Maildir would)."""
    uid, gid = mail_ids()
    maildir = tmp / "home" / USERS[0] / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (maildir / "new" / f"{1700000000 + n}.M{n}P1.test").write_bytes(b"Subject: new %d\n\nhello\n" % n)
    for path in [tmp / "home" / USERS[0], maildir, *maildir.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
    return maildir


def record(names: list[str]) -> None:
    out: dict[str, list[list[str]]] = json.loads(GOLDENS.read_text()) if GOLDENS.exists() else {}
    for name in names or list(CASES):
        with tempfile.TemporaryDirectory(prefix="imapgold") as tmp:
            base = Path(tmp)
            base.chmod(0o755)
            conf = write_config(base, PORT, CASE_SETTINGS.get(name, ""))
            if name in NEW_MAIL:
                deliver_new(base, NEW_MAIL[name])
            subprocess.run(["dovecot", "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                pairs = run_case("127.0.0.1", PORT, CASES[name])
            finally:
                subprocess.run(["dovecot", "-c", str(conf), "stop"], check=False)
                time.sleep(0.5)
            out[name] = [[line, normalise(reply)] for line, reply in pairs]
            if name in NEW_MAIL:
                maildir = base / "home" / USERS[0] / "Maildir"
                out[name].append(["#new/", str(len(os.listdir(maildir / "new")))])
    GOLDENS.write_text(json.dumps({n: out[n] for n in CASES if n in out}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record(sys.argv[1:])
