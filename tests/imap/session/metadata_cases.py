"""IMAP METADATA (RFC 5464) sessions as real Dovecot 2.3.19 answered them
(goldens/metadata_sessions.json). Record again with
``python -m tests.imap.session.metadata_cases [CASE...]`` (starts real dovecot on a high port).

Dovecot lists the entries of a DEPTH request in its dict's hash-table order; we list them in
the dict file's order, so `normalise_metadata` sorts the entries of each untagged METADATA
before comparing (their values stay with their names).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .cases import LOGIN, normalise, run_case, write_config

GOLDENS = Path(__file__).with_name("goldens") / "metadata_sessions.json"
PORT = 31871

DICT = "mail_attribute_dict = file:%h/dovecot-attributes\n"
ON = "imap_metadata = yes\n" + DICT
SERVER = ON + "mail_server_admin = mailto:admin@example.test\nmail_server_comment = Hello server\n"

CASE_SETTINGS: dict[str, str] = {
    "capability_off": "",
    "capability_no_dict": "imap_metadata = yes\n",
    "capability_on": ON,
    "capability_explicit": ON + "imap_capability = +XFOO\n",
    "disabled": "imap_metadata = no\n" + DICT,
    "no_dict": "imap_metadata = yes\nmail_server_comment = Hello server\n",
    "disabled_internal": "imap_metadata = no\n" + DICT + "mail_server_comment = Hello server\n",
    "set_get": ON,
    "depth": ON,
    "server": SERVER,
    "server_writable": ON,
    "internal": SERVER,
    "errors": ON,
    "rename_delete": ON,
    "wildcard": ON,
    "garbage": ON,
    "names": ON,
}

# Real Dovecot lists the mailboxes of a wildcard in readdir order: cases use one match at most
# besides INBOX (which comes last).
CASES: dict[str, list[str]] = {
    **{name: ["a CAPABILITY", LOGIN, "b CAPABILITY", "c LOGOUT"]
       for name in ("capability_off", "capability_no_dict", "capability_on", "capability_explicit")},
    "disabled": [
        LOGIN,
        "b GETMETADATA INBOX /private/comment",
        'c SETMETADATA INBOX (/private/comment "x")',
        'd GETMETADATA "" /shared/admin',
        "e GETMETADATA",
        "f SETMETADATA x",
        "g GETMETADATA INBOX /bad",
        "g1 GETMETADATA nosuch /private/a",
        'g2 SETMETADATA nosuch (/private/a "1")',
        "g3 GETMETADATA (DEPTH 1) Sent /private",
        "h LOGOUT",
    ],
    "no_dict": [
        LOGIN,
        "b GETMETADATA INBOX /private/comment",
        'c SETMETADATA INBOX (/private/comment "hi")',
        'd GETMETADATA "" /shared/admin',
        'e SETMETADATA "" (/private/foo "pf")',
        'f GETMETADATA (DEPTH infinity) "" (/private /shared)',
        "g GETMETADATA Sent /private/specialuse",
        "h GETMETADATA (DEPTH 1) Sent /private",
        "i GETMETADATA (DEPTH 1) INBOX /private",
        "j GETMETADATA INBOX (/private/specialuse /private/x)",
        "j1 GETMETADATA INBOX (/private/x /private/specialuse)",
        'j2 SETMETADATA "" (/shared/admin "x")',
        'j3 SETMETADATA Sent (/private/specialuse NIL)',
        'j4 SETMETADATA INBOX (/private/vendor/vendor.dovecot/pvt/x "1")',
        "j5 GETMETADATA (DEPTH infinity) Sent (/private /shared)",
        "j6 GETMETADATA nosuch /private/x",
        "j7 GETMETADATA INBOX /private/vendor/vendor.dovecot/pvt/x",
        "j8 GETMETADATA (DEPTH 1) INBOX /private/x",
        'j9 GETMETADATA "" /private/x',
        'ja GETMETADATA "" /shared/comment',
        'jb GETMETADATA (DEPTH 1) "" /private/x',
        "jc GETMETADATA INBOX (/private/x /private/specialuse /private/y)",
        'jd GETMETADATA "" (/private/x /shared/comment)',
        "je GETMETADATA (DEPTH 1) INBOX (/private/x /private/specialuse)",
        "jf SETMETADATA INBOX ()",
        "k LOGOUT",
    ],
    "disabled_internal": [
        LOGIN,
        "b GETMETADATA Sent /private/specialuse",
        "c SETMETADATA Sent (/private/specialuse NIL)",
        'd GETMETADATA "" /shared/comment',
        'e SETMETADATA "" (/shared/admin "x")',
        "f GETMETADATA INBOX /private/vendor/vendor.dovecot/pvt/x",
        "g GETMETADATA (DEPTH 1) INBOX /private/x",
        "h GETMETADATA Sent (/private/x /private/specialuse /private/y)",
        'i SETMETADATA INBOX (/private/vendor/vendor.dovecot/pvt/x "1")',
        "j SETMETADATA INBOX ()",
        "k GETMETADATA INBOX ()",
        'l GETMETADATA (DEPTH infinity) "" /shared',
        "m GETMETADATA (DEPTH 1) Sent /private/x",
        "n GETMETADATA (DEPTH infinity) Sent /private",
        'o SETMETADATA Sent (/private/x "1")',
        "p LOGOUT",
    ],
    "set_get": [
        LOGIN,
        "b GETMETADATA INBOX /private/comment",
        'c SETMETADATA INBOX (/private/comment "hello" /shared/comment "world")',
        "d GETMETADATA INBOX (/private/comment /shared/comment /private/nosuch)",
        "e GETMETADATA INBOX /PRIVATE/Comment",
        'f SETMETADATA INBOX (/Private/Vendor/X "mixed")',
        "g GETMETADATA INBOX /private/vendor/x",
        "h SETMETADATA INBOX (/private/multi {5+}\r\na\r\nbc)",
        "i GETMETADATA INBOX /private/multi",
        'j SETMETADATA INBOX (/private/q "a\\"b\\\\c" /private/sp "x y")',
        "k GETMETADATA INBOX (/private/q /private/sp)",
        "l SETMETADATA INBOX (/private/comment NIL)",
        "m GETMETADATA INBOX (/private/comment /shared/comment)",
        'n SETMETADATA INBOX (/private/x "1" /private/x "2")',
        "o GETMETADATA INBOX /private/x",
        "p SETMETADATA INBOX ()",
        "q SETMETADATA INBOX (/private/bin ~{3+}\r\na\x00b)",
        "r GETMETADATA INBOX /private/bin",
        "s SETMETADATA INBOX (/private/ctl {3+}\r\na\x01b)",
        "t GETMETADATA INBOX /private/ctl",
        'u SETMETADATA INBOX (/private/empty "")',
        "v GETMETADATA INBOX /private/empty",
        "w SETMETADATA INBOX (/private/atom value)",
        'x SETMETADATA "INBOX" (/private/lit {3+}\r\nabc)',
        "y GETMETADATA (MAXSIZE 2) INBOX (/private/lit /private/x)",
        "z GETMETADATA (MAXSIZE 0) INBOX /private/x",
        "za GETMETADATA (MAXSIZE 4294967295) INBOX /private/x",
        "zb GETMETADATA INBOX (/private/x) extra",
        'zc GETMETADATA "INBOX" {10+}\r\n/private/x',
        "zd SELECT INBOX",
        'ze SETMETADATA INBOX (/private/sel "1")',
        "zf NOOP",
        "zg GETMETADATA INBOX /private/sel",
        "zz LOGOUT",
    ],
    "depth": [
        LOGIN,
        'b SETMETADATA INBOX (/private/a "1" /private/a/b "2" /private/a/b/c "3" /private/d "4" /shared/a "5")',
        "c GETMETADATA (DEPTH 0) INBOX /private/a",
        "d GETMETADATA (DEPTH 1) INBOX /private/a",
        "e GETMETADATA (DEPTH infinity) INBOX /private/a",
        "f GETMETADATA (DEPTH 1) INBOX /private",
        "g GETMETADATA (DEPTH infinity) INBOX /private",
        "h GETMETADATA (DEPTH infinity) INBOX (/private /shared)",
        "i GETMETADATA (DEPTH infinity MAXSIZE 0) INBOX /private",
        "j GETMETADATA (depth 1 maxsize 10) INBOX /private/a",
        "k GETMETADATA (DEPTH 1 DEPTH 0) INBOX /private/a",
        "l GETMETADATA (DEPTH infinity) INBOX /private/nosuch",
        "m GETMETADATA (DEPTH infinity) Sent /private",
        "n GETMETADATA (DEPTH 1) INBOX /Private/A",
        'o SETMETADATA INBOX (/private/vendor/vendor.dovecot/foo "v")',
        "p GETMETADATA (DEPTH infinity) INBOX /private/vendor",
        "q LOGOUT",
    ],
    "server": [
        LOGIN,
        'b GETMETADATA "" (/shared/admin /shared/comment /private/comment)',
        'c SETMETADATA "" (/shared/comment "srv")',
        'd SETMETADATA "" (/shared/admin "x")',
        'e SETMETADATA "" (/private/foo "pf" /shared/bar "sb")',
        'f GETMETADATA "" (/private/foo /shared/bar)',
        'g GETMETADATA (DEPTH infinity) "" (/private /shared)',
        'h GETMETADATA (DEPTH infinity) INBOX (/private /shared)',
        'i GETMETADATA INBOX /private/foo',
        'j SETMETADATA "" (/private/foo/sub "s")',
        'k GETMETADATA (DEPTH 1) "" /private/foo',
        'l GETMETADATA "" /shared/vendor/vendor.dovecot/pvt/server/admin',
        'm SETMETADATA "" (/private/foo NIL)',
        'n GETMETADATA "" /private/foo',
        "o LOGOUT",
    ],
    "server_writable": [
        LOGIN,
        'b GETMETADATA "" (/shared/admin /shared/comment)',
        'c SETMETADATA "" (/shared/comment "srv")',
        'd GETMETADATA "" /shared/comment',
        "e LOGOUT",
    ],
    "internal": [
        LOGIN,
        "b GETMETADATA Sent (/private/specialuse /shared/specialuse)",
        "c GETMETADATA INBOX /private/specialuse",
        'd SETMETADATA Sent (/private/specialuse "\\\\Junk")',
        "e SETMETADATA Sent (/private/specialuse NIL)",
        'f SETMETADATA INBOX (/private/specialuse "x")',
        'g SETMETADATA Sent (/private/a "1" /private/specialuse "2")',
        "h GETMETADATA Sent /private/a",
        'i SETMETADATA INBOX (/private/vendor/vendor.dovecot/pvt/foo "v")',
        'j SETMETADATA INBOX (/private/ok "1" /shared/vendor/vendor.dovecot/pvt/x "v")',
        "k GETMETADATA INBOX (/private/ok /private/vendor/vendor.dovecot/pvt/foo)",
        'l SETMETADATA Sent (/private/specialuse "x" /private/vendor/vendor.dovecot/pvt/y "v")',
        "m LOGOUT",
    ],
    "errors": [
        LOGIN,
        "b GETMETADATA",
        "c GETMETADATA INBOX",
        "d GETMETADATA INBOX ()",
        "e GETMETADATA INBOX /private/comment /shared/comment",
        "f GETMETADATA (DEPTH 2) INBOX /private",
        "g GETMETADATA (MAXSIZE x) INBOX /private",
        "h GETMETADATA (FOO) INBOX /private",
        "i GETMETADATA (DEPTH) INBOX /private",
        "j GETMETADATA INBOX (/private/x NIL)",
        "k GETMETADATA INBOX /private/x extra",
        "l GETMETADATA (MAXSIZE -1) INBOX /private/x",
        "m GETMETADATA (MAXSIZE 4294967296) INBOX /private/x",
        "n GETMETADATA () INBOX /private/x",
        "o GETMETADATA INBOX (/private/x (a))",
        "p GETMETADATA nosuch /private/comment",
        'q SETMETADATA nosuch (/private/comment "x")',
        "r SETMETADATA INBOX (/private/comment)",
        "s SETMETADATA INBOX",
        't SETMETADATA INBOX /private/comment "x"',
        't1 SETMETADATA INBOX (/foo "x")',
        't2 SETMETADATA INBOX (/private//x "x")',
        't3 SETMETADATA INBOX (/private/x/ "x")',
        't4 SETMETADATA INBOX (private/x "x")',
        't5 SETMETADATA INBOX (/private/a* "x")',
        't6 SETMETADATA INBOX (/private/a% "x")',
        't7 SETMETADATA INBOX (/private/x (a))',
        't8 SETMETADATA INBOX ((a) "x")',
        "t9 GETMETADATA INBOX /privatex",
        "u GETMETADATA INBOX /sharedstuff/x",
        'v SETMETADATA INBOX (/private/x "1"',
        "w GETMETADATA (DEPTH 1 INBOX /private",
        "x GETMETADATA INBOX /private/é",
        "y SETMETADATA INBOX (/private/x \"1\")extra",
        "z LOGOUT",
    ],
    "rename_delete": [
        LOGIN,
        "b CREATE Work",
        'c SETMETADATA Work (/private/comment "w" /shared/x "s")',
        "d RENAME Work Play",
        "e GETMETADATA (DEPTH infinity) Play (/private /shared)",
        "f CREATE Work",
        "g GETMETADATA (DEPTH infinity) Work (/private /shared)",
        "h DELETE Play",
        "i CREATE Play",
        "j GETMETADATA (DEPTH infinity) Play (/private /shared)",
        "k LOGOUT",
    ],
    "wildcard": [
        LOGIN,
        'b SETMETADATA INBOX (/private/comment "i")',
        "c CREATE INBOX2",
        'd SETMETADATA INBOX2 (/private/comment "j")',
        "e GETMETADATA (DEPTH infinity) IN* /private",
        "f GETMETADATA IN% /private/comment",
        "g LOGOUT",
    ],
    "names": [
        LOGIN,
        'b CREATE "&AOk-t&AOk-"',
        'c SETMETADATA "&AOk-t&AOk-" (/private/comment "café")',
        'd GETMETADATA "&AOk-t&AOk-" /private/comment',
        "e GETMETADATA (DEPTH infinity) &AOk-* /private",
        "f CREATE parent/child",
        'g SETMETADATA parent/child (/shared/c "1")',
        "h GETMETADATA (DEPTH 1) parent/child /shared",
        "i GETMETADATA parent /shared/c",
        "j GETMETADATA inbox /private/comment",
        'k SETMETADATA Sent (/private/a "1" /private/b "2")',
        "l GETMETADATA (DEPTH infinity) Sent /private",
        "m GETMETADATA ../x /private/a",
        "n GETMETADATA &Jjo /private/a",
        'o SETMETADATA Sent (/private/big {300+}\r\n' + "x" * 300 + ")",
        "p GETMETADATA (MAXSIZE 299) Sent (/private/big /private/a)",
        "q GETMETADATA (MAXSIZE 300) Sent /private/big",
        "r LOGOUT",
    ],
    "garbage": [
        LOGIN,
        'b GETMETADATA NIL%DEPTH)"',
        "c GETMETADATA INBOX)",
        'd GETMETADATA "',
        "e SETMETADATA INBOX (/private/a \"1\"))",
        "f SETMETADATA INBOX ((/private/a \"1\"))",
        "g GETMETADATA NIL /private/a",
        "h GETMETADATA (DEPTH infinity DEPTH) INBOX /private",
        "i GETMETADATA (MAXSIZE 10 DEPTH 1 FOO) INBOX /private",
        "j SETMETADATA INBOX (/private/a NIL /private/b)",
        "k SETMETADATA NIL (/private/a \"1\")",
        "l GETMETADATA INBOX (/shared/a/b/c/d/e/f/g/h)",
        "m GETMETADATA  INBOX /private/a",
        "n GETMETADATA INBOX /private/a ",
        "o SETMETADATA INBOX (/private/\x7f \"1\")",
        "p GETMETADATA INBOX (NIL)",
        "q LOGOUT",
    ],
}

# `/name {3}\r\nabc` or `/name NIL` inside `* METADATA mailbox (...)`.
_METADATA = re.compile(r"^(\* METADATA (?:\"\"|\S+) \()(.*?)\)(?=\r\n)", re.S | re.M)
_ENTRY = re.compile(r"(\S+) (?:NIL|\{(\d+)\}\r\n)")


def _sorted_entries(body: str) -> str:
    entries: list[str] = []
    pos = 0
    while pos < len(body):
        match = _ENTRY.match(body, pos)
        if match is None:
            return body  # not what we expected: compare it as it is
        end = match.end() + (int(match.group(2)) if match.group(2) else 0)
        entries.append(body[pos:end])
        pos = end + 1  # the space between entries
    return " ".join(sorted(entries))


def normalise_metadata(text: str) -> str:
    text = normalise(text)
    return _METADATA.sub(lambda m: m.group(1) + _sorted_entries(m.group(2)) + ")", text)


def record(names: list[str]) -> None:
    out: dict[str, list[list[str]]] = json.loads(GOLDENS.read_text()) if GOLDENS.exists() else {}
    for name in names or list(CASES):
        with tempfile.TemporaryDirectory(prefix="imapgold") as tmp:
            base = Path(tmp)
            base.chmod(0o755)
            conf = write_config(base, PORT, CASE_SETTINGS.get(name, ""))
            subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                pairs = run_case("127.0.0.1", PORT, CASES[name])
            finally:
                subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
                time.sleep(0.5)
            out[name] = [[line, normalise_metadata(reply)] for line, reply in pairs]
    GOLDENS.write_text(json.dumps({n: out[n] for n in CASES if n in out}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record(sys.argv[1:])
