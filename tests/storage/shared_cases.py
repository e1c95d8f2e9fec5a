"""The shared-namespace scenario, run against real Dovecot 2.3.19 (record_shared_goldens.py) and
against our server (test_shared_namespace.py), on the same files.

Three passwd-file users under one vmail uid, the seed's namespaces (``INBOX/`` private,
``shared/%%u/`` shared with ``location = maildir:%%h/Maildir:INDEX=~/shared/%%u:CONTROL=~/shared/%%u``,
``list = children``), ``acl = vfile`` and ``acl_shared_dict = file:...``. The owners (bob, carol)
make mailboxes and give rights over IMAP (SETACL/DELETEACL); then alice lists, opens and
writes the shared mailboxes. Between the steps the shared dict is read back.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

VMAIL = 10000
PASSWORD = "pw"
USERS = ("alice@x", "bob@x", "carol@y")

# (user, commands) sessions, in order; "DICT" instead of a user records the shared dict.
SETUP: list[tuple[str, list[str]]] = [
    ("bob@x", ["CREATE INBOX/sub", "CREATE INBOX/priv", "CREATE INBOX/sub/deep", "CREATE INBOX/hidden/inner",
               "APPEND INBOX {5}\r\nhello", "APPEND INBOX/sub {7}\r\nhello 2",
               "SETACL INBOX alice@x lr", "SETACL INBOX/sub alice@x lrwstie",
               "SETACL INBOX/sub/deep carol@y lr", "SETACL INBOX/hidden/inner alice@x lr",
               "SETACL INBOX/priv bob@x lr", "GETACL INBOX/sub"]),
    ("carol@y", ["CREATE INBOX/work", "CREATE INBOX/work/q", "APPEND INBOX/work {3}\r\nabc",
                 "SETACL INBOX/work alice@x lr", "SETACL INBOX/work/q bob@x lr"]),
    ("DICT", []),
    ("bob@x", ["DELETEACL INBOX/sub/deep carol@y"]),
    ("DICT", []),
    ("alice@x", [
        'LIST "" *', 'LIST "" %', 'LIST "" shared/%', 'LIST "" shared/bob@x/%', 'LIST "" shared',
        'LIST "" shared/bob@x', 'LIST "" shared/*', 'LIST "" shared/carol@y', 'LIST "" shared/carol@y/*',
        'LIST "" shared/bob@x/hidden/%', 'LIST "" shared/nobody@x/*', 'LSUB "" *', "NAMESPACE",
        "STATUS shared/bob@x (MESSAGES UIDNEXT)", "STATUS shared/bob@x/sub (MESSAGES UIDNEXT)",
        "STATUS shared/bob@x/priv (MESSAGES)", "STATUS shared/bob@x/sub/deep (MESSAGES)",
        "STATUS shared/carol@y (MESSAGES)", "STATUS shared/nobody@x/INBOX (MESSAGES)", "STATUS shared (MESSAGES)",
        "MYRIGHTS shared/bob@x", "MYRIGHTS shared/bob@x/sub", "MYRIGHTS shared/bob@x/priv",
        "MYRIGHTS shared/carol@y/work",
        "SELECT shared/bob@x/INBOX", "FETCH 1 (FLAGS BODY[])", "STORE 1 +FLAGS (\\Seen)",
        "APPEND shared/bob@x {4}\r\nabcd", "SELECT shared/bob@x",
        "SELECT shared/bob@x/priv", "SELECT shared/carol@y", "SELECT shared/nobody@x", "SELECT shared",
        "CREATE shared/bob@x/new", "CREATE shared/bob@x/sub/new", "DELETE shared/bob@x/sub",
        "RENAME shared/bob@x/sub shared/bob@x/sub2",
        "SELECT shared/bob@x/sub", "STORE 1 +FLAGS (\\Seen \\Flagged)",
        "APPEND shared/bob@x/sub (\\Seen \\Draft) {4}\r\nabcd", "FETCH 1:* (UID FLAGS)",
        "STORE 1 +FLAGS (\\Deleted)", "EXPUNGE", "FETCH 1:* (UID FLAGS)", "CLOSE",
        "SELECT shared/carol@y/work", "FETCH 1 (BODY[])", "STORE 1 +FLAGS (\\Seen)",
        "SUBSCRIBE shared/bob@x/sub", "SUBSCRIBE shared/bob@x", 'LSUB "" *', 'LSUB "" shared/%',
        'LIST (SUBSCRIBED) "" *',
    ]),
    ("bob@x", ['LIST "" *', "SELECT INBOX/sub", "FETCH 1:* (FLAGS)"]),
    # A user with the admin right on a shared mailbox gives it on: the owner's key is added.
    ("bob@x", ["SETACL INBOX/sub alice@x lrwstiea"]),
    ("alice@x", ["SETACL shared/bob@x/sub carol@y lr", "GETACL shared/bob@x/sub"]),
    ("DICT", []),
    ("carol@y", ['LIST "" *', "MYRIGHTS shared/bob@x/sub", "STATUS shared/bob@x/sub (MESSAGES)"]),
    # Commands that name a shared owner first thing in a session.
    ("alice@x", ["CREATE shared/bob@x/new2"]),
    ("alice@x", ["RENAME shared/carol@y/work shared/carol@y/w2"]),
    ("alice@x", ["SUBSCRIBE shared/carol@y/work", "UNSUBSCRIBE shared/carol@y/work", "SUBSCRIBE shared/nobody@x"]),
    ("alice@x", ["SELECT shared/nobody@x/INBOX", "STATUS shared/nobody@x (MESSAGES)"]),
]


# mail_shared_explicit_inbox = yes: the owner's INBOX is only shared/bob@x/INBOX.
EXPLICIT_INBOX: list[tuple[str, list[str]]] = [
    ("bob@x", ["CREATE INBOX/sub", "APPEND INBOX {5}\r\nhello", "SETACL INBOX alice@x lr",
               "SETACL INBOX/sub alice@x lr"]),
    ("alice@x", ['LIST "" *', 'LIST "" shared/%', 'LIST "" shared/bob@x/%', "SELECT shared/bob@x",
                 "STATUS shared/bob@x/INBOX (MESSAGES)", "MYRIGHTS shared/bob@x/INBOX", "SELECT shared/bob@x/INBOX"]),
]


def users_file(root: Path) -> str:
    return "".join(f"{user}:{{PLAIN}}{PASSWORD}:{VMAIL}:{VMAIL}::{root}/home/{user.split('@')[0]}::\n"
                   for user in USERS)


def config(root: Path, port: int, extra: str = "") -> str:
    """The seed's mail settings (conf.d/10-mail.conf, 90-acl.conf) on ``root``."""
    return extra + f"""base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
log_path = {root}/log
auth_mechanisms = plain
mail_location = maildir:~/Maildir
namespace inbox {{
  type = private
  separator = /
  prefix = INBOX/
  inbox = yes
  subscriptions = yes
}}
namespace {{
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:%%h/Maildir:INDEX=~/shared/%%u:CONTROL=~/shared/%%u
  subscriptions = yes
  list = children
}}
mail_uid = {VMAIL}
mail_gid = {VMAIL}
first_valid_uid = {VMAIL}
last_valid_uid = {VMAIL}
mail_plugins = acl
protocol imap {{
  mail_plugins = acl imap_acl
}}
plugin {{
  acl = vfile
  acl_shared_dict = file:{root}/dict/shared-mailboxes.db
}}
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def prepare(root: Path, port: int, extra: str = "") -> Path:
    """Users, homes and the config under ``root`` (which every user can traverse)."""
    for sub in ("run", "state", "dict", "home"):
        (root / sub).mkdir(exist_ok=True)
    for user in USERS:
        (root / "home" / user.split("@")[0]).mkdir(exist_ok=True)
    (root / "users").write_text(users_file(root))
    conf = root / "dovecot.conf"
    conf.write_text(config(root, port, extra))
    if os.getuid() == 0:
        for sub in ("dict", "home"):
            for directory, dirs, files in os.walk(root / sub):
                for name in dirs + files:
                    os.chown(os.path.join(directory, name), VMAIL, VMAIL)
            os.chown(root / sub, VMAIL, VMAIL)
    return conf


def imap_session(port: int, user: str, commands: list[str], timeout: float = 20) -> list[str]:
    """LOGIN, the commands (tagged t1, t2...), LOGOUT; every line the server sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    reader = sock.makefile("rb")
    lines = [reader.readline().decode("utf-8", "replace")]
    for index, command in enumerate([f"LOGIN {user} {PASSWORD}", *commands, "LOGOUT"]):
        tag = f"t{index}"
        head, _, literal = command.partition("\r\n")
        data = f"{tag} {head}".encode()
        if literal:
            data = data.replace(b"{%d}" % len(literal), b"{%d+}" % len(literal)) + b"\r\n" + literal.encode()
        sock.sendall(data + b"\r\n")
        while True:
            line = reader.readline().decode("utf-8", "replace")
            if not line:
                break
            lines.append(line)
            if line.startswith(tag + " "):
                break
    sock.close()
    return lines


