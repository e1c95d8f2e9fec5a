"""A Maildir mailbox with our index on top: the :class:`~pydovecot.storage.interface.Mailbox`
the protocols use.

Each operation takes the Maildir's ``dovecot-uidlist.lock`` while it touches files (as Dovecot
does, so both can work on the same Maildir), then records what changed in the index under the
index lock. Flag changes made by anyone else are noticed at the next sync by comparing the file
name's flags with the index, and get a new modseq then.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .index.mailbox_index import Entry, IndexData, locked_index
from .interface import MailboxError, MailboxSnapshot, MailboxStatus, MessageInfo, StoreAction, StoreResult
from .maildir.dotlock import DotLock
from .maildir.filename import set_flags, size_field
from .maildir.fsync import FsyncMode
from .maildir.save import keyword_indexes_for, save_message, virtual_size
from .maildir.sync import CUR_DIR, SyncedMessage, SyncResult, sync_locked
from .maildir.uidlist import lock_uidlist, read_uidlist, rewrite_uidlist

_FLAGS_SEP = " "


@dataclass(frozen=True)
class _Located:
    info: MessageInfo
    relpath: str


class MaildirIndexedMailbox:
    def __init__(self, vname: str, path: str, *, control_dir: str | None = None, index_dir: str | None = None,
                 uidvalidity_dir: str | None = None, fsync: FsyncMode = FsyncMode.OPTIMIZED,
                 save_crlf: bool = False) -> None:
        self.vname = vname
        self.save_crlf = save_crlf
        self.path = path
        self.control_dir = control_dir or path
        self.index_dir = index_dir or self.control_dir
        self.uidvalidity_dir = uidvalidity_dir
        self.fsync = fsync
        self._files: dict[int, str] = {}

    # --- sync --------------------------------------------------------------------------------

    def sync(self, *, take_recent: bool = False) -> MailboxSnapshot:
        stamp = _stamp(self.path, self.control_dir)
        cached = _SNAPSHOTS.get(self.index_dir)
        if stamp is not None and cached is not None and cached.stamp == stamp and not (
                take_recent and cached.has_unclaimed_recent):
            # Nothing in the Maildir changed since the last full sync (in any session of this
            # process): no directory scan, no uidlist parse, no index load.
            self._files = cached.files
            return cached.snapshot
        with self._lock() as lock:
            result = self._maildir_sync(lock)
            with locked_index(self.index_dir) as index:
                messages = self._update_index(index, result)
                recent = self._recent(index, messages, take_recent)
                snapshot = MailboxSnapshot(result.uid_validity, result.next_uid, index.highest_modseq,
                                           tuple(messages), recent)
                unclaimed = bool(messages) and messages[-1].uid > index.recent_taken_uid
        if stamp is not None:
            # The stamp was taken before the scan: a change during it shows up as a new stamp.
            _SNAPSHOTS[self.index_dir] = _CachedSnapshot(stamp, replace(snapshot, recent_uids=frozenset()),
                                                         self._files, unclaimed)
        return snapshot

    def _maildir_sync(self, lock: DotLock) -> SyncResult:
        result = sync_locked(self.path, lock, control_dir=self.control_dir,
                             uidvalidity_dir=self.uidvalidity_dir, fsync=self.fsync)
        self._files = {msg.uid: msg.relpath for msg in result.messages}
        return result

    def _update_index(self, index: IndexData, result: SyncResult) -> list[MessageInfo]:
        if index.uidvalidity != result.uid_validity:
            index.uidvalidity = result.uid_validity
            index.entries.clear()
            index.expunged.clear()
            index.recent_taken_uid = 0
            index.dirty = True
        present = set()
        messages = []
        for msg in result.messages:
            present.add(msg.uid)
            entry = index.entries.get(msg.uid)
            flags = _flags_text(msg.flags)
            if entry is None:
                entry = self._new_entry(index, msg, flags)
            elif entry[1] != flags or entry[2] != msg.keywords:
                entry = (msg.uid, flags, msg.keywords, index.next_modseq(), *entry[4:])
                index.entries[msg.uid] = entry
            messages.append(_info(entry, msg))
        gone = [uid for uid in index.entries if uid not in present]
        for uid in gone:
            del index.entries[uid]
            index.expunged.append((uid, index.next_modseq()))
        return messages

    def _new_entry(self, index: IndexData, msg: SyncedMessage, flags: str) -> Entry:
        full = os.path.join(self.path, msg.relpath)
        try:
            st = os.stat(full)
            mtime, size = st.st_mtime, st.st_size
        except FileNotFoundError:
            mtime, size = time.time(), 0
        # S= is the message's size even when the file is stored compressed.
        size = size_field(msg.filename, "S") or size
        vsize = size_field(msg.filename, "W")
        if vsize is None:
            vsize = _file_vsize(full, size)
        entry: Entry = (msg.uid, flags, msg.keywords, index.next_modseq(), size, vsize, mtime, time.time(),
                        msg.base)
        index.entries[msg.uid] = entry
        return entry

    @staticmethod
    def _recent(index: IndexData, messages: list[MessageInfo], take: bool) -> frozenset[int]:
        if not take or not messages:
            return frozenset()
        recent = frozenset(m.uid for m in messages if m.uid > index.recent_taken_uid)
        if recent:
            index.recent_taken_uid = max(recent)
            index.dirty = True
        return recent

    def vanished_since(self, modseq: int) -> tuple[int, ...] | None:
        """UIDs expunged after ``modseq``; None when the index no longer remembers that far back."""
        with locked_index(self.index_dir) as index:
            if index.expunged and len(index.expunged) >= 10000 and index.expunged[0][1] > modseq:
                return None
            return tuple(uid for uid, mod in index.expunged if mod > modseq)

    # --- status and reading ------------------------------------------------------------------

    def status(self) -> MailboxStatus:
        snap = self.sync()
        with locked_index(self.index_dir) as index:
            recent = sum(1 for m in snap.messages if m.uid > index.recent_taken_uid)
        unseen = [m for m in snap.messages if "\\Seen" not in m.flags]
        return MailboxStatus(len(snap.messages), recent, snap.uidnext, snap.uidvalidity, len(unseen),
                             snap.highestmodseq, sum(m.vsize for m in snap.messages),
                             unseen[0].uid if unseen else None)

    def path_of(self, uid: int) -> str | None:
        for attempt in range(2):
            rel = self._files.get(uid)
            if rel is not None and os.path.exists(os.path.join(self.path, rel)):
                return os.path.join(self.path, rel)
            if attempt == 0:
                # Renamed by a flag change elsewhere, or never seen: look again.
                with self._lock() as lock:
                    self._maildir_sync(lock)
        return None

    def read(self, uid: int) -> bytes | None:
        for _ in range(3):
            path = self.path_of(uid)
            if path is None:
                return None
            try:
                with open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                self._files.pop(uid, None)
        return None

    def known_keywords(self) -> tuple[str, ...]:
        from .maildir.keywords import read_keywords

        return tuple(read_keywords(self.control_dir).names)

    # --- changes -----------------------------------------------------------------------------

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, stored: bytes | None = None) -> int:
        """``stored``: what to write instead of ``data`` (the zlib plugin's compressed form)."""
        data = self.saved_form(data)
        try:
            uid, _ = save_message(self.path, data, flags=flags, keywords=keywords, internaldate=internaldate,
                                  fsync=self.fsync, control_dir=self.control_dir,
                                  uidvalidity_dir=self.uidvalidity_dir, stored=stored)
        except OSError as exc:
            raise MailboxError(f"Internal error occurred. Refer to server log for more information. ({exc.strerror})",
                               "SERVERBUG") from exc
        return uid

    def saved_form(self, data: bytes) -> bytes:
        """The message as it goes to disk: with ``mail_save_crlf = no`` (the default) Dovecot
        stores LF line endings."""
        return data if self.save_crlf else data.replace(b"\r\n", b"\n")

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str], keywords: Iterable[str] = (),
              *, unchanged_since: int | None = None) -> StoreResult:
        flags = frozenset(flags)
        keywords = tuple(dict.fromkeys(keywords))
        wanted = set(uids)
        changed: list[MessageInfo] = []
        refused: list[int] = []
        with self._lock() as lock:
            result = self._maildir_sync(lock)
            with locked_index(self.index_dir) as index:
                current = {m.uid: m for m in self._update_index(index, result)}
                synced = {m.uid: m for m in result.messages}
                for uid in sorted(wanted & current.keys()):
                    info = current[uid]
                    if unchanged_since is not None and info.modseq > unchanged_since:
                        refused.append(uid)
                        continue
                    new_flags, new_keywords = _apply(action, info, flags, keywords)
                    if new_flags == info.flags and new_keywords == info.keywords:
                        continue
                    self._rename(synced[uid], new_flags, new_keywords)
                    entry = index.entries[uid]
                    entry = (uid, _flags_text(new_flags), new_keywords, index.next_modseq(), *entry[4:])
                    index.entries[uid] = entry
                    changed.append(_info(entry, synced[uid]))
        return StoreResult(tuple(changed), tuple(refused))

    def _rename(self, msg: SyncedMessage, flags: frozenset[str], keywords: tuple[str, ...]) -> None:
        indexes = keyword_indexes_for(self.control_dir, list(keywords))
        new_name = set_flags(msg.filename, flags, indexes)
        new_rel = os.path.join(CUR_DIR, new_name)
        if new_rel != msg.relpath:
            os.rename(os.path.join(self.path, msg.relpath), os.path.join(self.path, new_rel))
            self._files[msg.uid] = new_rel

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        done: list[int] = []
        with self._lock() as lock:
            result = self._maildir_sync(lock)
            by_uid = {m.uid: m for m in result.messages}
            for uid in sorted(set(uids)):
                msg = by_uid.get(uid)
                if msg is None:
                    continue
                try:
                    os.unlink(os.path.join(self.path, msg.relpath))
                except FileNotFoundError:
                    continue
                done.append(uid)
            if done:
                self._drop_from_uidlist(lock, set(done))
            with locked_index(self.index_dir) as index:
                for uid in done:
                    if index.entries.pop(uid, None) is not None:
                        index.expunged.append((uid, index.next_modseq()))
        for uid in done:
            self._files.pop(uid, None)
        return tuple(done)

    def _drop_from_uidlist(self, lock: DotLock, uids: set[int]) -> None:
        current = read_uidlist(self.control_dir)
        if current is None:
            return
        kept = tuple(rec for rec in current.records if rec.uid not in uids)
        updated = replace(current, records=kept, next_uid=current.next_uid_effective, partial_tail=b"")
        rewrite_uidlist(self.control_dir, updated, lock, fsync=self.fsync)

    def copy_to(self, uids: Sequence[int], target: object) -> tuple[tuple[int, int], ...]:
        snap = {m.uid: m for m in self.sync().messages}
        pairs = []
        for uid in sorted(set(uids)):
            info = snap.get(uid)
            data = self.read(uid) if info else None
            if info is None or data is None:
                continue
            new_uid = target.append(data, flags=info.flags, keywords=info.keywords,  # type: ignore[attr-defined]
                                    internaldate=info.internaldate)
            pairs.append((uid, new_uid))
        return tuple(pairs)

    def _lock(self) -> DotLock:
        os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
        return lock_uidlist(self.control_dir)


