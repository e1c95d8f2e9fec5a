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

INDEX_NAME = "pydovecot.index"
LOCK_NAME = "pydovecot.index.lock"
FORMAT_VERSION = 1
# How many expunges the index remembers for VANISHED (EARLIER); older ones mean a full resync.
MAX_EXPUNGED_KEPT = 10000

# Entry layout in the marshal dump: (uid, flags, keywords, modseq, size, vsize, internaldate, savedate, filename)
Entry = tuple[int, str, tuple[str, ...], int, int, int, float, float, str]

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@dataclass
class IndexData:
    uidvalidity: int = 0
    highest_modseq: int = 1
    recent_taken_uid: int = 0
    entries: dict[int, Entry] = field(default_factory=dict)
    expunged: list[tuple[int, int]] = field(default_factory=list)  # (uid, modseq)
    dirty: bool = False

    def next_modseq(self) -> int:
        self.dirty = True
        self.highest_modseq += 1
        return self.highest_modseq


def _path(index_dir: str) -> str:
    return os.path.join(index_dir, INDEX_NAME)


def load_index(index_dir: str) -> IndexData:
    try:
        with open(_path(index_dir), "rb") as f:
            raw = marshal.load(f)
    except (FileNotFoundError, EOFError, ValueError, TypeError):
        return IndexData()
    if not isinstance(raw, tuple) or len(raw) != 6 or raw[0] != FORMAT_VERSION:
        return IndexData()
    _, uidvalidity, highest, recent, entries, expunged = raw
    return IndexData(uidvalidity, highest, recent, {e[0]: e for e in entries}, list(expunged))


def save_index(index_dir: str, data: IndexData) -> None:
    tmp = _path(index_dir) + f".tmp.{os.getpid()}.{threading.get_ident()}"
    payload = (FORMAT_VERSION, data.uidvalidity, data.highest_modseq, data.recent_taken_uid,
               tuple(data.entries[uid] for uid in sorted(data.entries)),
               tuple(data.expunged[-MAX_EXPUNGED_KEPT:]))
    with _create(index_dir, tmp, "wb") as f:
        marshal.dump(payload, f)
    # No fsync: the index is a cache of Maildir state plus modseqs; losing it costs a rebuild.
    os.replace(tmp, _path(index_dir))


# index_dir -> (the file's stat key, the data loaded from or saved to it): while the file is
# unchanged (no other process wrote it) a lock holder reuses the data instead of loading again.
_loaded: dict[str, tuple[tuple[int, int, int], IndexData]] = {}


def _stat_key(index_dir: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(_path(index_dir))
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def locked_index(index_dir: str) -> Iterator[IndexData]:
    """Read-modify-write the index under a process-wide and a file lock; saved on normal exit."""
    with _thread_lock(index_dir), _create(index_dir, os.path.join(index_dir, LOCK_NAME), "a+b") as lockfile:
        fcntl.flock(lockfile.fileno(), fcntl.LOCK_EX)
        try:
            key = _stat_key(index_dir)
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
            new_key = _stat_key(index_dir)
            if new_key is not None:
                _loaded[index_dir] = (new_key, data)
        finally:
            fcntl.flock(lockfile.fileno(), fcntl.LOCK_UN)


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
