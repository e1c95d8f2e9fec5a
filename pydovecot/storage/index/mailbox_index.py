"""Our per-mailbox index: what Maildir itself does not keep.

Dovecot keeps ``dovecot.index``/``dovecot.index.cache``; we keep ``pydovecot.index`` beside
them (in the mailbox's INDEX or control directory) and never touch Dovecot's files, so both
servers can take turns on one Maildir. It holds, per UID: the modseq of the last change,
flags and keywords as last seen (to notice changes made by others), physical and virtual
size, INTERNALDATE and save date; per mailbox: UIDVALIDITY (a different one resets the
index), the highest modseq, the UIDs already handed out as ``\\Recent``, and the modseqs of
recent expunges (QRESYNC's VANISHED).

The file is a ``marshal`` dump (fast to load for 100,000 messages, no code execution on
load), written to a temporary name and renamed over the old one: a crash leaves the old or
the new index. A lost index costs a rebuild: every message gets a fresh modseq, so clients
that cached modseqs see everything as changed, which is correct, only slower.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from pydovecot.storage.access import WouldBlock, inline_call

INDEX_NAME = "pydovecot.index"
LOG_NAME = "pydovecot.index.log"
LOCK_NAME = "pydovecot.index.lock"
FORMAT_VERSION = 2
LOG_FORMAT = 1
# How many expunges the index remembers for VANISHED (EARLIER); older ones mean a full resync.
MAX_EXPUNGED_KEPT = 10000
# The log is folded into a rewritten index once it is this large.
MAX_LOG_BYTES = 256 * 1024

# Entry layout in the marshal dump: (uid, flags, keywords, modseq, size, vsize, internaldate, savedate, filename)
Entry = tuple[int, str, tuple[str, ...], int, int, int, float, float, str]

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


class _Entries(dict[int, Entry]):
    """The entries, noting which UIDs changed since the last save (what the log record holds)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.changed: set[int] = set()
        self.cleared = False

    def __setitem__(self, uid: int, entry: Entry) -> None:
        super().__setitem__(uid, entry)
        self.changed.add(uid)

    def __delitem__(self, uid: int) -> None:
        super().__delitem__(uid)
        self.changed.add(uid)

    def pop(self, uid: int, *default: object) -> object:  # type: ignore[override]
        self.changed.add(uid)
        return super().pop(uid, *default)

    def clear(self) -> None:
        super().clear()
        self.cleared = True

    def saved(self) -> None:
        self.changed = set()
        self.cleared = False


@dataclass
class IndexData:
    uidvalidity: int = 0
    highest_modseq: int = 1
    recent_taken_uid: int = 0
    entries: dict[int, Entry] = field(default_factory=_Entries)
    expunged: list[tuple[int, int]] = field(default_factory=list)  # (uid, modseq)
    dirty: bool = False
    base_id: int = 0
    """Which rewrite of the index file this is: log records name it (0: none written yet)."""
    expunged_saved: int = 0
    """How many of :attr:`expunged` the files already hold."""

    def next_modseq(self) -> int:
        self.dirty = True
        self.highest_modseq += 1
        return self.highest_modseq


def _path(index_dir: str) -> str:
    return os.path.join(index_dir, INDEX_NAME)


def _log_path(index_dir: str) -> str:
    return os.path.join(index_dir, LOG_NAME)


def load_index(index_dir: str) -> IndexData:
    """The index file with its log's records applied (a torn last record is left out)."""
    try:
        with open(_path(index_dir), "rb") as f:
            raw = marshal.load(f)
    except (FileNotFoundError, EOFError, ValueError, TypeError):
        return IndexData()
    if isinstance(raw, tuple) and len(raw) == 6 and raw[0] == 1:
        raw = (FORMAT_VERSION, 0, *raw[1:])  # the format before the log: rewritten at the next save
    if not isinstance(raw, tuple) or len(raw) != 7 or raw[0] != FORMAT_VERSION:
        return IndexData()
    _, base_id, uidvalidity, highest, recent, entries, expunged = raw
    data = IndexData(uidvalidity, highest, recent, _Entries({e[0]: e for e in entries}), list(expunged),
                     base_id=base_id)
    _replay_log(index_dir, data)
    data.entries.saved()  # type: ignore[attr-defined]
    data.expunged_saved = len(data.expunged)
    return data


def _replay_log(index_dir: str, data: IndexData) -> None:
    try:
        with open(_log_path(index_dir), "rb") as f:
            log = f.read()
    except FileNotFoundError:
        return
    pos = 0
    while pos + 4 <= len(log):
        length = int.from_bytes(log[pos:pos + 4], "little")
        if pos + 4 + length > len(log):
            break  # torn by a crash: the change is lost, the next sync sees the Maildir as it is
        try:
            record = marshal.loads(log[pos + 4:pos + 4 + length])
        except (EOFError, ValueError, TypeError):
            break
        pos += 4 + length
        if not isinstance(record, tuple) or len(record) != 8 or record[0] != LOG_FORMAT:
            break
        _, base_id, uidvalidity, highest, recent, changed, removed, expunged = record
        if base_id != data.base_id:
            break  # left over from before the index was rewritten
        data.uidvalidity, data.highest_modseq, data.recent_taken_uid = uidvalidity, highest, recent
        for entry in changed:
            dict.__setitem__(data.entries, entry[0], entry)
        for uid in removed:
            dict.pop(data.entries, uid, None)
        data.expunged.extend(expunged)