_TIMING = re.compile(r" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)")
_NUMBERED = re.compile(r"(UIDVALIDITY|APPENDUID) \d+")


def normalise(lines: list[str]) -> list[str]:
    """What must match: no greeting/LOGIN capabilities, timings, UIDVALIDITY values or
    ``\\Marked`` (Maildir new/ state, which neither side is asked about here)."""
    out = []
    for line in lines[2:]:
        line = _TIMING.sub("", line.rstrip("\r\n"))
        line = _NUMBERED.sub(r"\1 N", line)
        line = line.replace(" \\Marked", "").replace("(\\Marked)", "()")
        out.append(line)
    return out


def read_dict(root: Path) -> dict[str, str]:
    path = root / "dict" / "shared-mailboxes.db"
    if not path.exists():
        return {}
    lines = path.read_text().split("\n")
    return {lines[i]: lines[i + 1] for i in range(0, len(lines) - 1, 2)}


def run(root: Path, port: int, steps: list[tuple[str, list[str]]] = SETUP) -> list[dict[str, object]]:
    """Every step (SETUP by default) against the server on ``port``: transcripts and dict snapshots."""
    records: list[dict[str, object]] = []
    for user, commands in steps:
        if user == "DICT":
            records.append({"dict": read_dict(root)})
        else:
            records.append({"user": user, "lines": normalise(imap_session(port, user, commands))})
    return records
