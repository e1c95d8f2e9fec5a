"""Maildir sync, save, flag changes and expunge (unit tests on temp dirs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydovecot.storage.maildir import filename as fn
from pydovecot.storage.maildir import keywords as kw
from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir.fsync import FsyncMode
from pydovecot.storage.maildir.mailbox import MaildirMailbox
from pydovecot.storage.maildir.save import save_message, virtual_size
from pydovecot.storage.maildir.sync import ensure_maildir, sync_mailbox

MESSAGE = b"From: a@example.com\nSubject: hi\n\nHello\nworld\n"


def _files(root: Path, sub: str) -> list[str]:
    return sorted(os.listdir(root / sub))


def test_sync_creates_uidlist_and_moves_new_to_cur_in_uid_order(tmp_path: Path) -> None:
    ensure_maildir(str(tmp_path))
    # Written out of order: UIDs follow the names' seconds, then microseconds.
    names = ["1700000002.M5P1.h", "1700000001.M9P1.h", "1700000001.M10P1.h"]
    for name in names:
        (tmp_path / "new" / name).write_bytes(MESSAGE)
    (tmp_path / "cur" / "1600000000.M1P1.h:2,S").write_bytes(MESSAGE)

    result = sync_mailbox(str(tmp_path))

    assert _files(tmp_path, "new") == []
    assert [(m.uid, m.filename) for m in result.messages] == [
        (1, "1600000000.M1P1.h:2,S"),
        (2, "1700000001.M9P1.h:2,"),
        (3, "1700000001.M10P1.h:2,"),
        (4, "1700000002.M5P1.h:2,"),
    ]
    assert result.messages[0].flags == {"\\Seen"}
    assert result.next_uid == 5
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None
    assert disk.uid_validity == result.uid_validity > 0
    assert [r.filename for r in disk.records] == [fn.base_name(m.filename) for m in result.messages]
    # The UIDVALIDITY came from the dovecot-uidvalidity counter.
    assert (tmp_path / "dovecot-uidvalidity").exists()


def test_sync_keeps_existing_uids_and_appends_new_ones(tmp_path: Path) -> None:
    ensure_maildir(str(tmp_path))
    (tmp_path / "cur" / "1700000005.M1P1.h:2,").write_bytes(MESSAGE)
    first = sync_mailbox(str(tmp_path))
    # An older-named file arriving later still gets a higher UID: existing UIDs never move.
    (tmp_path / "new" / "1600000000.M1P1.h").write_bytes(MESSAGE)
    second = sync_mailbox(str(tmp_path))
    assert second.uid_validity == first.uid_validity
    assert [(m.uid, m.base) for m in second.messages] == [
        (1, "1700000005.M1P1.h"),
        (2, "1600000000.M1P1.h"),
    ]
    # Appended without touching the header, like Dovecot.
    raw = (tmp_path / "dovecot-uidlist").read_bytes().splitlines()
    assert raw[1:] == [b"1 :1700000005.M1P1.h", b"2 :1600000000.M1P1.h"]


def test_sync_drops_vanished_files_without_reusing_uids(tmp_path: Path) -> None:
    box = MaildirMailbox(str(tmp_path))
    uids = [box.save(MESSAGE)[0] for _ in range(3)]
    assert uids == [1, 2, 3]
    result = box.sync()
    os.unlink(tmp_path / result.by_uid(3).relpath)  # type: ignore[union-attr]
    os.unlink(tmp_path / result.by_uid(2).relpath)  # type: ignore[union-attr]
    after = box.sync()
    assert [m.uid for m in after.messages] == [1]
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None and [r.uid for r in disk.records] == [1]
    assert disk.next_uid == 4
    assert box.save(MESSAGE)[0] == 4


def test_sync_recreates_a_broken_uidlist(tmp_path: Path) -> None:
    ensure_maildir(str(tmp_path))
    (tmp_path / "cur" / "1700000000.M1P1.h:2,").write_bytes(MESSAGE)
    (tmp_path / "dovecot-uidlist").write_bytes(b"2 garbage\n")
    result = sync_mailbox(str(tmp_path))
    assert [m.uid for m in result.messages] == [1]
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None and disk.version == 3 and disk.mailbox_guid is not None


def test_save_names_file_like_dovecot(tmp_path: Path) -> None:
    uid, name = save_message(str(tmp_path), MESSAGE, hostname="host:a/b", fsync=FsyncMode.ALWAYS)
    assert uid == 1
    parsed = fn.parse_filename(name)
    assert parsed.info is None  # no flags: delivered to new/ as it is
    assert parsed.size == len(MESSAGE)
    assert parsed.vsize == len(MESSAGE) + MESSAGE.count(b"\n")
    assert parsed.unique.pid == os.getpid()
    assert parsed.unique.host == "host\\072a\\057b"
    assert _files(tmp_path, "new") == [name]
    assert _files(tmp_path, "tmp") == []
    assert (tmp_path / "new" / name).read_bytes() == MESSAGE


def test_virtual_size_counts_bare_lf_only() -> None:
    assert virtual_size(b"a\r\nb\nc") == 7
    assert virtual_size(b"") == 0


def test_save_with_flags_keywords_and_internaldate(tmp_path: Path) -> None:
    uid, name = save_message(
        str(tmp_path),
        MESSAGE,
        flags=["\\Seen", "\\Flagged"],
        keywords=["$Forwarded", "Work"],
        internaldate=1_500_000_000,
        fsync=FsyncMode.NEVER,
    )
    assert name.endswith(":2,FSab")
    assert _files(tmp_path, "cur") == [name]
    assert int(os.stat(tmp_path / "cur" / name).st_mtime) == 1_500_000_000
    table = kw.read_keywords(str(tmp_path))
    assert table.names == ("$Forwarded", "Work")
    msg = sync_mailbox(str(tmp_path)).by_uid(uid)
    assert msg is not None
    assert msg.flags == {"\\Seen", "\\Flagged"}
    assert msg.keywords == ("$Forwarded", "Work")


def test_saves_get_rising_uids_and_unique_names(tmp_path: Path) -> None:
    saved = [save_message(str(tmp_path), MESSAGE + bytes([65 + i])) for i in range(20)]
    assert [uid for uid, _ in saved] == list(range(1, 21))
    assert len({fn.base_name(name) for _, name in saved}) == 20
    assert not (tmp_path / "dovecot-uidlist.lock").exists()


def test_set_flags_renames_and_keeps_unknown_letters(tmp_path: Path) -> None:
    box = MaildirMailbox(str(tmp_path))
    uid, _ = box.save(MESSAGE)
    box.sync()  # now in cur/ with ":2,"
    msg = box.sync().by_uid(uid)
    assert msg is not None
    os.rename(tmp_path / msg.relpath, tmp_path / "cur" / (msg.filename + "P"))
    updated = box.set_flags(uid, ["\\Answered", "\\Deleted"], ["Later"])
    assert updated is not None
    assert updated.filename == fn.base_name(msg.filename) + ":2,PRTa"
    assert updated.flags == {"\\Answered", "\\Deleted"}
    assert updated.keywords == ("Later",)
    cleared = box.set_flags(uid, [])
    assert cleared is not None and cleared.filename.endswith(":2,P") and cleared.keywords == ()
    assert box.set_flags(99, ["\\Seen"]) is None


def test_set_flags_moves_message_from_new(tmp_path: Path) -> None:
    box = MaildirMailbox(str(tmp_path))
    uid, name = box.save(MESSAGE)
    assert _files(tmp_path, "new") == [name]
    updated = box.set_flags(uid, ["\\Seen"])
    assert updated is not None and updated.subdir == "cur" and updated.filename == name + ":2,S"
    assert _files(tmp_path, "new") == []


def test_expunge_removes_file_and_record(tmp_path: Path) -> None:
    box = MaildirMailbox(str(tmp_path))
    first, _ = box.save(MESSAGE)
    second, _ = box.save(MESSAGE)
    assert box.expunge(first) is True
    assert box.expunge(first) is False
    assert [m.uid for m in box.sync().messages] == [second]
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None and [r.uid for r in disk.records] == [second]
    assert disk.next_uid_effective == 3
    assert box.save(MESSAGE)[0] == 3


def test_separate_control_dir(tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.mkdir()
    box = MaildirMailbox(str(tmp_path / "mail"), control_dir=str(control))
    uid, _ = box.save(MESSAGE, keywords=["k"])
    assert uid == 1
    assert (control / "dovecot-uidlist").exists() and (control / "dovecot-keywords").exists()
    assert not (tmp_path / "mail" / "dovecot-uidlist").exists()


@pytest.mark.parametrize("move_new", [True, False])
def test_sync_without_moving_new(tmp_path: Path, move_new: bool) -> None:
    ensure_maildir(str(tmp_path))
    (tmp_path / "new" / "1700000000.M1P1.h").write_bytes(MESSAGE)
    result = sync_mailbox(str(tmp_path), move_new=move_new)
    assert result.messages[0].subdir == ("cur" if move_new else "new")