@dataclass(frozen=True)
class _CachedSnapshot:
    stamp: tuple[int, ...]
    snapshot: MailboxSnapshot
    files: dict[int, str]
    has_unclaimed_recent: bool


# index_dir -> the last full sync's result, shared by every session of this process.
_SNAPSHOTS: dict[str, _CachedSnapshot] = {}
# A directory changed this recently may change again within its mtime's granularity.
_SETTLE_NS = 2_000_000_000


def _stamp(path: str, control_dir: str) -> tuple[int, ...] | None:
    """What a Maildir change always touches: cur/, new/, dovecot-uidlist, dovecot-keywords."""
    try:
        cur = os.stat(os.path.join(path, CUR_DIR))
        new = os.stat(os.path.join(path, "new"))
        uidlist = os.stat(os.path.join(control_dir, "dovecot-uidlist"))
    except FileNotFoundError:
        return None
    try:
        keywords = os.stat(os.path.join(control_dir, "dovecot-keywords")).st_mtime_ns
    except FileNotFoundError:
        keywords = 0
    newest = max(cur.st_mtime_ns, new.st_mtime_ns, uidlist.st_mtime_ns, keywords)
    if newest > time.time_ns() - _SETTLE_NS:
        return None
    return (cur.st_mtime_ns, cur.st_ino, new.st_mtime_ns, new.st_ino, uidlist.st_ino, uidlist.st_size,
            uidlist.st_mtime_ns, keywords)


def _flags_text(flags: Iterable[str]) -> str:
    return _FLAGS_SEP.join(sorted(flags))


def _info(entry: Entry, msg: SyncedMessage) -> MessageInfo:
    uid, flags, keywords, modseq, size, vsize, internaldate, savedate, _base = entry
    return MessageInfo(uid, frozenset(flags.split(_FLAGS_SEP)) if flags else frozenset(), keywords, modseq,
                       size, vsize, internaldate, savedate, msg.base)


def _apply(action: StoreAction, info: MessageInfo, flags: frozenset[str],
           keywords: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    if action is StoreAction.REPLACE:
        return flags, keywords
    if action is StoreAction.ADD:
        return info.flags | flags, tuple(dict.fromkeys((*info.keywords, *keywords)))
    return info.flags - flags, tuple(k for k in info.keywords if k not in keywords)


def _file_vsize(path: str, size: int) -> int:
    try:
        with open(path, "rb") as f:
            return virtual_size(f.read())
    except FileNotFoundError:
        return size
