"""The save path deliveries take: numbering without waiting for another process's uidlist
lock (``uids_optional``, Dovecot's saves without ASSIGN_UIDS), several records appended in
one write, and a maildir whose directories went missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir.dotlock import LockTimeoutError
from pydovecot.storage.maildir.save import save_message, save_message_full, uids_optional
from pydovecot.storage.maildir.sync import ensure_maildir, sync_mailbox

MESSAGE = b"From: a@example.com\nSubject: hi\n\nHello\n"


def _hold_lock(root: Path) -> subprocess.Popen[bytes]:
    """Another live process holding dovecot-uidlist.lock, as Dovecot writes it (pid:host)."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (root / "dovecot-uidlist.lock").write_text(f"{holder.pid}:{socket.gethostname()}")
    return holder


def test_optional_uid_save_does_not_wait_for_a_held_lock(tmp_path: Path) -> None:
    first, _ = save_message(str(tmp_path), MESSAGE)
    holder = _hold_lock(tmp_path)
    try:
        start = time.monotonic()
        with uids_optional():
            saved = save_message_full(str(tmp_path), MESSAGE + b"2\n")
        assert time.monotonic() - start < 1  # one try, no 0.1 s poll
        # Durable and visible in new/, just not numbered yet; the uidlist is untouched.
        assert saved.uid == 0 and saved.subdir == "new"
        assert (tmp_path / "new" / saved.filename).read_bytes() == MESSAGE + b"2\n"
        disk = ul.read_uidlist(str(tmp_path))
        assert disk is not None and [r.uid for r in disk.records] == [first]
        # Outside the block a save needs its UID: it waits (here until the timeout).
        with pytest.raises(LockTimeoutError):
            save_message(str(tmp_path), MESSAGE + b"3\n", mail_max_lock_timeout=1)
    finally:
        holder.kill()
        holder.wait()
        (tmp_path / "dovecot-uidlist.lock").unlink()
    # The next sync numbers it after the ones already numbered.
    result = sync_mailbox(str(tmp_path))
    assert [m.uid for m in result.messages] == [1, 2]
    assert result.messages[1].base == saved.filename
    assert not list((tmp_path / "tmp").iterdir())


def test_optional_uid_save_numbers_when_the_lock_is_free(tmp_path: Path) -> None:
    save_message(str(tmp_path), MESSAGE)
    with uids_optional():
        saved = save_message_full(str(tmp_path), MESSAGE)
    assert saved.uid == 2
    disk = ul.read_uidlist(str(tmp_path))
    assert disk is not None and disk.uid_of(saved.filename) == 2
    assert not (tmp_path / "dovecot-uidlist.lock").exists()


def test_uids_optional_is_per_block(tmp_path: Path) -> None:
    with uids_optional():
        with uids_optional():
            pass
        holder = _hold_lock(tmp_path)
        try:
            assert save_message_full(str(tmp_path), MESSAGE).uid == 0  # still inside the outer one
        finally:
            holder.kill()
            holder.wait()
            (tmp_path / "dovecot-uidlist.lock").unlink()
    assert save_message_full(str(tmp_path), MESSAGE).uid == 2  # after the first's sync gave it 1


def test_append_new_files_one_write(tmp_path: Path) -> None:
    save_message(str(tmp_path), MESSAGE)
    before = (tmp_path / "dovecot-uidlist").read_bytes()
    names = ["1700000001.M1P9.h,S=5,W=6", "1700000002.M1P9.h,S=5,W=6"]
    for name in names:
        (tmp_path / "new" / name).write_bytes(b"x\ny\n\n")
    with ul.lock_uidlist(str(tmp_path)) as lock:
        uids = ul.append_new_files(str(tmp_path), names, lock)
    assert uids == {names[0]: 2, names[1]: 3}
    after = (tmp_path / "dovecot-uidlist").read_bytes()
    # The records as the one-at-a-time append writes them, after the old bytes.
    assert after == before + b"".join(b"%d :%s\n" % (uid, name.encode()) for uid, name in zip((2, 3), names, strict=True))
    assert [m.uid for m in sync_mailbox(str(tmp_path)).messages] == [1, 2, 3]


@pytest.mark.parametrize("uidlist", [None, b"3 V1700000000 N1\n", b"3 V1700000000 N1 Gabc\n1 :a\n2 :b"])
def test_append_new_files_declines_what_needs_a_full_sync(tmp_path: Path, uidlist: bytes | None) -> None:
    """Missing, without a mailbox GUID, ending in an incomplete line: None, nothing written."""
    ensure_maildir(str(tmp_path))
    if uidlist is not None:
        (tmp_path / "dovecot-uidlist").write_bytes(uidlist)
    with ul.lock_uidlist(str(tmp_path)) as lock:
        assert ul.append_new_files(str(tmp_path), ["1700000001.M1P9.h"], lock) is None
    if uidlist is None:
        assert not (tmp_path / "dovecot-uidlist").exists()
    else:
        assert (tmp_path / "dovecot-uidlist").read_bytes() == uidlist


@pytest.mark.parametrize("missing", ["tmp", "new", "Maildir"])
def test_save_recreates_missing_directories(tmp_path: Path, missing: str) -> None:
    root = tmp_path / "Maildir"
    save_message(str(root), MESSAGE)
    shutil.rmtree(root if missing == "Maildir" else root / missing)
    uid, name = save_message(str(root), MESSAGE)
    assert (root / "new" / name).read_bytes() == MESSAGE
    assert all((root / sub).is_dir() for sub in ("cur", "new", "tmp"))
    assert uid == (1 if missing == "Maildir" else 2)
