"""The FTS index's upkeep: tokenize, drop (rescan), optimize, progress; the fast MIME walk."""

from __future__ import annotations

import email
import os
from email.policy import compat32
from pathlib import Path

import pytest

from pydovecot.plugins.fts import extract as fts_extract
from pydovecot.plugins.fts.engine import FtsIndex, FtsOptions, drop, tokenize
from tests.plugins.test_fts import MAILS, make_user


def test_tokenize_gives_the_stored_tokens_in_order() -> None:
    text = "Reports: Café au lait, alice@example.test"
    plain = FtsOptions(stemming=False)
    assert tokenize(text, plain) == ["reports", "cafe", "au", "lait", "alice", "example", "test"]
    assert tokenize("reports budgeting", FtsOptions(stemming=True)) == ["report", "budget"]


def test_drop_removes_the_database(tmp_path: Path) -> None:
    index = FtsIndex(str(tmp_path))
    index.check_uidvalidity(1)
    index.add([(1, lambda: fts_extract.extract(MAILS[0]))])
    index.close()
    assert drop(str(tmp_path)) is True
    assert not any(name.startswith("pydovecot-fts") for name in os.listdir(tmp_path))
    assert drop(str(tmp_path)) is False


def test_progress_hears_of_every_message(tmp_path: Path) -> None:
    index = FtsIndex(str(tmp_path))
    index.check_uidvalidity(1)
    heard: list[int] = []
    assert index.add([(n, lambda n=n: fts_extract.extract(MAILS[n % 4])) for n in range(1, 6)], heard.append) == 5
    assert sum(heard) == 5


def test_rescan_and_optimize_on_a_mailbox(tmp_path: Path) -> None:
    box = make_user(tmp_path).open_mailbox("INBOX")
    for mail in MAILS:
        box.append(mail)
    assert box.fts_lookup("BODY", "treasure") == {3}
    box.expunge([3])
    index, _ = box._index()
    assert 3 in index.indexed_uids()
    assert box.fts_optimize() == 1
    index, _ = box._index()
    assert index.indexed_uids() == {1, 2, 4}
    assert box.fts_optimize() == 0  # nothing stale: only merged
    assert box.fts_rescan() is True
    assert box.fts_lookup("BODY", "numbers") == {1}  # rebuilt on use


TRICKY = [
    b"Subject: x\r\nContent-Type: multipart/alternative; boundary=\"zz\"\r\n\r\npre\r\n--zz\r\n"
    b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhel=\r\nlo w=C3=B6rld\r\n"
    b"--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<b>bold</b>\r\n--zz--\r\nepilogue\r\n",
    b"Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n",
    b"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n"
    b"--b\n\nnested\n--b--\n--a\n\nsecond\n--ab\nnot a boundary\n--a--\n",
    b"Content-Type: multipart/mixed\n\nno boundary at all",
    b"Subject: =?utf-8?q?caf=C3=A9?=\n folded\n\nbody\n",
    b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64\n",
    b"\nno headers",
    *MAILS,
]


@pytest.mark.parametrize("data", TRICKY)
def test_fast_walk_extracts_what_the_email_package_does(data: bytes) -> None:
    msg = email.message_from_bytes(data, policy=compat32)
    slow = fts_extract._message_text(msg, fts_extract._texts(msg))
    fast = fts_extract.extract(data)
    assert fast.headers == slow.headers and fast.all_headers == slow.all_headers
    assert fast.body.split() == slow.body.split()
