"""The maildir_* settings and mail_fsync in the indexed Maildir mailbox.

Where real Dovecot 2.3.19 was asked (see test_maildir_permissions' oracle set-up): a message
delivered to new/ stays there through STATUS and EXAMINE and moves to cur/ on SELECT.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pydovecot.storage import mailbox as mailbox_module
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir.fsync import FsyncMode
from pydovecot.storage.maildir.sync import TMP_DELETE_SECS, TMP_SCAN_SECS, cleanup_tmp

MSG = b"Subject: hi\r\n\r\nhello\r\n"


def _box(path: Path, name: str = "INBOX", **kwargs: object) -> MaildirIndexedMailbox:
    return MaildirIndexedMailbox(name, str(path), uidvalidity_dir=str(path.parent), **kwargs)  # type: ignore[arg-type]


def _deliver(maildir: Path, name: str = "1700000000.M1P1.host") -> None:
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / name).write_bytes(b"Subject: x\n\nhi\n")


@pytest.fixture(autouse=True)
def _no_snapshot_cache() -> None:
    mailbox_module._SNAPSHOTS.clear()


# --- maildir_copy_with_hardlinks ---------------------------------------------------------------

@pytest.mark.parametrize("hardlinks", [True, False])
def test_copy_links_the_file_unless_disabled(tmp_path: Path, hardlinks: bool) -> None:
    source = _box(tmp_path / "Maildir", copy_with_hardlinks=hardlinks)
    target = _box(tmp_path / "Maildir" / ".Archive", "Archive")
    uid = source.append(MSG, flags=["\\Seen"], keywords=["k1"], internaldate=1_000_000_000)
    ((src_uid, new_uid),) = source.copy_to([uid], target)
    assert src_uid == uid
    src_file, dst_file = source.path_of(uid), target.path_of(new_uid)
    assert src_file and dst_file
    assert os.path.samefile(src_file, dst_file) is hardlinks
    (copied,) = target.sync().messages
    assert copied.flags == frozenset({"\\Seen"}) and copied.keywords == ("k1",)
    assert int(copied.internaldate) == 1_000_000_000 and target.read(new_uid) == source.read(uid)
    assert os.listdir(target.path + "/tmp") == []
    # A flag change in the copy renames only the copy.
    target.store([new_uid], mailbox_module.StoreAction.ADD, ["\\Flagged"])
    assert source.sync().messages[0].flags == frozenset({"\\Seen"})


def test_copy_into_a_wrapped_target_copies_bytes(tmp_path: Path) -> None:
    source = _box(tmp_path / "Maildir")
    inner = _box(tmp_path / "Maildir" / ".Other", "Other")

    class Wrapper:  # what a plugin (quota) puts around a mailbox
        def append(self, data: bytes, **kwargs: object) -> int:
            return inner.append(data, **kwargs)  # type: ignore[arg-type]

    uid = source.append(MSG)
    ((_, new_uid),) = source.copy_to([uid], Wrapper())
    src_file, dst_file = source.path_of(uid), inner.path_of(new_uid)
    assert src_file and dst_file and not os.path.samefile(src_file, dst_file)


# --- maildir_empty_new / move_new --------------------------------------------------------------

def test_new_mail_stays_in_new_until_select(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    _deliver(maildir)
    box = _box(maildir)
    assert box.status().messages == 1  # STATUS
    assert len(box.sync(move_new=False).messages) == 1  # EXAMINE
    assert os.listdir(maildir / "new") and not os.listdir(maildir / "cur")
    box.sync(take_recent=True)  # SELECT
    assert not os.listdir(maildir / "new") and os.listdir(maildir / "cur") == ["1700000000.M1P1.host:2,"]


def test_empty_new_moves_at_every_sync(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    _deliver(maildir)
    _box(maildir, empty_new=True).status()
    assert not os.listdir(maildir / "new")


def test_pop3_no_flag_updates_keeps_new(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    _deliver(maildir)
    snap = _box(maildir).sync(take_recent=True, move_new=False)
    assert snap.recent_uids == {1} and os.listdir(maildir / "new")


# --- maildir_broken_filename_sizes -------------------------------------------------------------

@pytest.mark.parametrize("broken", [False, True])
def test_broken_filename_sizes_ignores_s(tmp_path: Path, broken: bool) -> None:
    maildir = tmp_path / "Maildir"
    _deliver(maildir, "1700000000.M1P1.host,S=999,W=17")
    (msg,) = _box(maildir, broken_filename_sizes=broken).sync().messages
    assert msg.size == (len(b"Subject: x\n\nhi\n") if broken else 999)
    assert msg.vsize == 17  # W= is still trusted


# --- maildir_very_dirty_syncs ------------------------------------------------------------------

def test_very_dirty_syncs_trust_fresh_directory_mtimes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = _box(tmp_path / "Maildir")
    box.append(MSG)
    assert mailbox_module._stamp(box.path, box.control_dir) is None  # changed just now: rescan
    assert mailbox_module._stamp(box.path, box.control_dir, trust_recent=True) is not None
    box.sync()  # moves the new mail to cur/
    box.very_dirty_syncs = True
    first = box.sync()

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned the Maildir although nothing changed")

    monkeypatch.setattr(mailbox_module, "sync_locked", no_scan)
    assert box.sync() == first  # served from the stamp


# --- mail_fsync ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(FsyncMode))
def test_mail_fsync_is_honoured_on_every_path(tmp_path: Path, mode: FsyncMode,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_fsync, real_fdatasync = os.fsync, os.fdatasync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    monkeypatch.setattr(os, "fdatasync", lambda fd: (calls.append(fd), real_fdatasync(fd))[1])
    box = _box(tmp_path / "Maildir", fsync=mode)
    other = _box(tmp_path / "Maildir" / ".Other", "Other", fsync=mode)
    uid = box.append(MSG)
    box.append(MSG, flags=["\\Seen"], keywords=["kw"])
    box.sync(take_recent=True)
    box.store([uid], mailbox_module.StoreAction.ADD, ["\\Flagged"])
    box.copy_to([uid], other)
    box.expunge([uid])
    if mode is FsyncMode.NEVER:
        assert calls == []
    else:
        assert len(calls) >= 5


# --- tmp/ cleanup ---------------------------------------------------------------------------------

def test_tmp_cleanup_follows_dovecots_36_and_8_hour_rule(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    _deliver(maildir)
    (maildir / "tmp" / "left-over").write_bytes(b"partial")
    start = time.time()
    assert cleanup_tmp(str(maildir), now=start + 60) == []  # tmp/ was looked at just now
    later = start + TMP_SCAN_SECS + 3600
    assert cleanup_tmp(str(maildir), now=later) == []  # scanned: the file is not 36 h old
    assert cleanup_tmp(str(maildir), now=later + 3600) == []  # and not rescanned within 8 h
    assert (maildir / "tmp" / "left-over").exists()
    assert cleanup_tmp(str(maildir), now=start + TMP_DELETE_SECS + 60) == ["left-over"]
    assert not (maildir / "tmp" / "left-over").exists()
