"""Reading a dovecot-uidlist that another process appended to: only the new bytes are parsed,
and the answer is always the one a full parse of the file gives; waiting for the uidlist lock
wakes when its holder lets go (Dovecot's use_io_notify)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pydovecot.storage.maildir import dotlock
from pydovecot.storage.maildir import uidlist as ul

HEADER = b"3 V1700000000 N1 G0123456789abcdef0123456789abcdef\n"


def _write(control: Path, data: bytes) -> None:
    (control / ul.UIDLIST_NAME).write_bytes(data)


def _append(control: Path, data: bytes) -> None:
    with open(control / ul.UIDLIST_NAME, "ab") as f:
        f.write(data)


@pytest.mark.parametrize("appended", [
    b"3 :1700000003.M3P1.host,S=10,W=11\n4 :1700000004.M4P1.host\n",  # plain records
    b"3 S10 W11 :1700000003.M3P1.host\n",  # with extensions
    b"3 :1700000001.M1P1.host\n",  # a name again: the newer record wins
    b"2 :1700000009.M9P1.host\n",  # a UID not above the last: the file is broken
    b"3 :1700000003.M3P1.host\n4 :17000",  # a record still being written
    b"3  :1700000003.M3P1.host\n",  # odd spacing
])
def test_appended_records_read_as_a_full_parse(tmp_path: Path, appended: bytes) -> None:
    _write(tmp_path, HEADER + b"1 :1700000001.M1P1.host\n2 :1700000002.M2P1.host\n")
    before = ul.read_uidlist_cached(str(tmp_path))
    assert before is not None and len(before.records) == 2
    _append(tmp_path, appended)
    data = (tmp_path / ul.UIDLIST_NAME).read_bytes()
    try:
        expected: ul.Uidlist | Exception = ul.parse_uidlist(data)
    except ul.UidlistError as exc:
        expected = exc
    try:
        got: ul.Uidlist | Exception = ul.read_uidlist_cached(str(tmp_path))  # type: ignore[assignment]
    except ul.UidlistError as exc:
        got = exc
    if isinstance(expected, Exception):
        assert type(got) is type(expected)
    else:
        assert got == expected
        assert ul.read_uidlist_cached(str(tmp_path)) == expected  # and cached as such


def test_many_appends_by_others_then_our_own(tmp_path: Path) -> None:
    """Appends by "another process" and by us (append_records) interleave; each read matches the file."""
    _write(tmp_path, HEADER)
    uid = 1
    for round_ in range(5):
        _append(tmp_path, b"%d :1700000%03d.M%dP1.other\n" % (uid, uid, uid))
        uid += 1
        with ul.lock_uidlist(str(tmp_path)) as lock:
            ul.append_records(str(tmp_path), [ul.UidlistRecord.for_file(uid, f"1700001{uid:03d}.M{uid}P2.ours")],
                              lock)
        uid += 1
        cached = ul.read_uidlist_cached(str(tmp_path))
        assert cached == ul.parse_uidlist((tmp_path / ul.UIDLIST_NAME).read_bytes()), round_
    assert cached is not None and [r.uid for r in cached.records] == list(range(1, uid))


def test_rewritten_file_is_read_again(tmp_path: Path) -> None:
    _write(tmp_path, HEADER + b"1 :a\n2 :b\n")
    assert ul.read_uidlist_cached(str(tmp_path)) is not None
    replacement = HEADER.replace(b"N1", b"N5") + b"1 :a\n2 :b\n3 :c\n"
    tmp = tmp_path / "new-uidlist"
    tmp.write_bytes(replacement)
    os.rename(tmp, tmp_path / ul.UIDLIST_NAME)  # a rewrite: another inode
    assert ul.read_uidlist_cached(str(tmp_path)) == ul.parse_uidlist(replacement)


def test_waiting_for_a_lock_wakes_when_it_is_released(tmp_path: Path) -> None:
    """wait_for_change ends at the unlink, long before its timeout (60 s here)."""
    target = str(tmp_path / "dovecot-uidlist")
    held = dotlock.acquire(target, timeout=10, stale_timeout=120)
    woke = threading.Event()

    def waiter() -> None:
        dotlock.wait_for_change(held.lock_path, 60)
        woke.set()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    held.release()
    thread.join(30)
    assert woke.is_set()


def test_notify_wait_on_a_missing_lock_returns_at_once(tmp_path: Path) -> None:
    done = threading.Event()
    thread = threading.Thread(target=lambda: (dotlock.wait_for_change(str(tmp_path / "gone.lock"), 60),
                                              done.set()), daemon=True)
    thread.start()
    thread.join(30)
    assert done.is_set()


def test_notify_acquire_takes_a_lock_released_by_another_holder(tmp_path: Path) -> None:
    target = str(tmp_path / "dovecot-uidlist")
    held = dotlock.acquire(target, timeout=10, stale_timeout=120)
    timer = threading.Timer(0.05, held.release)
    timer.start()
    lock = dotlock.acquire(target, timeout=30, stale_timeout=120, notify=True)
    assert lock.is_ours()
    lock.release()
    timer.join()
