"""imap_acl (RFC 4314) sessions as real Dovecot 2.3.19 answered them (goldens/imap_acl.json).

Each case is a session of alice (private namespace, ``acl = vfile``) replayed against both
servers; after the session the ``dovecot-acl`` files under her Maildir are added to the
transcript as ``#file <path>`` pairs, so SETACL/DELETEACL must write what real Dovecot
writes, line for line. Record again with ``python -m tests.plugins.imap_acl_cases [CASE...]``
(starts real dovecot on a high port).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.imap.session.cases import LOGIN, USERS, normalise, run_case, write_config

GOLDENS = Path(__file__).with_name("goldens") / "imap_acl.json"
PORT = 31993

ACL = """mail_plugins = acl
protocol imap {
  mail_plugins = acl imap_acl
}
plugin {
  acl = vfile%s
%s}
"""
GLOBAL_ACL = "Glob owner lra\nGlob user=bob@example.test lr\nRo owner lr\nPonly owner p\n"

CASE_SETTINGS: dict[str, str] = {
    "local": ACL % ("", ""),
    "global": ACL % (":@TMP@/global-acl", "  acl_anyone = allow\n  acl_groups = staff\n"),
    "select": ACL % ("", ""),
    "edge": ACL % ("", ""),
    "names": ACL % ("", ""),
    "disabled": "mail_plugins = acl\nprotocol imap {\n  mail_plugins = acl imap_acl\n}\n",
    "not_loaded": "mail_plugins = acl\nplugin {\n  acl = vfile\n}\n",
}
# Files written into the server's directory before it starts (name -> text).
CASE_FILES: dict[str, dict[str, str]] = {"global": {"global-acl": GLOBAL_ACL}}

CASES: dict[str, list[str]] = {
    "local": [
        LOGIN,
        "b CAPABILITY",
        "c CREATE Work",
        "d CREATE Work/Sub",
        "e GETACL Work",
        "f MYRIGHTS Work",
        "g LISTRIGHTS Work bob@example.test",
        "h SETACL Work bob@example.test lr",
        "i SETACL Work bob@example.test +wi",
        "j SETACL Work -bob@example.test w",
        "k SETACL Work $staff lrs",
        "l SETACL Work !$admins l",
        "m SETACL Work anyone lr",
        "n SETACL Work authenticated l",
        "o SETACL Work #owner l",
        "p SETACL Work bob@example.test lrz",
        "q SETACL Work carol@example.test cd",
        'r SETACL Work "dave smith" lr',
        "s GETACL Work",
        "t SETACL Work carol@example.test -c",
        "u SETACL Work -bob@example.test +k",
        "v GETACL Work",
        "w DELETEACL Work -bob@example.test",
        "x DELETEACL Work $staff",
        "y DELETEACL Work nobody",
        "z GETACL Work",
        "aa SETACL Work alice@example.test lr",
        "ab GETACL Work",
        "ac MYRIGHTS Work",
        "ad SETACL Work owner lrwstipekxa",
        "ae GETACL Work",
        "af DELETEACL Work alice@example.test",
        "ag GETACL Work",
        "ah SETACL Work owner -a",
        "ai SETACL Work owner -lr",
        "aj GETACL Work",
        "ak MYRIGHTS Work",
        "al GETACL nosuch",
        "am MYRIGHTS nosuch",
        "an SETACL nosuch bob lr",
        "ao DELETEACL nosuch bob",
        "ap LISTRIGHTS nosuch bob",
        'aq DELETEACL Work ""',
        'ar SETACL Work "" lr',
        "as GETACL",
        "at SETACL Work bob",
        "au MYRIGHTS",
        "av LISTRIGHTS Work",
        "aw SETACL Work/Sub -owner a",
        "ax GETACL Work/Sub",
        "ay MYRIGHTS Work/Sub",
        "az LISTRIGHTS Work/Sub bob",
        "ba SETACL Work/Sub bob lr",
        "bb DELETEACL Work/Sub -owner",
        "bc CREATE Hidden",
        "bd SETACL Hidden owner rwa",
        "be MYRIGHTS Hidden",
        'bf LIST "" *',
        "bg STATUS Hidden (MESSAGES)",
        "bh SELECT Hidden",
        "bi SETACL Hidden owner lrwstipekxa",
        "bj SELECT Hidden",
        "bk GETACL Hidden",
        "bl MYRIGHTS INBOX",
        "bm GETACL INBOX",
        "bn SETACL INBOX bob@example.test lrswipkxtecda",
        "bo GETACL INBOX",
        'bp GETACL "INBOX"',
        "bq getacl inbox",
        "br LOGOUT",
    ],
    "global": [
        LOGIN,
        "b CREATE Glob",
        "c CREATE Ro",
        "d GETACL Glob",
        "e MYRIGHTS Glob",
        "f SETACL Glob bob@example.test lrw",
        "g GETACL Glob",
        "h SETACL Glob #owner l",
        "i DELETEACL Glob #bob@example.test",
        "j DELETEACL Glob bob@example.test",
        "k SETACL Glob anyone lr",
        "l SETACL Glob authenticated +i",
        "m GETACL Glob",
        "n GETACL Ro",
        "o MYRIGHTS Ro",
        "p SETACL Ro owner lra",
        "q LISTRIGHTS Ro bob",
        "r SETACL INBOX $staff lr",
        "s GETACL INBOX",
        "sa CREATE Ponly",
        "sb MYRIGHTS Ponly",
        "sc GETACL Ponly",
        "sd SETACL Ponly bob l",
        "se STATUS Ponly (MESSAGES)",
        "t LOGOUT",
    ],
    "edge": [
        LOGIN,
        "b CREATE E",
        "c SETACL E bob lr",
        'd SETACL E bob ""',
        "e GETACL E",
        "f SETACL E bob +",
        "g SETACL E bob -",
        "h GETACL E",
        'i SETACL E -bob ""',
        "j SETACL E -bob +lr",
        "k SETACL E -bob l",
        "l GETACL E",
        "m SETACL E bob +l",
        "n DELETEACL E bob",
        "o GETACL E",
        "p DELETEACL E -bob",
        "q GETACL E",
        'r SETACL E "x\\"y" lr',
        's SETACL E "a\\\\b" l',
        "t GETACL E",
        "u SETACL E owner +l",
        "v GETACL E",
        "w SETACL E bob lr extra",
        "x GETACL E extra",
        "y SETACL E $ lr",
        "z SETACL E !$ l",
        "za GETACL E",
        "zb SETACL E {3+}\r\nbob {2+}\r\nlr",
        "zc GETACL {1+}\r\nE",
        "zd MYRIGHTS E/nosuch",
        "ze SETACL E/nosuch bob l",
        "zf SETACL E bob lr:read",
        "zh SETACL E {3+}\r\na\tb lr",
        "zi DELETEACL E {3+}\r\na\x01b",
        "zj SETACL E a=b lr",
        "zk SETACL E {4+}\r\na\u00e9b lr",
        "zl GETACL E",
        "zm SETACL E {3+}\r\n#\nb lr",
        "zg LOGOUT",
    ],
    "names": [
        LOGIN,
        "b GETACL ../x",
        "c MYRIGHTS ../x",
        'd GETACL ""',
        'e MYRIGHTS ""',
        'f SETACL "" bob l',
        'g GETACL "a//b"',
        'h MYRIGHTS "&Jjo-"',
        'i MYRIGHTS "&&"',
        "j CREATE F",
        "k GETACL F/",
        "l MYRIGHTS ~x",
        'm GETACL "&&"',
        "n CREATE &Jjo-",
        "o SETACL &Jjo- bob lr",
        "p GETACL &Jjo-",
        "q LOGOUT",
    ],
    "disabled": [
        LOGIN,
        "b GETACL INBOX",
        "c MYRIGHTS INBOX",
        "d LISTRIGHTS INBOX bob",
        "e SETACL INBOX bob lr",
        "f DELETEACL INBOX bob",
        "g SETACL INBOX #x lr",
        "h LOGOUT",
    ],
    "select": [
        LOGIN,
        "b CREATE R1",
        "c SETACL R1 owner lra",
        "d CREATE R2",
        "e SETACL R2 owner lrsa",
        "f CREATE R3",
        "g SETACL R3 owner lrwa",
        "h CREATE R4",
        "i SETACL R4 owner lrtea",
        "j SELECT R1",
        "k SELECT R2",
        "l EXAMINE R2",
        "m SELECT R3",
        "n SELECT R4",
        "o CREATE R5",
        "p SETACL R5 owner la",
        "q STATUS R5 (MESSAGES)",
        "r SELECT R5",
        "s MYRIGHTS R5",
        "t GETACL R5",
        "u LOGOUT",
    ],
    "not_loaded": [
        LOGIN,
        "b CAPABILITY",
        "c GETACL INBOX",
        "d MYRIGHTS INBOX",
        "e SETACL INBOX bob lr",
        "f LOGOUT",
    ],
}


def prepare(tmp: Path, name: str) -> None:
    for filename, text in CASE_FILES.get(name, {}).items():
        (tmp / filename).write_text(text)


def acl_files(tmp: Path) -> list[tuple[str, str]]:
    """``("#file <path under the Maildir>", contents)`` for every ACL file, sorted."""
    maildir = tmp / "home" / USERS[0] / "Maildir"
    found = sorted(p for p in maildir.rglob("dovecot-acl*") if p.is_file() and not p.name.endswith(".lock"))
    # dovecot-acl-list lines start with a time stamp: kept out of the transcript.
    return [(f"#file {p.relative_to(maildir)}", re.sub(r"(?m)^\d+ ", "T ", p.read_text())) for p in found]


def record(names: list[str]) -> None:
    out: dict[str, list[list[str]]] = json.loads(GOLDENS.read_text()) if GOLDENS.exists() else {}
    for name in names or list(CASES):
        with tempfile.TemporaryDirectory(prefix="aclgold") as tmpdir:
            tmp = Path(tmpdir)
            tmp.chmod(0o755)
            conf = write_config(tmp, PORT, CASE_SETTINGS.get(name, ""))
            prepare(tmp, name)
            subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                pairs = run_case("127.0.0.1", PORT, CASES[name])
            finally:
                subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
                time.sleep(0.5)
            out[name] = [[line, normalise(reply)] for line, reply in pairs]
            out[name] += [list(pair) for pair in acl_files(tmp)]
    GOLDENS.write_text(json.dumps({n: out[n] for n in CASES if n in out}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record(sys.argv[1:])
