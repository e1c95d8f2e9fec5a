"""dovecot-uidlist: goldens from Dovecot 2.3.19, Dovecot's corruption rules, the lock and
replace protocol, and property round trips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.storage.maildir import dotlock
from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir.fsync import FsyncMode

GOLDENS = Path(__file__).parent / "goldens" / "uidlist"
READABLE = sorted(p for p in GOLDENS.iterdir() if p.name != "version2_rejected.uidlist")


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
def test_golden_round_trip_is_byte_identical(path: Path) -> None:
    data = path.read_bytes()
    assert ul.parse_uidlist(data).to_bytes() == data


def test_size_extensions_and_lingering_expunge() -> None:
    doc = ul.parse_uidlist((GOLDENS / "inbox_size_exts.uidlist").read_bytes())
    assert (doc.version, doc.uid_validity, doc.next_uid) == (3, 1795619818, 12)
    assert doc.mailbox_guid == "344d7515eafb066be72f000083ecc375"
    recs = doc.by_uid()
    # A file delivered without ,S=/,W= gets S and W extensions instead.
    assert recs[8].extensions == ("S140", "W148")
    assert (recs[8].psize, recs[8].vsize) == (140, 148)
    assert recs[8].guid == "1700000000.M1P1.extmda"
    # Flags never reach the uidlist: only the base name is stored.
    assert recs[9].filename == "1700000001.12345_1.other.host"
    # uid 10 was expunged after this file was written; Dovecot keeps such records lazily.
    assert 10 in recs and 5 not in recs
    assert doc.uid_of("1795619833.M761766P12770.vm,S=142,W=150:2,FRab") == 2


def test_guid_extension_from_dsync() -> None:
    doc = ul.parse_uidlist((GOLDENS / "guid_exts.uidlist").read_bytes())
    assert [r.guid for r in doc.records] == [
        "0a6efb2778fc066b603d000083ecc375",
        "b3eac82878fc066b623d000083ecc375",
        "712c7d2978fc066b643d000083ecc375",
    ]
    # The header's N lags behind appended records: the next UID is 4, not 1.
    assert doc.next_uid == 1 and doc.next_uid_effective == 4


def test_version1_is_read_and_version2_is_refused() -> None:
    v1 = ul.parse_uidlist((GOLDENS / "version1_input.uidlist").read_bytes())
    assert (v1.version, v1.uid_validity, v1.next_uid) == (1, 1234567, 10)
    assert [(r.uid, r.base) for r in v1.records] == [(5, "1600000000.M1P1.h"), (7, "1600000001.M1P1.h")]
    # What real Dovecot made of it: same UIDs and UIDVALIDITY, now version 3.
    upgraded = ul.parse_uidlist((GOLDENS / "upgraded_from_v1.uidlist").read_bytes())
    assert [(r.uid, r.filename) for r in upgraded.records] == [(r.uid, r.base) for r in v1.records]
    assert (upgraded.uid_validity, upgraded.next_uid) == (1234567, 10)
    with pytest.raises(ul.UidlistCorruptError, match="Unsupported version 2"):
        ul.parse_uidlist((GOLDENS / "version2_rejected.uidlist").read_bytes())


HDR = b"3 V1 N5 G344d7515eafb066be72f000083ecc375\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"x V1 N1\n", "invalid version number"),
        (b"3 V0 N5 G344d7515eafb066be72f000083ecc375\n", "Broken header"),
        (b"3 V1 N5 Gnothex\n", "Invalid mailbox GUID"),
        (HDR + b"0 :a\n", "Invalid data"),
        (HDR + b"2 :a\n1 :b\n", "UIDs not ordered"),
        (HDR + b"2 :a\n2 :b\n", "UIDs not ordered"),
        (HDR + b"4294967295 :a\n", "UID too high"),
        (HDR + b"2 S1\n", "Invalid extended fields"),
        (HDR + b"2 :\n", "Invalid extended fields"),
        (HDR + b"2 :cur/a\n", "Broken filename"),
        (b"1 7 3\n3 a\n", "UID larger than next_uid"),
    ],
)
def test_corruption_as_dovecot_sees_it(data: bytes, reason: str) -> None:
    with pytest.raises(ul.UidlistCorruptError, match=reason):
        ul.parse_uidlist(data)


def test_lenient_reading_rules() -> None:
    doc = ul.parse_uidlist(
        HDR.replace(b"\n", b" Pxyz X1\n") + b"2  S1 sbad W3 :a b c\n4 :a\n6 :a b c\n7 :part"
    )
    # An extension not starting with A-Z is dropped; two spaces are fine; the file name runs
    # to the end of the line; the same name under a later UID wins; a partial line is ignored.
    assert doc.header_extensions == ("Pxyz", "X1")
    assert [(r.uid, r.filename, r.extensions) for r in doc.records] == [(4, "a", ()), (6, "a b c", ())]
    assert ul.parse_uidlist(HDR + b"2  S1 sbad W3 :a b c\n").records[0].extensions == ("S1", "W3")
    assert doc.partial_tail == b"7 :part"
    assert doc.next_uid_effective == 7


def test_record_extension_editing() -> None:
    rec = ul.UidlistRecord.for_file(3, "1.M1P1.h,S=5:2,S", ["W10", "G00"])
    assert rec.filename == "1.M1P1.h,S=5"
    rec2 = rec.with_ext("W", "11")
    assert rec2.extensions == ("G00", "W11")
    assert rec2.with_ext("G", None).extensions == ("W11",)
    with pytest.raises(ul.UidlistError):
        rec.with_ext("w", "1")


_name = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x7E, blacklist_characters="/:"),
    min_size=1,
    max_size=30,
)
_ext = st.tuples(
    st.sampled_from("SWGPOXZ"), st.text(alphabet="0123456789abcdefXYZ=", min_size=1, max_size=12)
).map("".join)


@st.composite
def uidlists(draw):
    uids = sorted(draw(st.sets(st.integers(1, ul.MAX_UID), max_size=8)))
    records = tuple(
        ul.UidlistRecord(
            uid=u, filename=f"{draw(_name)}{i}", extensions=tuple(draw(st.lists(_ext, max_size=3)))
        )
        for i, u in enumerate(uids)
    )
    return ul.Uidlist(
        uid_validity=draw(st.integers(1, 2**32 - 1)),
        next_uid=draw(st.integers(1, 2**32 - 1)),
        mailbox_guid=draw(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)),
        records=records,
        header_extensions=tuple(draw(st.lists(_ext.filter(lambda t: t[0] not in "VNG"), max_size=2))),
    )


@given(uidlists())
def test_uidlist_round_trip(doc: ul.Uidlist) -> None:
    data = doc.to_bytes()
    again = ul.parse_uidlist(data)
    assert again == doc
    assert again.to_bytes() == data
    ul.validate_for_write(doc)


# --- lock, append, replace -------------------------------------------------------------------


def _doc() -> ul.Uidlist:
    return ul.new_uidlist(1795619818, "344d7515eafb066be72f000083ecc375", next_uid=3).with_records(
        [ul.UidlistRecord.for_file(1, "1.M1P1.h,S=1,W=1:2,S"), ul.UidlistRecord.for_file(2, "2.M1P1.h")]
    )


def test_rewrite_then_append(tmp_path: Path) -> None:
    with ul.lock_uidlist(str(tmp_path), hostname="testhost") as lock:
        assert (tmp_path / "dovecot-uidlist.lock").read_bytes() == f"{os.getpid()}:testhost".encode()
        ul.rewrite_uidlist(str(tmp_path), _doc(), lock, fsync=FsyncMode.ALWAYS, mode=0o600)
        assert not (tmp_path / "dovecot-uidlist.tmp").exists()
        after = ul.append_records(str(tmp_path), [ul.UidlistRecord(5, "5.M1P1.h", ("W9",))], lock)
    assert not (tmp_path / "dovecot-uidlist.lock").exists()
    data = (tmp_path / "dovecot-uidlist").read_bytes()
    assert data == (
        b"3 V1795619818 N3 G344d7515eafb066be72f000083ecc375\n"
        b"1 :1.M1P1.h,S=1,W=1\n2 :2.M1P1.h\n5 W9 :5.M1P1.h\n"
    )
    assert oct((tmp_path / "dovecot-uidlist").stat().st_mode & 0o777) == "0o600"
    assert ul.read_uidlist(str(tmp_path)) == after
    assert after.next_uid_effective == 6


def test_append_refuses_lower_uids(tmp_path: Path) -> None:
    with ul.lock_uidlist(str(tmp_path)) as lock:
        ul.rewrite_uidlist(str(tmp_path), _doc(), lock)
        with pytest.raises(ul.UidlistError):
            ul.append_records(str(tmp_path), [ul.UidlistRecord(2, "x")], lock, fsync=FsyncMode.NEVER)


def test_write_requires_the_lock(tmp_path: Path) -> None:
    lock = ul.lock_uidlist(str(tmp_path))
    lock.release()
    with pytest.raises(ul.UidlistError):
        ul.rewrite_uidlist(str(tmp_path), _doc(), lock)


def test_live_lock_blocks_and_dead_lock_is_overridden(tmp_path: Path) -> None:
    lock_path = tmp_path / "dovecot-uidlist.lock"
    host = dotlock.system_hostname()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock_path.write_text(f"{child.pid}:{host}")
        old = 1_000_000
        os.utime(lock_path, (old, old))
        with pytest.raises(dotlock.LockTimeoutError):
            ul.lock_uidlist(str(tmp_path), nonblock=True)
    finally:
        child.kill()
        child.wait()
    # The owner is gone now: the next locker overrides the lock.
    with ul.lock_uidlist(str(tmp_path), nonblock=True) as lock:
        assert lock.is_ours()
        assert lock_path.read_text() == f"{os.getpid()}:{host}"


class _SteppingClock:
    """A clock that moves a second forward at each reading, so waits need no real time."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_stale_lock_without_pid_is_overridden_after_stale_timeout(tmp_path: Path) -> None:
    import time

    target = str(tmp_path / "dovecot-uidlist")
    lock_path = tmp_path / "dovecot-uidlist.lock"
    lock_path.write_text("12345:some-other-host")  # not our host: its pid cannot be checked
    start = time.time()
    with pytest.raises(dotlock.LockTimeoutError):
        dotlock.acquire(
            target, timeout=60, stale_timeout=120, clock=_SteppingClock(start), sleep=lambda s: None
        )
    assert lock_path.read_text() == "12345:some-other-host"
    clock = _SteppingClock(start)
    lock = dotlock.acquire(target, timeout=200, stale_timeout=120, clock=clock, sleep=lambda s: None)
    assert lock.is_ours()
    assert clock.now - start > 120  # only once nothing changed for stale_timeout seconds
    lock.release()


def test_lock_timeout_setting() -> None:
    assert dotlock.lock_timeout(122) == 122
    assert dotlock.lock_timeout(122, 30) == 30
    assert dotlock.lock_timeout(122, 300) == 122
