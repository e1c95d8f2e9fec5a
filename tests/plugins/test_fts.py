"""Full-text search: our FTS5 index behind fts = lucene."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.plugins.fts.engine import FtsIndex, FtsOptions
from pydovecot.plugins.fts.extract import extract
from pydovecot.storage.mail_user import create_mail_user

CONF = """\
mail_location = maildir:{home}/Maildir
ssl = no
first_valid_uid = 0
mail_plugins = zlib fts fts_lucene
plugin {{
  fts = lucene
  fts_lucene = whitespace_chars=@.
  fts_autoindex = {autoindex}
  zlib_save = gz
}}
"""

MAILS = [
    b"From: Alice <alice@example.test>\nSubject: Quarterly report\n\nThe numbers look great this quarter.\n",
    b"From: bob@example.test\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: base64\n\n" + __import__("base64").b64encode("Café au lait, bitte.\n".encode()) + b"\n",
    b"From: carol@example.test\nSubject: html\nContent-Type: text/html\n\n<p>Hidden <b>treasure</b> map</p>"
    b"<script>var notindexed=1;</script>\n",
    b"From: dave@example.test\nSubject: multipart\nContent-Type: multipart/mixed; boundary=X\n\n--X\n"
    b"Content-Type: text/plain\n\nfirst part words\n--X\nContent-Type: application/octet-stream\n"
    b"Content-Transfer-Encoding: base64\n\nAAAA\n--X--\n",
]


def make_user(tmp_path: Path, autoindex: str = "no"):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF.format(home=home, autoindex=autoindex))
    return create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


@pytest.fixture
def inbox(tmp_path: Path):
    box = make_user(tmp_path).open_mailbox("INBOX")
    for mail in MAILS:
        box.append(mail)
    return box


def test_body_header_and_text_lookups(inbox) -> None:
    assert inbox.fts_lookup("BODY", "numbers") == {1}
    assert inbox.fts_lookup("BODY", "cafe") == {2}  # base64, utf-8, diacritics folded
    assert inbox.fts_lookup("SUBJECT", "grüße") == {2}  # encoded word decoded
    assert inbox.fts_lookup("BODY", "treasure") == {3}
    assert inbox.fts_lookup("BODY", "notindexed") == set()  # script text is not text
    assert inbox.fts_lookup("BODY", "first part words") == {4}
    assert inbox.fts_lookup("BODY", "first words") == set()  # a phrase, as fts_lucene
    assert inbox.fts_lookup("FROM", "alice") == {1}  # '@' and '.' split words (whitespace_chars)
    assert inbox.fts_lookup("TEXT", "quarterly") == {1}
    assert inbox.fts_lookup("BODY", "quarterly") == set()  # only in a header
    assert inbox.fts_lookup("BODY", "numb") == set()  # whole words, as fts_lucene
    assert inbox.fts_lookup("KEYWORD", "x") is None  # not something the index answers


def test_expunged_mail_is_never_returned(inbox) -> None:
    assert inbox.fts_lookup("BODY", "numbers") == {1}
    # Expunged behind our back (as real Dovecot or a person would): the file just goes.
    files = [os.path.join(inbox.path, sub, name) for sub in ("cur", "new")
             for name in os.listdir(os.path.join(inbox.path, sub))]
    uids = {m.uid for m in inbox.sync().messages}
    os.unlink(sorted(files)[0])
    left = {m.uid for m in inbox.sync().messages}
    (gone,) = uids - left
    for word, uid in (("numbers", 1), ("cafe", 2), ("treasure", 3), ("first", 4)):
        assert inbox.fts_lookup("BODY", word) == ({uid} - {gone})


def test_resumes_after_an_interrupted_run(tmp_path: Path) -> None:
    index = FtsIndex(str(tmp_path))
    index.check_uidvalidity(7)
    calls = []

    def getter(n: int):
        def get():
            calls.append(n)
            if n == 3:
                raise KeyboardInterrupt  # killed half-way
            return extract(MAILS[n - 1])
        return get

    with pytest.raises(KeyboardInterrupt):
        index.add((n, getter(n)) for n in (1, 2, 3, 4))
    index.close()
    again = FtsIndex(str(tmp_path))
    again.check_uidvalidity(7)
    assert again.last_uid == 0  # the failed transaction left nothing half-done
    assert again.add((n, lambda n=n: extract(MAILS[n - 1])) for n in (1, 2, 3, 4)) == 4
    assert again.lookup("BODY", "treasure") == {3}
    again.check_uidvalidity(8)  # a new UIDVALIDITY throws the old rows away
    assert again.lookup("BODY", "treasure") == set() and again.last_uid == 0


def test_autoindex_indexes_in_the_background(tmp_path: Path) -> None:
    box = make_user(tmp_path, autoindex="yes").open_mailbox("INBOX")
    box.append(MAILS[0])
    index, _ = box._index()
    deadline = time.monotonic() + 10
    while index.last_uid < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert index.last_uid == 1


def test_whitespace_chars_split_words(tmp_path: Path) -> None:
    # Punctuation ('@', '.', '_') always separates words, as fts_lucene's whitespace_chars=@. asks;
    # whitespace_chars can also split on characters that would stay inside a word.
    plain = FtsIndex(str(tmp_path / "a"))
    split = FtsIndex(str(tmp_path / "b"), FtsOptions(whitespace_chars="9"))
    assert plain.words("alice@example.test snake_case") == ["alice", "example", "test", "snake", "case"]
    assert split.words("abc9def") == ["abc", "def"]
    for index in (plain, split):
        index.check_uidvalidity(1)
        index.add([(1, lambda: extract(b"Subject: x\n\nsnake_case abc9def\n"))])
    assert plain.lookup("BODY", "case") == {1} and split.lookup("BODY", "case") == {1}
    assert plain.lookup("BODY", "def") == set()
    assert split.lookup("BODY", "def") == {1}


def test_unsupported_backend_is_reported(tmp_path: Path, caplog) -> None:
    home = tmp_path / "h"
    conf = tmp_path / "c.conf"
    conf.write_text(f"mail_location = maildir:{home}\nmail_plugins = fts\nplugin {{\n  fts = solr\n}}\n")
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    assert not hasattr(user.open_mailbox("INBOX"), "fts_lookup")  # no index: searches scan the mail
    assert "fts: backend solr is not supported" in caplog.text