def save_index(index_dir: str, data: IndexData) -> None:
    """Append the changes to the log; rewrite the whole index when the log has grown (or after
    a UIDVALIDITY reset). Appending instead of renaming a new file over the old for every
    flag change: a rename over an existing file costs a flush on ext4 (auto_da_alloc)."""
    entries = data.entries
    if isinstance(entries, _Entries) and data.base_id and not entries.cleared \
            and len(data.expunged) >= data.expunged_saved and _append_log(index_dir, data, entries):
        entries.saved()
        data.expunged_saved = len(data.expunged)
        return
    _rewrite(index_dir, data)


def _append_log(index_dir: str, data: IndexData, entries: _Entries) -> bool:
    changed = tuple(entries[uid] for uid in sorted(entries.changed) if uid in entries)
    removed = tuple(sorted(uid for uid in entries.changed if uid not in entries))
    record = marshal.dumps((LOG_FORMAT, data.base_id, data.uidvalidity, data.highest_modseq,
                            data.recent_taken_uid, changed, removed, tuple(data.expunged[data.expunged_saved:])))
    fd = os.open(_log_path(index_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size + len(record) > MAX_LOG_BYTES:
            return False
        # One write: a crash leaves the record whole or torn, never interleaved with another.
        os.write(fd, len(record).to_bytes(4, "little") + record)
    finally:
        os.close(fd)
    return True


def _rewrite(index_dir: str, data: IndexData) -> None:
    tmp = _path(index_dir) + f".tmp.{os.getpid()}.{threading.get_ident()}"
    data.base_id = int.from_bytes(os.urandom(8), "little") or 1
    del data.expunged[:-MAX_EXPUNGED_KEPT]
    payload = (FORMAT_VERSION, data.base_id, data.uidvalidity, data.highest_modseq, data.recent_taken_uid,
               tuple(data.entries[uid] for uid in sorted(data.entries)), tuple(data.expunged))
    with _create(index_dir, tmp, "wb") as f:
        marshal.dump(payload, f)
    # No fsync: the index is a cache of Maildir state plus modseqs; losing it costs a rebuild.
    os.replace(tmp, _path(index_dir))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_log_path(index_dir))  # its records name the old base_id: ignored if this is lost
    if isinstance(data.entries, _Entries):
        data.entries.saved()
    data.expunged_saved = len(data.expunged)


# index_dir -> (the file's stat key, the data loaded from or saved to it): while the file is
# unchanged (no other process wrote it) a lock holder reuses the data instead of loading again.
_loaded: dict[str, tuple[tuple[int, ...], IndexData]] = {}


def index_stat_key(index_dir: str) -> tuple[int, ...] | None:
    """What changes whenever anyone saves: the index file's identity and its log's."""
    try:
        st = os.stat(_path(index_dir))
    except FileNotFoundError:
        return None
    try:
        log = os.stat(_log_path(index_dir))
        log_key: tuple[int, ...] = (log.st_ino, log.st_size, log.st_mtime_ns)
    except FileNotFoundError:
        log_key = ()
    return (st.st_ino, st.st_size, st.st_mtime_ns, *log_key)


@contextlib.contextmanager
def locked_index(index_dir: str) -> Iterator[IndexData]:
    """Read-modify-write the index under a process-wide and a file lock; saved on normal exit.

    In an inline storage call (on the event loop) both locks are only tried: held elsewhere,
    the call goes to a thread (see ``access.run_light``)."""
    on_loop = inline_call()
    thread_lock = _thread_lock(index_dir)
    if not thread_lock.acquire(blocking=not on_loop):
        raise WouldBlock
    try:
        with _create(index_dir, os.path.join(index_dir, LOCK_NAME), "a+b") as lockfile:
            _flock(lockfile.fileno(), on_loop)
            try:
                yield from _locked(index_dir)
            finally:
                fcntl.flock(lockfile.fileno(), fcntl.LOCK_UN)
    finally:
        thread_lock.release()


def _flock(fd: int, on_loop: bool) -> None:
    if not on_loop:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise WouldBlock from None


def _locked(index_dir: str) -> Iterator[IndexData]:
    key = index_stat_key(index_dir)
    cached = _loaded.get(index_dir)
    data = cached[1] if cached is not None and key is not None and cached[0] == key else load_index(index_dir)
    data.dirty = False
    try:
        yield data
    except BaseException:
        _loaded.pop(index_dir, None)  # possibly half-changed: load afresh next time
        raise
    if data.dirty:
        save_index(index_dir, data)
        data.dirty = False
    new_key = index_stat_key(index_dir)
    if new_key is not None:
        _loaded[index_dir] = (new_key, data)


def _create(index_dir: str, path: str, mode: str) -> BinaryIO:
    """``open(path, mode)`` for a file in ``index_dir``, making the directory when it is missing
    (only then: a makedirs before every open was three syscalls on the busiest path)."""
    try:
        return open(path, mode)  # type: ignore[return-value]
    except FileNotFoundError:
        os.makedirs(index_dir, mode=0o700, exist_ok=True)
        return open(path, mode)  # type: ignore[return-value]


def _thread_lock(index_dir: str) -> threading.Lock:
    with _thread_locks_guard:
        lock = _thread_locks.get(index_dir)
        if lock is None:
            lock = _thread_locks[index_dir] = threading.Lock()
        return lock
