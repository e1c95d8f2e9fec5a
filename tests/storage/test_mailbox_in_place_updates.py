"""Our own changes update the cached snapshot in place; what they leave equals a full rescan,
others' changes still show, and one STORE or EXPUNGE is one modseq transaction (as Dovecot)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydovecot.storage import mailbox as mailbox_module
from pydovecot.storage.interface import MailboxSnapshot, StoreAction
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir import uidlist as uidlist_module

MSG = b"Subject: hi\r\n\r\nhello\r\n"


def _box(root: Path) -> MaildirIndexedMailbox:
    mailbox_module._SNAPSHOTS.clear()
    box = MaildirIndexedMailbox("INBOX", str(root / "Maildir"), uidvalidity_dir=str(root))
    for i in range(6):
        box.append(MSG + bytes([65 + i]), flags=["\\Seen"] if i % 2 else [])
    box.sync(take_recent=True)
    return box


def _rescanned(box: MaildirIndexedMailbox) -> MailboxSnapshot:
    """What a fresh process sees after a full scan (no cached snapshot, no saved stamp)."""
    mailbox_module._SNAPSHOTS.clear()
    stamp = os.path.join(box.index_dir, mailbox_module._STAMP_NAME)
    if os.path.exists(stamp):
        os.unlink(stamp)
    return MaildirIndexedMailbox(box.vname, box.path, uidvalidity_dir=os.path.dirname(box.path)).sync()


def _comparable(snap: MailboxSnapshot) -> object:
    return (snap.uidvalidity, snap.uidnext, snap.highestmodseq,
            [(m.uid, m.flags, m.keywords, m.modseq, m.size, m.vsize) for m in snap.messages])


def test_one_store_is_one_modseq(tmp_path: Path) -> None:
    box = _box(tmp_path)
    before = box.sync().highestmodseq
    result = box.store([1, 2, 3, 4], StoreAction.ADD, ["\\Flagged"], ["$Label1"])
    assert len(result.changed) == 4
    assert {m.modseq for m in result.changed} == {before + 1}
    assert box.sync().highestmodseq == before + 1


def test_one_expunge_is_one_modseq(tmp_path: Path) -> None:
    box = _box(tmp_path)
    before = box.sync().highestmodseq
    assert box.expunge([2, 5]) == (2, 5)
    assert box.sync().highestmodseq == before + 1
    assert box.vanished_since(before) == (2, 5)


_op = st.one_of(
    st.tuples(st.just("store"), st.lists(st.integers(1, 9), max_size=4), st.sampled_from(list(StoreAction)),
              st.sampled_from([(), ("\\Seen",), ("\\Flagged", "\\Deleted")]), st.sampled_from([(), ("k1",)])),
    st.tuples(st.just("expunge"), st.lists(st.integers(1, 9), max_size=3)),
    st.tuples(st.just("append"), st.sampled_from([(), ("\\Draft",)])),
    st.tuples(st.just("sync")),
)


@settings(max_examples=30, deadline=None)
@given(ops=st.lists(_op, max_size=8))
def test_in_place_updates_equal_a_full_rescan(tmp_path_factory: pytest.TempPathFactory, ops: list[tuple]) -> None:
    box = _box(tmp_path_factory.mktemp("m"))
    for op in ops:
        if op[0] == "store":
            box.store(op[1], op[2], op[3], op[4])
        elif op[0] == "expunge":
            box.expunge(op[1])
        elif op[0] == "append":
            box.append(MSG, flags=op[1])
        else:
            box.sync()
    ours = box.sync()
    assert _comparable(ours) == _comparable(_rescanned(box))


def test_a_rename_by_another_process_after_our_store_shows(tmp_path: Path) -> None:
    box = _box(tmp_path)
    box.store([1], StoreAction.ADD, ["\\Flagged"])
    assert box.sync().messages[0].flags == {"\\Flagged"}
    # Another process (Dovecot) sets \Answered on message 2 without any lock, at once.
    rel = box._files[2]
    base, _, letters = rel[4:].partition(":2,")
    os.rename(os.path.join(box.path, rel), os.path.join(box.path, "cur", f"{base}:2,R{letters}"))
    snap = box.sync()
    assert "\\Answered" in snap.messages[1].flags
    assert snap.highestmodseq > snap.messages[0].modseq


def test_a_delivery_by_another_process_after_our_expunge_shows(tmp_path: Path) -> None:
    box = _box(tmp_path)
    box.expunge([1])
    assert len(box.sync().messages) == 5
    other = MaildirIndexedMailbox("INBOX", box.path, uidvalidity_dir=str(tmp_path))
    mailbox_module._SNAPSHOTS.pop(box.index_dir, None)  # the other process has its own cache
    other.sync()
    uid = other.append(MSG)
    snap = box.sync()
    assert snap.messages[-1].uid == uid and len(snap.messages) == 6


def test_saves_do_not_parse_the_uidlist_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = _box(tmp_path)
    box.sync()
    parses = []
    real = uidlist_module.parse_uidlist
    monkeypatch.setattr(uidlist_module, "parse_uidlist", lambda data: parses.append(1) or real(data))
    uids = [box.append(MSG + bytes([i])) for i in range(5)]
    assert parses == []
    assert uids == list(range(7, 12))
    assert [m.uid for m in _rescanned(box).messages][-5:] == uids


def test_our_changes_need_no_rescan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = _box(tmp_path)
    box.sync()

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned the Maildir")

    monkeypatch.setattr(mailbox_module, "sync_locked", boom)
    uid = box.append(MSG, flags=["\\Draft"])
    box.store([uid, 1], StoreAction.ADD, ["\\Deleted"])
    box.expunge([uid, 1])
    snap = box.sync()
    monkeypatch.undo()
    assert [m.uid for m in snap.messages] == [2, 3, 4, 5, 6]
    assert _comparable(snap) == _comparable(_rescanned(box))
