"""The doveadm fts / index cases: one fixture (users, mail, config) and the command lines run
against it, shared by the golden recorder (real Dovecot) and the tests (ours)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.conf import passwd_file_tree

USERS = ("u1", "u2")
# (user, mailbox, message); saved in this order, so UIDs are 1, 2, ... per mailbox.
MAILS = (
    ("u1", "INBOX", "From: alice@example.test\nSubject: hello there\n\nThe quick brown zebra.\n"),
    ("u1", "INBOX", "From: bob@example.test\nSubject: lunch\n\nA lazy zebra sleeps.\n"),
    ("u1", "INBOX", "From: carol@example.test\nSubject: report\n\nNumbers, quick numbers.\n"),
    ("u1", "Work", "From: dave@example.test\nSubject: work\n\nquick zebra at work\n"),
    ("u2", "INBOX", "From: erin@example.test\nSubject: hello\n\nlazy brown zebra\n"),
    ("u2", "INBOX", "From: frank@example.test\nSubject: other\n\nnothing here\n"),
)
TOKENIZE_TEXT = "Hello, World! café e-mail alice@example.test don't 3.14 Über_alles"

# The plugin { } settings; the rest of the config is tests.support.conf.passwd_file_tree's.
FTS_PLUGIN = """\
  fts = lucene
  # real 2.3.19's "fts tokenize" crashes without libfts
  fts_lucene = use_libfts no_snowball
  fts_languages = en
  fts_tokenizers = generic email-address
  fts_filters = lowercase
"""

# (case name, doveadm arguments after "-c CONF"); run in this order.
CASES = (
    ("index_all", ["index", "-A", "*"]),
    ("lookup_one", ["fts", "lookup", "-u", "u1", "mailbox", "INBOX", "body", "quick"]),
    ("lookup_all_users", ["fts", "lookup", "-A", "mailbox", "INBOX", "body", "zebra"]),
    ("lookup_every_mailbox", ["fts", "lookup", "-u", "u1", "body", "zebra"]),
    ("lookup_and", ["fts", "lookup", "-u", "u1", "mailbox", "INBOX", "body", "zebra", "body", "lazy"]),
    ("lookup_subject", ["fts", "lookup", "-u", "u1", "mailbox", "INBOX", "subject", "hello"]),
    ("lookup_no_fts_key", ["fts", "lookup", "-u", "u1", "mailbox", "INBOX", "seen"]),
    ("lookup_nothing", ["fts", "lookup", "-u", "u1", "mailbox", "INBOX", "body", "zzzzz"]),
    ("lookup_missing_mailbox", ["fts", "lookup", "-u", "u1", "mailbox", "Nope", "body", "quick"]),
    ("rescan_bad_namespace", ["fts", "rescan", "-u", "u1", "nope"]),
    ("rescan_all", ["fts", "rescan", "-A"]),
    ("optimize_one", ["fts", "optimize", "-u", "u1"]),
    ("index_one", ["index", "-u", "u1", "INBOX"]),
    ("lookup_after_rescan", ["fts", "lookup", "-u", "u2", "mailbox", "INBOX", "body", "zebra"]),
    ("index_bad_n", ["index", "-u", "u1", "-n", "x", "INBOX"]),
    ("index_no_user", ["index", "-u", "nobody", "INBOX"]),
    ("tokenize", ["fts", "tokenize", "-u", "u1", TOKENIZE_TEXT]),
    ("tokenize_bad_language", ["fts", "tokenize", "-u", "u1", "-l", "xx", "hi"]),
)


def build(root: Path, uid: int) -> Path:
    """Users' homes, passwd-file and config under ``root``; returns the config path."""
    for sub in ("run", "state"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    lines = []
    for user in USERS:
        home = root / "home" / user
        for sub in ("cur", "new", "tmp"):
            (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        lines.append(f"{user}:{{PLAIN}}x:{uid}:{uid}::{home}\n")
    (root / "passwd").write_text("".join(lines))
    conf = root / "dovecot.conf"
    conf.write_text(passwd_file_tree(root, mail_plugins="fts fts_lucene", plugin=FTS_PLUGIN,
                                     log_name="dovecot.log"))
    os.chmod(root, 0o755)
    return conf
