"""Concurrent plain saves into one maildir are published together (maildir/save.py): every
save still gets its own UID, its file intact, a durable uidlist, and its own error."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from pydovecot.storage.maildir import save as save_mod
from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir.save import save_message
from pydovecot.storage.maildir.sync import sync_mailbox

THREADS = 6
PER_THREAD = 8


def _payload(t: int, i: int) -> bytes:
    return b"Subject: t%d m%d\n\n" % (t, i) + b"body %d %d\n" % (t, i) * (50 + 37 * i)


def _save_concurrently(root: Path, threads: int, per_thread: int) -> tuple[dict[int, bytes], list[BaseException]]:
    barrier = threading.Barrier(threads)
    saved: dict[int, bytes] = {}
    errors: list[BaseException] = []
    guard = threading.Lock()

    def work(t: int) -> None:
        barrier.wait(10)
        for i in range(per_thread):
            data = _payload(t, i)
            try:
                uid, _name = save_message(str(root), data)
            except Exception as exc:  # noqa: BLE001 - collected for the assertions
                with guard:
                    errors.append(exc)
                continue
            with guard:
                assert uid not in saved, f"UID {uid} handed out twice"
                saved[uid] = data

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not any(w.is_alive() for w in workers)
    return saved, errors


def test_concurrent_saves_get_distinct_uids_and_intact_files(tmp_path: Path) -> None:
    saved, errors = _save_concurrently(tmp_path, THREADS, PER_THREAD)
    assert errors == []
    assert sorted(saved) == list(range(1, THREADS * PER_THREAD + 1))
    result = sync_mailbox(str(tmp_path))
    assert {m.uid: (tmp_path / m.relpath).read_bytes() for m in result.messages} == saved
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None and not disk.partial_tail
    assert disk.next_uid_effective == THREADS * PER_THREAD + 1
    assert os.listdir(tmp_path / "tmp") == []
    assert not (tmp_path / "dovecot-uidlist.lock").exists()


def test_saves_waiting_together_share_one_directory_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_message(str(tmp_path), b"Subject: first\n\nx\n")  # the uidlist exists: partial syncs
    calls: list[str] = []
    real = save_mod._fsync_dir

    def slow_fsync_dir(directory: str) -> None:
        calls.append(directory)
        time.sleep(0.2)  # the others finish their files and queue meanwhile
        real(directory)

    monkeypatch.setattr(save_mod, "_fsync_dir", slow_fsync_dir)
    saved, errors = _save_concurrently(tmp_path, THREADS, 1)
    assert errors == []
    assert sorted(saved) == list(range(2, THREADS + 2))
    assert 1 <= len(calls) < THREADS
    assert all(c == str(tmp_path / "new") for c in calls)


def test_one_failed_rename_fails_only_that_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_rename = os.rename
    poisoned = _payload(2, 3)

    def rename(src: str, dst: str) -> None:
        if f"{os.sep}tmp{os.sep}" in str(src) and Path(src).read_bytes() == poisoned:
            raise PermissionError(13, "denied", src)
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    saved, errors = _save_concurrently(tmp_path, THREADS, 4)
    assert len(errors) == 1 and isinstance(errors[0], PermissionError)
    assert poisoned not in saved.values()
    assert len(saved) == THREADS * 4 - 1
    result = sync_mailbox(str(tmp_path))
    assert {m.uid: (tmp_path / m.relpath).read_bytes() for m in result.messages} == saved
    assert os.listdir(tmp_path / "tmp") == []
