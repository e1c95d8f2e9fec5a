"""A new process opening an unchanged Maildir is served from the index, and changes still show."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pydovecot.storage import mailbox as mailbox_module
from pydovecot.storage.mailbox import MaildirIndexedMailbox

MSG = b"Subject: hi\r\n\r\nhello\r\n"


def _age(box: MaildirIndexedMailbox, seconds: int = 60) -> None:
    past = time.time() - seconds
    for name in ("cur", "new", "dovecot-uidlist", "dovecot-keywords"):
        if os.path.exists(os.path.join(box.path, name)):
            os.utime(os.path.join(box.path, name), (past, past))


def _new_process() -> None:
    mailbox_module._SNAPSHOTS.clear()


@pytest.fixture
def box(tmp_path: Path) -> MaildirIndexedMailbox:
    _new_process()
    box = MaildirIndexedMailbox("INBOX", str(tmp_path / "Maildir"), uidvalidity_dir=str(tmp_path))
    for i in range(5):
        box.append(MSG + bytes([65 + i]), flags=["\\Seen"] if i % 2 else [], keywords=["k"] if i == 3 else [])
    box.sync(take_recent=True)
    _age(box)
    box.sync()  # a settled full sync: saves the stamp
    return box


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned the Maildir")

    monkeypatch.setattr(mailbox_module, "sync_locked", boom)


def test_unchanged_maildir_opens_from_the_index(box: MaildirIndexedMailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    full = box.sync()
    _new_process()
    _no_scan(monkeypatch)
    fresh = MaildirIndexedMailbox("INBOX", box.path, uidvalidity_dir=os.path.dirname(box.path))
    warm = fresh.sync()
    assert warm == full
    assert fresh.read(warm.messages[2].uid) == MSG.replace(b"\r\n", b"\n") + b"C"


def test_recent_is_still_given_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _new_process()
    box = MaildirIndexedMailbox("INBOX", str(tmp_path / "Maildir"), uidvalidity_dir=str(tmp_path))
    box.append(MSG, flags=["\\Seen"])
    _age(box)
    box.sync()
    _new_process()
    _no_scan(monkeypatch)
    assert box.sync(take_recent=True).recent_uids == {1}
    _new_process()
    assert box.sync(take_recent=True).recent_uids == frozenset()


def test_an_external_change_is_seen_by_the_next_process(box: MaildirIndexedMailbox) -> None:
    before = box.sync()
    cur = os.path.join(box.path, "cur")
    name = sorted(os.listdir(cur))[0]
    os.rename(os.path.join(cur, name), os.path.join(cur, name.split(":")[0] + ":2,F"))
    _age(box, 30)
    _new_process()
    after = box.sync()
    changed = [m for m in after.messages if m.flags != next(b for b in before.messages if b.uid == m.uid).flags]
    assert len(changed) == 1 and changed[0].flags == frozenset({"\\Flagged"})
    assert changed[0].modseq > before.highestmodseq


def test_new_mail_waiting_in_new_forces_a_real_select(tmp_path: Path) -> None:
    _new_process()
    box = MaildirIndexedMailbox("INBOX", str(tmp_path / "Maildir"), uidvalidity_dir=str(tmp_path))
    box.append(MSG)  # lands in new/
    _age(box)
    box.sync(move_new=False)  # EXAMINE: stays in new/
    _new_process()
    box.sync(take_recent=True)
    assert os.listdir(os.path.join(box.path, "new")) == []
