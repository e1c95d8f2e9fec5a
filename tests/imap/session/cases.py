"""The IMAP session transcripts recorded from real Dovecot 2.3.19 and replayed against ours.

Each case is a list of client lines sent one at a time, each followed by reading until its
tagged reply (or, for the lines listed as `wait_for`, until that text). The same config
template drives both servers, so capability strings and replies must agree byte for byte
after `normalise()`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PASSWORD = "secret"
USERS = ("alice@example.test", "bob@example.test")

CONFIG = """\
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_greeting = Dovecot ready.
passdb {{
  driver = passwd-file
  args = {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={tmp}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{extra}
"""


def write_config(tmp: Path, port: int, extra: str = "") -> Path:
    """The config, passwd file and home root under `tmp`; returns the config path."""
    uid = gid = 10000 if os.geteuid() == 0 else os.getuid()
    if os.geteuid() != 0:
        gid = os.getgid()
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state"):
        (tmp / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        os.chown(tmp / "home", uid, gid)
    (tmp / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in USERS))
    if "ssl = yes" in extra:
        extra += _certificate(tmp)
    for name, text in CASE_FILES.items():  # files a case's settings name as @TMP@/<name>
        if f"@TMP@/{name}" in extra:
            (tmp / name).write_text(text)
    extra = extra.replace("@TMP@", str(tmp))
    conf = tmp / "dovecot.conf"
    conf.write_text(CONFIG.format(tmp=tmp, port=port, uid=uid, gid=gid, extra=extra))
    return conf


def append(tag: str, mailbox: str, body: bytes, middle: str = "") -> str:
    """One APPEND with its message as a LITERAL+ on the same chunk."""
    return f"{tag} APPEND {mailbox} {middle}{{{len(body)}+}}\r\n" + body.decode()


def _certificate(tmp: Path) -> str:
    """A throw-away self-signed certificate for STARTTLS cases."""
    import subprocess

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem"), "-subj", "/CN=localhost", "-days", "2"],
                   check=True, capture_output=True, timeout=60)
    return f"ssl_cert = <{tmp}/cert.pem\nssl_key = <{tmp}/key.pem\n"


LOGIN = f"a LOGIN alice@example.test {PASSWORD}"

# name -> client lines. "#NAME" starts a second connection's line ("#2 ..."), used for IDLE cases.
CASES: dict[str, list[str]] = {
    "prelogin": [
        "c1 CAPABILITY",
        "c2 NOOP",
        'c3 ID ("name" "test" "version" "1")',
        "c4 ID NIL",
        "c5 FOO",
        "c6 SELECT INBOX",
        "c7 ENABLE CONDSTORE",
        "c8 LOGIN alice@example.test wrong",
        "c9 AUTHENTICATE FOO",
        "c10 LOGOUT",
    ],
    "login_plain_ir": [
        "a AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=",
        "b CAPABILITY",
        "c LOGOUT",
    ],
    "login_then_basic": [
        LOGIN,
        "b NOOP",
        "c CHECK",
        "d LOGIN x y",
        "e FOO",
        "f NAMESPACE",
        "g ENABLE CONDSTORE QRESYNC UTF8=ACCEPT FOO",
        "h ENABLE CONDSTORE",
        "i LOGOUT",
    ],
    "mailboxes": [
        LOGIN,
        'b LIST "" *',
        "c CREATE Work",
        "d CREATE Work/Sub",
        "e CREATE Work",
        "f CREATE INBOX",
        'g LIST "" %',
        'h LIST "" Work/%',
        "i LSUB \"\" *",
        "j SUBSCRIBE Work",
        "k LSUB \"\" *",
        "l UNSUBSCRIBE Work",
        "m RENAME Work Play",
        'n LIST "" *',
        "o DELETE Play",
        "p DELETE Play/Sub",
        "q DELETE Play",
        "r DELETE Nope",
        "s RENAME Nope Other",
        "t STATUS INBOX (MESSAGES RECENT UIDNEXT UNSEEN HIGHESTMODSEQ SIZE)",
        "u STATUS Nope (MESSAGES)",
        'v LIST (SPECIAL-USE) "" *',
        'w LIST "" * RETURN (SPECIAL-USE)',
        'x LIST (SUBSCRIBED) "" *',
        'y LIST "" % RETURN (CHILDREN)',
        'z LIST "" ""',
        "aa CREATE &ZeVnLIqe-",
        'ab LIST "" &ZeVnLIqe-',
        "ac DELETE &ZeVnLIqe-",
        "ad LOGOUT",
    ],
    "messages": [
        LOGIN,
        append("b", "INBOX", b"Subject: one\r\n\r\nfirst message\r\n", "(\\Seen) "),
        append("c", "INBOX", b"Subject: two\r\n\r\nsecond message\r\n", '"5-Mar-2021 10:00:00 +0100" '),
        "d SELECT INBOX",
        "e FETCH 1:* (UID FLAGS RFC822.SIZE)",
        "f STORE 1 +FLAGS (\\Flagged)",
        "g STORE 2 FLAGS.SILENT (\\Deleted $Work)",
        "h FETCH 1:* FLAGS",
        "i UID STORE 1:* -FLAGS (\\Flagged)",
        "j COPY 1 Trash",
        "k EXPUNGE",
        "l STATUS Trash (MESSAGES UIDNEXT)",
        "m FETCH 5 FLAGS",
        "n STORE 1 +FLAGS (\\Recent)",
        "o UID FETCH 1:4294967295 UID",
        "p FETCH 1:4294967295 UID",
        "q EXAMINE INBOX",
        "r STORE 1 +FLAGS (\\Seen)",
        "s CLOSE",
        "t FETCH 1 UID",
        "u LOGOUT",
    ],
    "condstore": [
        LOGIN,
        append("b", "INBOX", b"Subject: x\r\n\r\nbody\r\n"),
        "c SELECT INBOX (CONDSTORE)",
        "d FETCH 1 (FLAGS MODSEQ)",
        "e STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)",
        "f STORE 1 +FLAGS (\\Answered)",
        "g UID MOVE 1 Trash",
        "h UNSELECT",
        "i LOGOUT",
    ],
}

_TIMING = re.compile(r" \(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)")
_UIDVALIDITY = re.compile(r"(UIDVALIDITY|COPYUID|APPENDUID) \d+")


def normalise(text: str) -> str:
    """Timing and UIDVALIDITY values vary per run; everything else must match."""
    text = _TIMING.sub("", text)
    text = _UIDVALIDITY.sub(lambda m: m.group(1) + " V", text)
    return text


def run_case(host: str, port: int, lines: list[str], timeout: float = 10.0) -> list[tuple[str, str]]:
    """Send each line, read until its tagged reply; returns (line, reply text) pairs.

    The first pair is ("", greeting). A line "#2 cmd" goes to a second connection (opened, and
    its greeting read, on first use); "@1 WORD" reads connection 1 until a line holding WORD
    arrives (IDLE pushes). A BYE on connection 1 ends the case.
    """
    conns: dict[str, _Conn] = {}

    def conn(name: str) -> _Conn:
        if name not in conns:
            conns[name] = _Conn(host, port, timeout)
        return conns[name]

    out = [("", conn("1").read_until(lambda ls: True))]
    try:
        for line in lines:
            name = "1"
            text = line
            if line.startswith("#"):
                name, text = line[1:].split(" ", 1)
                if name not in conns:
                    conn(name).read_until(lambda ls: True)
            if line.startswith("@"):
                name, word = line[1:].split(" ", 1)
                wanted = word.encode()
                out.append((line, conn(name).read_until(lambda ls, w=wanted: w in ls[-1])))
                continue
            reply = conn(name).command(text)
            if reply is None:
                break
            out.append((line, reply))
            if "* BYE" in reply and name == "1":
                break
    finally:
        for c in conns.values():
            c.sock.close()
    return out


class _Conn:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        import socket

        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.current = b""  # the tag whose command waits for a continuation response
        self.uidvalidity = ""  # the last UIDVALIDITY seen: lines may say $UIDVALIDITY

    def read_until(self, done) -> str:  # type: ignore[no-untyped-def]
        while True:
            lines_ = self.buf.split(b"\r\n")
            if lines_[:-1] and done(lines_[:-1]):
                self.buf = lines_[-1]
                return b"\r\n".join(lines_[:-1]).decode("utf-8", "replace") + "\r\n"
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                rest = self.buf.decode("utf-8", "replace")
                self.buf = b""
                return rest
            self.buf += chunk

    def command(self, line: str) -> str | None:
        data = line.replace("$UIDVALIDITY", self.uidvalidity).encode()
        tag = self.current if self.current else data.split(b" ", 1)[0]
        try:
            self.sock.sendall(data + b"\r\n")
        except OSError:
            return None
        reply = self.read_until(
            lambda ls: ls[-1].startswith(tag + b" ") or ls[-1].startswith(b"* BYE") or ls[-1].startswith(b"+")
        )
        last = reply.rstrip("\r\n").rsplit("\r\n", 1)[-1]
        self.current = tag if last.startswith("+") else b""
        found = re.search(r"\[UIDVALIDITY (\d+)\]", reply)
        if found:
            self.uidvalidity = found.group(1)
        return reply


# Cases run with extra settings appended to the config.
CASE_SETTINGS: dict[str, str] = {
    "cap_plus": "imap_capability = +XFOO XBAR\n",
    "cap_explicit": "imap_capability = IMAP4rev1 IDLE\n",
    "cap_no_listindex": "mailbox_list_index = no\nimap_literal_minus = yes\n",
    "plaintext_disabled": "disable_plaintext_auth = yes\n",
    "two_sessions": "mailbox_idle_check_interval = 1 secs\n",
    "starttls": "ssl = yes\n",
}
for _name in ("cap_plus", "cap_explicit", "cap_no_listindex", "plaintext_disabled"):
    CASES[_name] = ["a CAPABILITY", LOGIN, "b CAPABILITY", "c LOGOUT"]

CASES["bad_prelogin"] = [f"x{i} FOO" for i in range(1, 6)]
CASES["bad_postlogin"] = [LOGIN] + [f"x{i} FOO" for i in range(1, 23)]
CASES["auth_steps"] = [
    "a AUTHENTICATE PLAIN",
    "*",
    "b AUTHENTICATE PLAIN",
    "!!notbase64",
    "c AUTHENTICATE LOGIN",
    "YWxpY2VAZXhhbXBsZS50ZXN0",
    "c2VjcmV0",
    "d SELECT INBOX",
    "e LOGOUT",
]
CASES["idle_and_noop"] = [
    LOGIN,
    "b SELECT INBOX",
    "c IDLE",
    "DONE",
    "d NOOP",
    "e FETCH 1:* FLAGS",
    "f LOGOUT",
]

MULTIPART = (
    b"From: Alice <alice@example.test>\r\nTo: bob@example.test, \"Carol C\" <carol@example.test>\r\n"
    b"Subject: =?utf-8?q?h=C3=A9llo?= world\r\nDate: Fri, 5 Mar 2021 10:00:00 +0100\r\n"
    b"Message-ID: <m1@example.test>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"caf=C3=A9 and more text\r\n--b1\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\n"
    b"AAECAwQ=\r\n--b1--\r\n"
)
SIMPLE = b"From: bob@example.test\r\nSubject: plain\r\nDate: Sat, 6 Mar 2021 11:00:00 +0000\r\n\r\nhello\r\n"

CASES["fetch_items"] = [
    LOGIN,
    append("b", "INBOX", MULTIPART, '"5-Mar-2021 10:00:00 +0100" '),
    append("c", "INBOX", SIMPLE, '(\\Flagged $Label1) "6-Mar-2021 11:00:00 +0000" '),
    "d SELECT INBOX",
    "e FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)",
    "f FETCH 1 BODYSTRUCTURE",
    "g FETCH 1:2 BODY",
    "h FETCH 2 BODY.PEEK[]",
    "i FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[1] BODY.PEEK[2.MIME])",
    "j FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[2] BODY.PEEK[TEXT]<0.20>)",
    "k FETCH 2 (PREVIEW RFC822.HEADER)",
    "l FETCH 2 BODY[TEXT]",
    "m FETCH 2 FLAGS",
    "n FETCH 1 (RFC822.TEXT)",
    "o UID FETCH 2 (FLAGS) (CHANGEDSINCE 1)",
    "p FETCH 1 (BODY[3])",
    "q FETCH 1 FAST",
    "r FETCH 1 (BODY.PEEK[1.2] BODY.PEEK[HEADER.FIELDS.NOT (Subject Date From To Message-ID MIME-Version)])",
    "s LOGOUT",
]
CASES["search"] = [
    LOGIN,
    append("b", "INBOX", MULTIPART, '"5-Mar-2021 10:00:00 +0100" '),
    append("c", "INBOX", SIMPLE, '(\\Flagged $Label1) "6-Mar-2021 11:00:00 +0000" '),
    append("d", "INBOX", b"Subject: third\r\n\r\nbody text here\r\n", "(\\Seen) "),
    "e SELECT INBOX",
    "f SEARCH ALL",
    "g SEARCH FLAGGED",
    "h UID SEARCH UNSEEN",
    "i SEARCH SUBJECT plain",
    "j SEARCH OR FROM alice KEYWORD $Label1",
    "k SEARCH RETURN (MIN MAX COUNT) ALL",
    "l UID SEARCH RETURN (ALL) NOT SEEN",
    "m SEARCH RETURN () 2:3",
    "n SEARCH BODY caf",
    "o SEARCH CHARSET FOO ALL",
    "p SEARCH MODSEQ 1",
    "q SEARCH RETURN (SAVE) FLAGGED",
    "r FETCH $ UID",
    "s SEARCH TEXT \"body text\"",
    "t SEARCH SINCE 1-Jan-2000 LARGER 10",
    "u SEARCH FOO",
    "v LOGOUT",
]
CASES["qresync"] = [
    LOGIN,
    "b ENABLE QRESYNC",
    append("c", "INBOX", SIMPLE),
    append("d", "INBOX", SIMPLE),
    append("e", "INBOX", SIMPLE),
    "f SELECT INBOX",
    "g STORE 2 +FLAGS (\\Deleted)",
    "h EXPUNGE",
    "i STORE 1 +FLAGS (\\Seen)",
    "j UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)",
    "k UNSELECT",
    "l SELECT INBOX (QRESYNC (V 1))",
    "m LOGOUT",
]
CASES["two_sessions"] = [
    LOGIN,
    "b SELECT INBOX",
    "#2 a LOGIN alice@example.test secret",
    append("#2 b", "INBOX", SIMPLE),
    "c NOOP",
    "#2 c SELECT INBOX",
    "#2 d STORE 1 +FLAGS (\\Answered)",
    "d NOOP",
    "#2 e STORE 1 +FLAGS (\\Deleted)",
    "#2 f EXPUNGE",
    "e FETCH 1 FLAGS",
    "f NOOP",
    "g IDLE",
    append("#2 g", "INBOX", SIMPLE),
    "@1 EXISTS",
    "DONE",
    "h LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))",
    "i STATUS INBOX (MESSAGES)",
    "j LOGOUT",
]
CASES["multiappend"] = [
    LOGIN,
    "b CREATE Box",
    "c APPEND Box {5+}\r\nabc\r\n {5+}\r\ndef\r\n",
    "d APPEND Nope {5+}\r\nabc\r\n",
    "e SELECT Box",
    "f COPY 1:2 Nope",
    "g COPY 1:2 INBOX",
    "h UID COPY 2 INBOX",
    "i MOVE 1 INBOX",
    "j STATUS INBOX (MESSAGES RECENT UNSEEN)",
    "k STATUS Box (MESSAGES)",
    "l LOGOUT",
]

THREADED = [
    b"Message-ID: <t1@x>\r\nSubject: topic\r\nFrom: Zed <z@example.test>\r\nDate: Mon, 1 Mar 2021 10:00:00 +0000\r\n\r\na\r\n",
    b"Message-ID: <t2@x>\r\nIn-Reply-To: <t1@x>\r\nReferences: <t1@x>\r\nSubject: Re: topic\r\n"
    b"From: Amy <a@example.test>\r\nDate: Tue, 2 Mar 2021 10:00:00 +0000\r\n\r\nbb\r\n",
    b"Message-ID: <t3@x>\r\nSubject: another\r\nFrom: Bob <b@example.test>\r\nDate: Sun, 28 Feb 2021 10:00:00 +0000\r\n\r\nccc\r\n",
    b"Message-ID: <t4@x>\r\nReferences: <t1@x> <t2@x>\r\nSubject: Re: Re: topic\r\n"
    b"From: Amy <a@example.test>\r\nDate: Wed, 3 Mar 2021 10:00:00 +0000\r\n\r\ndddd\r\n",
]
CASES["sort_thread"] = [
    LOGIN,
    *(append(f"a{i}", "INBOX", body) for i, body in enumerate(THREADED)),
    "b SELECT INBOX",
    "c SORT (DATE) UTF-8 ALL",
    "d SORT (REVERSE SIZE) US-ASCII ALL",
    "e UID SORT (SUBJECT FROM) UTF-8 ALL",
    "f SORT (SIZE) UTF-8 NOT FROM amy",
    "g SORT RETURN (MIN MAX COUNT ALL) (FROM) UTF-8 ALL",
    "h SORT (DISPLAYFROM) UTF-8 ALL",
    "i THREAD REFERENCES UTF-8 ALL",
    "j UID THREAD ORDEREDSUBJECT UTF-8 ALL",
    "k THREAD REFS UTF-8 ALL",
    "l THREAD FOO UTF-8 ALL",
    "m SORT (FOO) UTF-8 ALL",
    "n SORT (DATE) BOGUS-CHARSET ALL",
    "o LOGOUT",
]
CASES["bad_input_postlogin"] = [
    LOGIN,
    "b SELECT INBOX",
    "c FETCH",
    "d FETCH 1:* (FLAGS",
    "e STORE 1 +FLAGS",
    "f COPY 1",
    "g \"quoted\" NOOP",
    "h UID FOO 1",
    "i SELECT",
    "j LIST",
    "k CREATE \"\"",
    "l RENAME INBOX Foo",
    "m DELETE INBOX",
    "n STATUS INBOX (FOO)",
    "o APPEND INBOX (\\Bogus) {3+}\r\nabc",
    "p EXAMINE Nope",
    "q UID EXPUNGE 1:*",
    "r CLOSE",
    "s UNSELECT",
    "t IDLE",
    "NOTDONE",
    "u LOGOUT",
]

CASES["starttls"] = ["a CAPABILITY", "b NOOP", "c STARTTLS"]

CASES["more_mailboxes"] = [
    LOGIN,
    'b CREATE "My Folder"',
    "c CREATE Work/",
    "d CREATE Work/Deep/Er",
    "e SUBSCRIBE Ghost",
    'f LIST "" *',
    'g LIST (SUBSCRIBED) "" *',
    'h LIST (SUBSCRIBED) "" * RETURN (CHILDREN)',
    'i LIST "" (INBOX Drafts)',
    'j LIST "Work/" %',
    'k LIST "" inbox',
    'l LSUB "" %',
    'm LIST "" Work/%',
    "n STATUS Work (MESSAGES)",
    "o RENAME Work Jobs",
    'p LIST "" Jobs*',
    "q RENAME Jobs Drafts",
    'r SELECT "My Folder"',
    'r2 DELETE "My Folder"',
    "s NOOP",
    "t CREATE Foo/../Bar",
    "u LIST \"\" %/%",
    'v LIST "" * RETURN (SUBSCRIBED)',
    "w UNSUBSCRIBE Ghost",
    "x LOGOUT",
]
CASES["more_messages"] = [
    LOGIN,
    append("b", "INBOX", SIMPLE, "($Junk NonJunk) "),
    append("c", "INBOX", SIMPLE, "(\\Draft) "),
    append("d", "INBOX", SIMPLE),
    "e SELECT INBOX (CONDSTORE)",
    "f STORE 1:2 FLAGS (\\Seen $Junk)",
    "g STORE 3 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)",
    "h UID STORE 1,3 +FLAGS.SILENT (\\Deleted)",
    "i UID EXPUNGE 3",
    "j CHECK",
    "k COPY 1:* INBOX",
    "l FETCH 1:* (FLAGS)",
    "m UID SEARCH ALL",
    "n EXAMINE INBOX",
    "o EXPUNGE",
    "p STORE 1 +FLAGS (x)",
    "q CLOSE",
    "r SELECT INBOX",
    "s UID FETCH 2:* (UID)",
    "t FETCH * UID",
    "u LOGOUT",
]
CASE_SETTINGS["id_settings"] = 'imap_id_send = name * version * "support-url" "https://x.test/" os NIL\nimap_id_log = *\n'
CASES["id_settings"] = ['a ID ("name" "cli" "version" NIL)', LOGIN, 'b ID NIL', "c LOGOUT"]

# Connections whose log lines are compared with real Dovecot's (one after the other).
LOG_SETTINGS = "imap_id_log = *\n"
LOG_CASES = [
    ['x ID ("name" "cli" "version" "1")', LOGIN, "b SELECT INBOX", "c LOGOUT"],
    ["a LOGIN alice@example.test bad", "b LOGOUT"],
    ["a NOOP"],
    [LOGIN],
    [LOGIN, "b NOOP"],
]
_LOG_VOLATILE = [
    (re.compile(r"session=<[^>]*>"), "session=<S>"),
    (re.compile(r"<\d+><[^>]*>"), "<PID><S>"),
    (re.compile(r"mpid=\d+"), "mpid=PID"),
    (re.compile(r"\b(in|out)=\d+"), r"\1=N"),
    (re.compile(r"in \d+ secs"), "in N secs"),
    (re.compile(r"finished \d+\.\d+ secs ago"), "finished N secs ago"),
]


def normalise_log(line: str) -> str:
    """A log line without the date and the values that change from run to run."""
    for pattern, replacement in _LOG_VOLATILE:
        line = pattern.sub(replacement, line)
    return line.replace(": Info: ", ": ", 1)

CASES["qresync_select"] = [
    LOGIN,
    "b ENABLE QRESYNC",
    append("c", "INBOX", SIMPLE),
    append("d", "INBOX", SIMPLE),
    append("e", "INBOX", SIMPLE),
    append("f", "INBOX", SIMPLE),
    "g SELECT INBOX",
    "h STORE 1 +FLAGS (\\Seen)",
    "i STORE 3 +FLAGS (\\Deleted)",
    "j EXPUNGE",
    "k UNSELECT",
    "l SELECT INBOX (QRESYNC ($UIDVALIDITY 5))",
    "m UNSELECT",
    "n SELECT INBOX (QRESYNC ($UIDVALIDITY 1 1:10))",
    "o UNSELECT",
    "p EXAMINE INBOX (QRESYNC (1 1))",
    "q SELECT INBOX (CONDSTORE)",
    "r FETCH 1:* (UID) (CHANGEDSINCE 6)",
    "s LOGOUT",
]
CASE_SETTINGS["userip_limit"] = "mail_max_userip_connections = 1\n"
CASES["userip_limit"] = [LOGIN, "#2 a LOGIN alice@example.test secret", "#2 b NOOP", "b NOOP", "c LOGOUT"]

CASES["expunge_many"] = [
    LOGIN,
    *(append(f"a{i}", "INBOX", SIMPLE) for i in range(8)),
    "b SELECT INBOX",
    "c STORE 2:3,5 +FLAGS.SILENT (\\Deleted)",
    "d EXPUNGE",
    "#2 a LOGIN alice@example.test secret",
    "#2 b SELECT INBOX",
    "#2 c STORE 1,4:5 +FLAGS.SILENT (\\Deleted)",
    "#2 d EXPUNGE",
    "e FETCH 1:* UID",
    "f UID FETCH 1:* FLAGS",
    "g NOOP",
    "h UID MOVE 7:8 Trash",
    "i STATUS Trash (MESSAGES UIDNEXT)",
    "j LOGOUT",
]

CASES["misc"] = [
    LOGIN,
    "b APPEND INBOX ~{23+}\r\nSubject: bin\r\n\r\nab\x00cd\r\n",
    append("c", "INBOX", MULTIPART),
    "d SELECT INBOX",
    "e FETCH 1 (BODY.PEEK[] BINARY.PEEK[] BINARY.SIZE[])",
    "f FETCH 2 (BINARY.PEEK[2] BINARY.PEEK[1]<2.4>)",
    "g UID FETCH 99 FLAGS",
    "h UID STORE 99 +FLAGS (\\Seen)",
    "i UID SEARCH UID 99",
    "j FETCH 1 (SAVEDATE X-SAVEDATE)" if False else "j NOOP",
    'k LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
    "l CREATE Parent/Child",
    "m SUBSCRIBE Parent/Child",
    'n LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
    'o LSUB "" %',
    "p SELECT Parent",
    "q STATUS Parent (MESSAGES)",
    "r LOGOUT",
]

CASES["misc2"] = [
    LOGIN,
    "b STATUS &ZeVnLIqe- (MESSAGES)",
    "c CREATE Work/Sub",
    "c2 CREATE Work",
    append("d", "Work", SIMPLE),
    "e SELECT Work",
    "f RENAME Work Play",
    "g FETCH 1 (UID FLAGS)",
    "h NOOP",
    "i STATUS Play (MESSAGES)",
    "j DELETE Play",
    'k LIST "" *',
    "l SELECT Play/Sub",
    "m UNSELECT",
    "n CREATE INBOX/Child",
    "o DELETE INBOX/Child",
    "p RENAME Play/Sub INBOX/Moved",
    'q LIST "" INBOX*',
    "r LOGOUT",
]

CASES["catenate"] = [
    LOGIN,
    append("b", "INBOX", MULTIPART),
    "c SELECT INBOX",
    'd APPEND INBOX CATENATE (URL "/INBOX;UIDVALIDITY=$UIDVALIDITY/;UID=1/;SECTION=HEADER" TEXT {6+}\r\nhello\n)',
    'e APPEND INBOX CATENATE (URL "/INBOX/;UID=1/;SECTION=1" URL "/INBOX/;UID=1/;SECTION=2.MIME")',
    'f APPEND INBOX CATENATE (URL "/INBOX/;UID=99")',
    'g APPEND INBOX CATENATE (URL "imap://alice@example.test@localhost/INBOX/;UID=1/;PARTIAL=0.10")',
    'h APPEND INBOX CATENATE (TEXT {4+}\r\nab\r\n URL "/Nope/;UID=1")',
    "i FETCH 2:* (BODY.PEEK[] RFC822.SIZE)",
    "j LOGOUT",
]

CASE_SETTINGS["tempfail"] = "passdb {\n  driver = passwd-file\n  args = /nonexistent/passwd\n}\n"
CASES["tempfail"] = ["a LOGIN ghost@example.test x", "b AUTHENTICATE PLAIN AGdob3N0QGV4YW1wbGUudGVzdAB4", "c LOGOUT"]

CASES["enable_selected"] = [
    LOGIN,
    append("b", "INBOX", SIMPLE),
    append("c", "INBOX", SIMPLE),
    "d SELECT INBOX",
    "e ENABLE CONDSTORE",
    "f ENABLE QRESYNC",
    "g MOVE 1 Trash",
    "h COPY 1 INBOX",
    "i STORE 1:* +FLAGS.SILENT (\\Deleted)",
    "j CLOSE",
    "k STATUS INBOX (MESSAGES HIGHESTMODSEQ)",
    'l APPEND Trash (\\Bogus2) "1-Jan-2020 00:00:00 +0000" {3+}\r\nabc',
    'm APPEND Trash "32-Jan-2020 00:00:00 +0000" {3+}\r\nabc',
    "n EXAMINE Trash",
    "o SEARCH RETURN (COUNT) ALL",
    "p LOGOUT",
]

# Files written next to the config when a case's settings name them as @TMP@/<name>.
CASE_FILES: dict[str, str] = {
    # Global ACL file: no expunge right on Noexp, no lookup right on Hidden (the owner keeps
    # every right elsewhere).
    "acl-global": "Noexp owner lrwstipkxa\nHidden owner rwstipekxa\n",
}

# The seed's namespaces: INBOX/ as the private prefix (Maildir++ children beside INBOX, listed
# under it) and a shared namespace template nobody shares anything in.
CASE_SETTINGS["shared_namespace"] = """namespace inbox {
  prefix = INBOX/
}
namespace {
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:%%h/Maildir:INDEX=~/shared/%%u:CONTROL=~/shared/%%u
  subscriptions = yes
  list = children
}
"""
CASES["shared_namespace"] = [
    LOGIN,
    'b LIST "" *',
    'c LIST "" %',
    'd LIST "" shared/%',
    'e LIST "" shared/*',
    "f CREATE INBOX/Work/Sub",
    'g LIST "" *',
    'h LIST "" INBOX',
    'i LIST "" % RETURN (CHILDREN)',
    'j LSUB "" *',
    "k RENAME INBOX/Work INBOX/Play",
    "l DELETE INBOX/Play/Sub",
    'm LIST "" INBOX/%',
    "n LOGOUT",
]

CASE_SETTINGS["acl"] = "mail_plugins = acl\nplugin {\n  acl = vfile:@TMP@/acl-global\n}\n"
CASES["acl"] = [
    LOGIN,
    "b CREATE Noexp",
    "c CREATE Hidden",
    append("d", "Noexp", SIMPLE),
    append("e", "Noexp", SIMPLE),
    'f LIST "" *',
    "g SELECT Noexp",
    "h STORE 1:2 +FLAGS.SILENT (\\Deleted)",
    "i EXPUNGE",
    "j UID EXPUNGE 1",
    "k FETCH 1:* (UID FLAGS)",
    "l MOVE 1 INBOX",
    "l2 STATUS INBOX (MESSAGES)",
    "m CLOSE",
    "n STATUS Noexp (MESSAGES)",
    "o DELETE Hidden",
    "p RENAME Noexp Other",
    "q LOGOUT",
]

# IMAP COPY and MOVE with mail_log: its log lines against real Dovecot's (test_mail_log_imap).
MAIL_LOG_SETTINGS = """mail_plugins = notify mail_log
plugin {
  mail_log_events = delete undelete expunge copy save mailbox_create mailbox_delete mailbox_rename
  mail_log_fields = uid box msgid size
}
"""
MESSAGE_WITH_ID = b"Message-ID: <c1@example.test>\r\nSubject: c\r\n\r\ncopied\r\n"
MAIL_LOG_CASE = [
    LOGIN,
    append("b", "INBOX", MESSAGE_WITH_ID),
    append("c", "INBOX", SIMPLE),
    "d CREATE Box",
    "e SELECT INBOX",
    "f COPY 1:2 Box",
    "g UID COPY 2 Trash",
    "h MOVE 1 Trash",
    "i UID MOVE 2 Box",
    "j RENAME Box Box2",
    "k DELETE Box2",
    "l LOGOUT",
]
