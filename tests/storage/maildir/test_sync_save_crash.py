"""Crash safety: a process dying between any two steps of save/sync/flag change/expunge
leaves no partial message visible, and the next sync is consistent.

The "crash" is an exception raised from a patched ``os.rename`` (every step that
publishes something is a rename) or from the uidlist append, which skips the rest of the
operation the way a killed process would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydovecot.storage.maildir import save as save_mod
from pydovecot.storage.maildir import sync as sync_mod
from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir.mailbox import MaildirMailbox
from pydovecot.storage.maildir.save import save_message
from pydovecot.storage.maildir.sync import sync_mailbox


class Crash(BaseException):
    """Not an Exception: nothing in the code under test may swallow it."""


def _payload(i: int) -> bytes:
    return b"Subject: m%d\n\nbody %d\n" % (i, i)


def _visible(root: Path) -> dict[str, bytes]:
    return {
        f"{sub}/{name}": (root / sub / name).read_bytes()
        for sub in ("new", "cur")
        for name in os.listdir(root / sub)
        if not name.startswith(".")
    }


def _assert_consistent(root: Path, payloads: set[bytes], committed: dict[int, bytes]) -> None:
    # Every visible file is one complete message.
    for data in _visible(root).values():
        assert data in payloads
    result = sync_mailbox(str(root))
    uids = [m.uid for m in result.messages]
    assert uids == sorted(set(uids))
    assert len(result.messages) == len(_visible(root))
    assert all(m.subdir == "cur" for m in result.messages)
    # Messages whose save returned keep the UID it returned.
    by_uid = {m.uid: (root / m.relpath).read_bytes() for m in result.messages}
    for uid, data in committed.items():
        assert by_uid.get(uid) == data
    disk = ul.read_uidlist(str(root))
    assert disk is not None and not disk.partial_tail
    assert disk.next_uid_effective > max(uids, default=0)
    assert not (root / "dovecot-uidlist.lock").exists()


def test_crash_before_publish_leaves_nothing_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if f"{os.sep}tmp{os.sep}" in str(src):
            raise Crash
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(Crash):
        save_message(str(tmp_path), _payload(1))
    monkeypatch.setattr(os, "rename", real_rename)
    assert _visible(tmp_path) == {}
    _assert_consistent(tmp_path, {_payload(1)}, {})
    assert sync_mailbox(str(tmp_path)).messages == ()


def test_crash_after_publish_before_uid_gives_complete_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed = {save_message(str(tmp_path), _payload(1))[0]: _payload(1)}

    def append(*args: object, **kwargs: object) -> None:
        raise Crash

    # The flagged save's partial sync and the plain saves' one (several records in one write).
    monkeypatch.setattr(sync_mod, "append_records", append)
    monkeypatch.setattr(save_mod, "append_new_files", append)
    with pytest.raises(Crash):
        save_message(str(tmp_path), _payload(2))
    monkeypatch.undo()
    visible = _visible(tmp_path)
    assert sorted(visible.values()) == sorted([_payload(1), _payload(2)])
    _assert_consistent(tmp_path, {_payload(1), _payload(2)}, committed)
    assert [m.uid for m in sync_mailbox(str(tmp_path)).messages] == [1, 2]


def _workload(box: MaildirMailbox, committed: dict[int, bytes]) -> None:
    for i in range(3):
        uid, _ = box.save(_payload(i), flags=["\\Seen"] if i == 1 else ())
        committed[uid] = _payload(i)
    box.sync()
    box.set_flags(1, ["\\Flagged"], ["Later"])
    box.expunge(2)
    committed.pop(2)
    uid, _ = box.save(_payload(3), keywords=["Other"])
    committed[uid] = _payload(3)
    box.sync()


def _count_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    calls = 0
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        nonlocal calls
        calls += 1
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    _workload(MaildirMailbox(str(tmp_path / "probe")), {})
    monkeypatch.undo()
    return calls


def test_crash_at_every_rename_is_recoverable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = _count_renames(tmp_path, monkeypatch)
    assert total > 10  # tmp->new/cur, new->cur, uidlist and keywords replacements
    payloads = {_payload(i) for i in range(4)}
    real_rename = os.rename
    for crash_at in range(1, total + 1):
        root = tmp_path / f"box{crash_at}"
        calls = 0

        def rename(src: str, dst: str, crash_at: int = crash_at) -> None:
            nonlocal calls
            calls += 1
            if calls == crash_at:
                raise Crash
            real_rename(src, dst)

        committed: dict[int, bytes] = {}
        monkeypatch.setattr(os, "rename", rename)
        with pytest.raises(Crash):
            _workload(MaildirMailbox(str(root)), committed)
        monkeypatch.undo()
        # A crash inside expunge may have removed the file already: then it is not committed.
        if 2 in committed and all(d != committed[2] for d in _visible(root).values()):
            committed.pop(2)
        _assert_consistent(root, payloads, committed)
