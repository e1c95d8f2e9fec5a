"""A Maildir mailbox with our index on top: the :class:`~pydovecot.storage.interface.Mailbox`
the protocols use.

Each operation takes the Maildir's ``dovecot-uidlist.lock`` while it touches files (as Dovecot
does, so both can work on the same Maildir), then records what changed in the index under the
index lock. Flag changes made by anyone else are noticed at the next sync by comparing the file
name's flags with the index, and get a new modseq then.

A full sync of an unchanged Maildir is skipped twice over: within this process by the last
snapshot, and across processes by ``pydovecot.index.stamp`` (the Maildir's stamp, the index
file's identity and the file names as of the last full sync), so a new session SELECTs a big,
quiet mailbox from the index alone, as Dovecot does from ``dovecot.index``.

Our own changes (append, store, expunge) know exactly what they changed: under the uidlist
lock they update the cached snapshot and the index in place instead of leaving a rescan to the
next command. Within ``_settle_ns`` of a change, mtimes alone are not trusted; listing cur/
and new/ against the cached names (no uidlist parse, no index load) then says whether anyone
else changed something. One STORE or EXPUNGE is one transaction, as in Dovecot: the messages
it changes share one new modseq.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import marshal
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .access import charge, inline_call, may_block
from .index.mailbox_index import Entry, IndexData, index_stat_key, locked_index
from .interface import MailboxError, MailboxSnapshot, MailboxStatus, MessageInfo, StoreAction, StoreResult
from .maildir.dotlock import DotLock
from .maildir.filename import parse_info_flags, physical_size_from_name, set_flags, size_field
from .maildir.frozen import build
from .maildir.fsync import FsyncMode
from .maildir.keywords import read_keywords
from .maildir.permissions import is_no_space
from .maildir.save import SavedMessage, keyword_indexes_for, save_hardlink, save_message, virtual_size
from .maildir.sync import CUR_DIR, SyncedMessage, SyncResult, keyword_names, sync_locked
from .maildir.uidlist import lock_uidlist, read_uidlist_cached, rewrite_uidlist

_FLAGS_SEP = " "


@dataclass(frozen=True)
class _Located:
    info: MessageInfo
    relpath: str


class MaildirIndexedMailbox:
    def __init__(self, vname: str, path: str, *, control_dir: str | None = None, index_dir: str | None = None,
                 uidvalidity_dir: str | None = None, fsync: FsyncMode = FsyncMode.OPTIMIZED,
                 save_crlf: bool = False, copy_with_hardlinks: bool = True, empty_new: bool = False,
                 very_dirty_syncs: bool = False, broken_filename_sizes: bool = False,
                 privileged_gid: int | None = None) -> None:
        self.privileged_gid = privileged_gid
        """``mail_privileged_group``'s gid (see maildir/permissions.py)."""
        self.vname = vname
        self.save_crlf = save_crlf
        self.copy_with_hardlinks = copy_with_hardlinks
        """``maildir_copy_with_hardlinks``: COPY into another Maildir of ours links the file."""
        self.empty_new = empty_new
        """``maildir_empty_new``: move new/ mail to cur/ at every sync, not only when \\Recent is taken."""
        self.very_dirty_syncs = very_dirty_syncs
        """``maildir_very_dirty_syncs``: trust unchanged directory mtimes even within their granularity."""
        self.broken_filename_sizes = broken_filename_sizes
        """``maildir_broken_filename_sizes``: ignore ``,S=`` in names (stat the file instead)."""
        self.path = path
        self.control_dir = control_dir or path
        self.index_dir = index_dir or self.control_dir
        self.uidvalidity_dir = uidvalidity_dir
        self.fsync = fsync
        self._files: dict[int, str] = {}

    # --- sync --------------------------------------------------------------------------------

    def sync(self, *, take_recent: bool = False, move_new: bool | None = None) -> MailboxSnapshot:
        """``move_new``: whether new/ mail moves to cur/ (default: yes, as a SELECT or a POP3
        session does). Dovecot leaves new/ alone where nobody takes \\Recent: STATUS (see
        :meth:`status`), EXAMINE and POP3 with ``pop3_no_flag_updates`` pass False, unless
        ``maildir_empty_new`` asks to move at every sync."""
        move_new = True if move_new is None else (move_new or self.empty_new)
        stamped = _stamp_now(self.path, self.control_dir)
        cached = self._trusted_cache(stamped, move_new=move_new)
        if cached is not None:
            # Nothing in the Maildir changed since the last full sync or our own last change
            # (in any session of this process): no uidlist parse, no index load.
            if take_recent and cached.has_unclaimed_recent:
                claimed = self._claim_recent(cached)
                if claimed is not None:
                    return claimed
            else:
                self._files = cached.files
                return cached.snapshot
        if stamped is not None and self._settled(stamped[1], time.time_ns()):
            warm = self._sync_from_saved_stamp(stamped[0], take_recent, move_new)
            if warm is not None:
                return warm
        with self._lock() as lock:
            scanned_ns = time.time_ns()
            result = self._maildir_sync(lock, move_new=move_new)
            with locked_index(self.index_dir) as index:
                messages = self._update_index(index, result)
                recent = self._recent(index, messages, take_recent)
                snapshot = MailboxSnapshot(result.uid_validity, result.next_uid, index.highest_modseq,
                                           tuple(messages), recent)
                unclaimed = bool(messages) and messages[-1].uid > index.recent_taken_uid
            # Stamped after the scan and under the lock: our own moves and appends are in it;
            # anyone's unlocked change since the scan makes the next sync list the directories.
            self._remember(snapshot, self._files, unclaimed, scanned_ns, save=True)
        return snapshot

    def _settled(self, newest_ns: int, verified_ns: int) -> bool:
        """Whether a listing at ``verified_ns`` still holds while the stamp is unchanged: any
        later change moves a directory's mtime past ``newest_ns``, unless it came within the
        mtime's granularity (see ``_settle_ns``)."""
        return self.very_dirty_syncs or verified_ns > newest_ns + _settle_ns(newest_ns)

    def _trusted_cache(self, stamped: tuple[tuple[int, ...], int] | None, *,
                       move_new: bool = False) -> _CachedSnapshot | None:
        """The process's last snapshot of this mailbox when it still describes the Maildir."""
        cached = _SNAPSHOTS.get(self.index_dir)
        if stamped is None or cached is None or cached.stamp != stamped[0]:
            return None
        if move_new and cached.has_new:
            return None  # new/ mail must move to cur/ now: that is a real sync
        if self._settled(stamped[1], cached.verified_ns):
            return cached
        # Changed too recently to trust mtimes alone: the names say whether anything changed.
        listed_ns = time.time_ns()
        if not _listing_matches(self.path, cached.files):
            return None
        cached.verified_ns = listed_ns
        return cached

    def _claim_recent(self, cached: _CachedSnapshot) -> MailboxSnapshot | None:
        with locked_index(self.index_dir) as index:
            if index.highest_modseq != cached.snapshot.highestmodseq:
                return None
            recent = self._recent(index, list(cached.snapshot.messages), True)
        cached.has_unclaimed_recent = False
        self._files = cached.files
        return replace(cached.snapshot, recent_uids=recent)

    def _remember(self, snapshot: MailboxSnapshot, files: dict[int, str], unclaimed: bool, verified_ns: int,
                  *, save: bool = False) -> None:
        """Cache ``snapshot`` as the Maildir's state now; the caller holds the uidlist lock."""
        stamped = _stamp_now(self.path, self.control_dir)
        if stamped is None:
            _SNAPSHOTS.pop(self.index_dir, None)
            return
        has_new = any(rel.startswith("new/") for rel in files.values())
        _SNAPSHOTS[self.index_dir] = _CachedSnapshot(stamped[0], replace(snapshot, recent_uids=frozenset()),
                                                     files, unclaimed, verified_ns, has_new)
        if save and self._settled(stamped[1], verified_ns):
            _save_stamp(self.index_dir, stamped[0], snapshot.uidnext, files)

    def _sync_from_saved_stamp(self, stamp: tuple[int, ...], take_recent: bool,
                               move_new: bool) -> MailboxSnapshot | None:
        """A new process opening an unchanged Maildir: the index already says everything.

        The last full sync saved the Maildir's stamp (see :func:`_stamp`) with the index's
        identity and the file names; when both still match, the snapshot comes from the index
        alone, as Dovecot's index serves a SELECT without reading cur/. None: sync fully.
        """
        saved = _load_stamp(self.index_dir)
        if saved is None or saved[0] != stamp:
            return None
        _, index_id, uidnext, files = saved
        if move_new and any(rel.startswith("new/") for rel in files.values()):
            return None  # new/ mail must move to cur/ now: that is a real sync
        with locked_index(self.index_dir) as index:
            if _index_identity(self.index_dir) != index_id or len(index.entries) != len(files):
                return None
            messages = [_info_from_entry(index.entries[uid]) for uid in sorted(index.entries)]
            recent = self._recent(index, messages, take_recent)
            snapshot = MailboxSnapshot(index.uidvalidity, uidnext, index.highest_modseq, tuple(messages), recent)
            unclaimed = bool(messages) and messages[-1].uid > index.recent_taken_uid
        self._files = files
        has_new = any(rel.startswith("new/") for rel in files.values())
        _SNAPSHOTS[self.index_dir] = _CachedSnapshot(stamp, replace(snapshot, recent_uids=frozenset()),
                                                     files, unclaimed, time.time_ns(), has_new)
        if recent:
            _save_stamp(self.index_dir, stamp, uidnext, files)  # the index was rewritten
        return snapshot

    def _maildir_sync(self, lock: DotLock, *, move_new: bool = False) -> SyncResult:
        result = sync_locked(self.path, lock, control_dir=self.control_dir,
                             uidvalidity_dir=self.uidvalidity_dir, fsync=self.fsync, move_new=move_new,
                             privileged_gid=self.privileged_gid)
        self._files = {msg.uid: f"{msg.subdir}/{msg.filename}" for msg in result.messages}
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
        size = physical_size_from_name(msg.filename, broken_filename_sizes=self.broken_filename_sizes) or size
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
        snap = self.sync(move_new=False)
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
                    if inline_call():  # the size matters only to an inline call's budget
                        charge(os.fstat(f.fileno()).st_size)
                    return f.read()
            except FileNotFoundError:
                self._files = {k: v for k, v in self._files.items() if k != uid}  # shared with the cache
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
                                  uidvalidity_dir=self.uidvalidity_dir, stored=stored,
                                  privileged_gid=self.privileged_gid, on_saved=self._saved)
        except OSError as exc:
            raise _storage_error(exc) from exc
        return uid

    def _saved(self, saved: SavedMessage) -> None:
        """Add a message we just saved to the cached snapshot (the uidlist lock is held), when
        the Maildir is otherwise still as cached: then the next command needs no rescan."""
        try:
            self._add_saved(saved)
        except OSError:
            _SNAPSHOTS.pop(self.index_dir, None)  # only an optimisation: the next sync rescans

    def _add_saved(self, saved: SavedMessage) -> None:
        cached = _SNAPSHOTS.get(self.index_dir)
        if cached is None:
            return  # nothing cached to extend (a delivery with no session open): skip the read
        current = read_uidlist_cached(self.control_dir)  # parsed by the save: no I/O
        if (current is None or saved.uid != cached.snapshot.uidnext
                or current.uid_validity != cached.snapshot.uidvalidity):
            _SNAPSHOTS.pop(self.index_dir, None)
            return
        files = {**cached.files, saved.uid: f"{saved.subdir}/{saved.filename}"}
        listed_ns = time.time_ns()
        if not _listing_matches(self.path, files):
            _SNAPSHOTS.pop(self.index_dir, None)
            return
        names = keyword_names(saved.filename, read_keywords(self.control_dir)) if ":2," in saved.filename else ()
        msg = SyncedMessage(saved.uid, saved.filename, saved.subdir, parse_info_flags(saved.filename).system_flags,
                            names)
        with locked_index(self.index_dir) as index:
            if index.highest_modseq != cached.snapshot.highestmodseq or saved.uid in index.entries:
                _SNAPSHOTS.pop(self.index_dir, None)
                return
            info = _info(self._new_entry(index, msg, _flags_text(msg.flags)), msg)
            snapshot = replace(cached.snapshot, uidnext=saved.uid + 1, highestmodseq=index.highest_modseq,
                               messages=(*cached.snapshot.messages, info))
        self._remember(snapshot, files, True, listed_ns)

    def saved_form(self, data: bytes) -> bytes:
        """The message as it goes to disk: with ``mail_save_crlf = no`` (the default) Dovecot
        stores LF line endings."""
        return data if self.save_crlf else data.replace(b"\r\n", b"\n")

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str], keywords: Iterable[str] = (),
              *, unchanged_since: int | None = None) -> StoreResult:
        """One transaction, as Dovecot's: every message it changes gets the same new modseq,
        and HIGHESTMODSEQ rises once."""
        flags = frozenset(flags)
        keywords = tuple(dict.fromkeys(keywords))
        if keywords:
            may_block()  # a new keyword is written (and flushed) after earlier renames
        wanted = set(uids)
        changed: list[MessageInfo] = []
        refused: list[int] = []
        with self._lock() as lock:
            state = self._locked_state(lock)
            with locked_index(self.index_dir) as index:
                current, files = state.current(self, index)
                modseq = 0
                for uid in sorted(wanted & current.keys()):
                    info = current[uid]
                    if unchanged_since is not None and info.modseq > unchanged_since:
                        refused.append(uid)
                        continue
                    new_flags, new_keywords = _apply(action, info, flags, keywords)
                    if new_flags == info.flags and new_keywords == info.keywords:
                        continue
                    new_rel = self._rename(uid, files[uid], new_flags, new_keywords)
                    files[uid] = new_rel
                    modseq = modseq or index.next_modseq()
                    entry = index.entries[uid]
                    entry = (uid, _flags_text(new_flags), new_keywords, modseq, *entry[4:])
                    index.entries[uid] = entry
                    changed.append(_info_of_name(entry, new_rel))
                highest = index.highest_modseq
                unclaimed = bool(current) and max(current) > index.recent_taken_uid
            state.done(self, files, {m.uid: m for m in changed}, (), highest, unclaimed)
        return StoreResult(tuple(changed), tuple(refused))

    def _locked_state(self, lock: DotLock) -> _LockedState:
        """What the Maildir holds now, for a change made under ``lock``: the cached snapshot
        when it still describes the Maildir, else a full sync."""
        verified_ns = time.time_ns()
        cached = self._trusted_cache(_stamp_now(self.path, self.control_dir))
        if cached is not None:
            return _LockedState(lock, cached.snapshot, dict(cached.files), None, cached.verified_ns)
        result = self._maildir_sync(lock)
        return _LockedState(lock, None, dict(self._files), result, verified_ns)

    def _rename(self, uid: int, relpath: str, flags: frozenset[str], keywords: tuple[str, ...]) -> str:
        indexes = keyword_indexes_for(self.control_dir, list(keywords), fsync=self.fsync)
        new_name = set_flags(relpath.partition("/")[2], flags, indexes)
        new_rel = os.path.join(CUR_DIR, new_name)
        if new_rel != relpath:
            os.rename(os.path.join(self.path, relpath), os.path.join(self.path, new_rel))
        return new_rel

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        """One transaction: the expunges share one new modseq."""
        done: list[int] = []
        with self._lock() as lock:
            state = self._locked_state(lock)
            files = state.files
            for uid in sorted(set(uids)):
                rel = files.get(uid)
                if rel is None:
                    continue
                try:
                    os.unlink(os.path.join(self.path, rel))
                except FileNotFoundError:
                    continue
                del files[uid]
                done.append(uid)
            if done:
                self._drop_from_uidlist(lock, set(done))
            with locked_index(self.index_dir) as index:
                state.current(self, index)
                modseq = index.next_modseq() if done else 0
                for uid in done:
                    if index.entries.pop(uid, None) is not None:
                        index.expunged.append((uid, modseq))
                highest = index.highest_modseq
                unclaimed = bool(index.entries) and max(index.entries) > index.recent_taken_uid
            state.done(self, files, {}, done, highest, unclaimed)
        self._files = files
        return tuple(done)

    def _drop_from_uidlist(self, lock: DotLock, uids: set[int]) -> None:
        current = read_uidlist_cached(self.control_dir)
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
            if info is None:
                continue
            new_uid = self._link_copy(info, target)
            if new_uid is None:
                data = self.read(uid)
                if data is None:
                    continue
                new_uid = target.append(data, flags=info.flags, keywords=info.keywords,  # type: ignore[attr-defined]
                                        internaldate=info.internaldate)
            pairs.append((uid, new_uid))
        return tuple(pairs)

    def _link_copy(self, info: MessageInfo, target: object) -> int | None:
        """Dovecot's ``maildir_copy_with_hardlinks``: the file is linked into the target's tmp/
        and renamed in, no data copied (same content, same mtime = INTERNALDATE). None when
        not possible here (a plugin wraps the target, another file system...): copy the bytes."""
        if not (self.copy_with_hardlinks and isinstance(target, MaildirIndexedMailbox)
                and target.save_crlf == self.save_crlf):
            return None
        source = self.path_of(info.uid)
        if source is None:
            return None
        try:
            saved = save_hardlink(target.path, source, size=info.size, vsize=info.vsize, flags=info.flags,
                                  keywords=info.keywords, fsync=target.fsync, control_dir=target.control_dir,
                                  uidvalidity_dir=target.uidvalidity_dir, privileged_gid=target.privileged_gid)
        except FileNotFoundError:
            return None  # expunged meanwhile, or renamed: the byte copy looks it up again
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES):
                return None
            raise _storage_error(exc) from exc
        return saved.uid

    def _lock(self) -> DotLock:
        try:
            return lock_uidlist(self.control_dir)
        except FileNotFoundError:
            # Created on first need only: a makedirs before every lock was three syscalls.
            os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
            return lock_uidlist(self.control_dir)


@dataclass
class _LockedState:
    """The Maildir as a change under the uidlist lock starts from (see ``_locked_state``)."""

    lock: DotLock
    snapshot: MailboxSnapshot | None
    """The cached snapshot, when it was still good (then ``result`` is None)."""
    files: dict[int, str]
    """uid -> name relative to the Maildir; the caller's own copy, to change as it goes."""
    result: SyncResult | None
    """The full sync's result, when there was no good snapshot."""
    verified_ns: int

    def current(self, box: MaildirIndexedMailbox,
                index: IndexData) -> tuple[dict[int, MessageInfo], dict[int, str]]:
        """Messages by UID (the index brought up to date first); sets :attr:`snapshot`."""
        if self.snapshot is not None and index.highest_modseq != self.snapshot.highestmodseq:
            # The index changed behind the cached snapshot (another process): sync it now.
            self.snapshot = None
            self.result = box._maildir_sync(self.lock)
            self.files = dict(box._files)
        if self.snapshot is None:
            assert self.result is not None
            messages = box._update_index(index, self.result)
            self.snapshot = MailboxSnapshot(self.result.uid_validity, self.result.next_uid, index.highest_modseq,
                                            tuple(messages), frozenset())
            self.result = None
        return {m.uid: m for m in self.snapshot.messages}, self.files

    def done(self, box: MaildirIndexedMailbox, files: dict[int, str], changed: dict[int, MessageInfo],
             expunged: Iterable[int], highest: int, unclaimed: bool) -> None:
        """Cache the Maildir as the change left it (the caller still holds the lock)."""
        box._files = files
        assert self.snapshot is not None
        gone = set(expunged)
        messages = tuple(changed.get(m.uid, m) for m in self.snapshot.messages if m.uid not in gone)
        snapshot = replace(self.snapshot, highestmodseq=highest, messages=messages)
        box._remember(snapshot, files, unclaimed, self.verified_ns)


@dataclass
class _CachedSnapshot:
    stamp: tuple[int, ...]
    snapshot: MailboxSnapshot
    files: dict[int, str]
    """uid -> name relative to the Maildir, as of ``stamp``; never changed in place."""
    has_unclaimed_recent: bool
    verified_ns: int
    """When the directories were last listed (before the listing) and matched ``files``."""
    has_new: bool


# index_dir -> the last full sync's result, shared by every session of this process.
_SNAPSHOTS: dict[str, _CachedSnapshot] = {}
# A directory changed this recently may change again within its mtime's granularity, unseen;
# such a directory is listed again. Linux stamps files from its coarse clock (one tick, 1-4 ms),
# some file systems (ext4 with small inodes, ext3, some NFS servers) in whole seconds.
_COARSE_TICK_NS = (int(time.clock_getres(time.CLOCK_REALTIME_COARSE) * 1e9)
                   if hasattr(time, "CLOCK_REALTIME_COARSE") else 10_000_000)
_FINE_SETTLE_NS = max(3 * _COARSE_TICK_NS, 10_000_000)
_SECOND_SETTLE_NS = 1_000_000_000 + _FINE_SETTLE_NS


def _settle_ns(newest_ns: int) -> int:
    """How long after ``newest_ns`` (the newest of a Maildir's directory and file mtimes) the
    mtimes alone say nothing changed: an mtime on a whole second most likely comes from a file
    system that stamps in seconds."""
    return _SECOND_SETTLE_NS if newest_ns % 1_000_000_000 == 0 else _FINE_SETTLE_NS


_STAMP_NAME = "pydovecot.index.stamp"
_STAMP_FORMAT = 1


def _index_identity(index_dir: str) -> tuple[int, ...] | None:
    return index_stat_key(index_dir)


def _save_stamp(index_dir: str, stamp: tuple[int, ...], uidnext: int, files: dict[int, str]) -> None:
    """Remember what the index describes: the Maildir's stamp, the index file, the names."""
    path = os.path.join(index_dir, _STAMP_NAME)
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    try:
        with open(tmp, "wb") as f:
            marshal.dump((_STAMP_FORMAT, stamp, _index_identity(index_dir), uidnext, files), f)
        os.replace(tmp, path)
    except OSError:
        # Only an optimisation: without it the next process syncs fully.
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _load_stamp(index_dir: str) -> tuple[tuple[int, ...], object, int, dict[int, str]] | None:
    try:
        with open(os.path.join(index_dir, _STAMP_NAME), "rb") as f:
            raw = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(raw, tuple) or len(raw) != 5 or raw[0] != _STAMP_FORMAT:
        return None
    _, stamp, index_id, uidnext, files = raw
    return tuple(stamp), index_id, uidnext, files


def _storage_error(exc: OSError) -> MailboxError:
    if is_no_space(exc):
        # A full disk or quota is temporary: Dovecot's MAIL_ERROR_NOQUOTA text and code.
        return MailboxError("Not enough disk space", "OVERQUOTA")
    return MailboxError(f"Internal error occurred. Refer to server log for more information. ({exc.strerror})",
                        "SERVERBUG")


def _stamp(path: str, control_dir: str, *, trust_recent: bool = False) -> tuple[int, ...] | None:
    """What a Maildir change always touches: cur/, new/, dovecot-uidlist, dovecot-keywords.
    None when it changed within ``_settle_ns`` (unless ``trust_recent``)."""
    stamped = _stamp_now(path, control_dir)
    if stamped is None or (stamped[1] > time.time_ns() - _settle_ns(stamped[1]) and not trust_recent):
        return None
    return stamped[0]


def _stamp_now(path: str, control_dir: str) -> tuple[tuple[int, ...], int] | None:
    """The stamp and its newest mtime (ns); None when the Maildir is incomplete."""
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
    return (cur.st_mtime_ns, cur.st_ino, new.st_mtime_ns, new.st_ino, uidlist.st_ino, uidlist.st_size,
            uidlist.st_mtime_ns, keywords), newest


def _listing_matches(path: str, files: dict[int, str]) -> bool:
    """Whether cur/ and new/ hold exactly the names in ``files`` (dot files are not mail)."""
    charge(64 * len(files))  # a listing of a large folder is no job for the event loop
    try:
        cur = os.listdir(os.path.join(path, CUR_DIR))
        new = os.listdir(os.path.join(path, "new"))
    except FileNotFoundError:
        return False
    if len(cur) + len(new) != len(files):
        cur = [n for n in cur if not n.startswith(".")]
        new = [n for n in new if not n.startswith(".")]
        if len(cur) + len(new) != len(files):
            return False
    expected_cur, expected_new = _names_by_dir(files)
    return set(cur) == expected_cur and set(new) == expected_new


# id(files) -> (files, its cur/ and new/ names): a cached ``files`` dict is never changed in
# place, so its names are split once however often the directories are listed against it.
_split_names: dict[int, tuple[dict[int, str], frozenset[str], frozenset[str]]] = {}


def _names_by_dir(files: dict[int, str]) -> tuple[frozenset[str], frozenset[str]]:
    hit = _split_names.get(id(files))
    if hit is not None and hit[0] is files:
        return hit[1], hit[2]
    cur = frozenset(rel[len(CUR_DIR) + 1:] for rel in files.values() if rel.startswith(CUR_DIR + "/"))
    new = frozenset(rel[4:] for rel in files.values() if rel.startswith("new/"))
    if len(_split_names) > 256:
        _split_names.clear()
    _split_names[id(files)] = (files, cur, new)
    return cur, new


def _flags_text(flags: Iterable[str]) -> str:
    if isinstance(flags, frozenset):
        return _frozen_flags_text(flags)
    return _FLAGS_SEP.join(sorted(flags))


@functools.lru_cache(maxsize=1024)
def _frozen_flags_text(flags: frozenset[str]) -> str:
    return _FLAGS_SEP.join(sorted(flags))


def _info_from_entry(entry: Entry) -> MessageInfo:
    uid, flags, keywords, modseq, size, vsize, internaldate, savedate, base = entry
    return build(MessageInfo, uid=uid, flags=_flag_set(flags), keywords=keywords, modseq=modseq, size=size,
                 vsize=vsize, internaldate=internaldate, savedate=savedate, guid=base)


def _info_of_name(entry: Entry, relpath: str) -> MessageInfo:
    uid, flags, keywords, modseq, size, vsize, internaldate, savedate, _base = entry
    return build(MessageInfo, uid=uid, flags=_flag_set(flags), keywords=keywords, modseq=modseq, size=size,
                 vsize=vsize, internaldate=internaldate, savedate=savedate,
                 guid=relpath.partition("/")[2].partition(":")[0])


def _info(entry: Entry, msg: SyncedMessage) -> MessageInfo:
    uid, flags, keywords, modseq, size, vsize, internaldate, savedate, _base = entry
    # See maildir/frozen.py: a full sync builds one per message.
    return build(MessageInfo, uid=uid, flags=_flag_set(flags), keywords=keywords, modseq=modseq, size=size,
                 vsize=vsize, internaldate=internaldate, savedate=savedate, guid=msg.filename.partition(":")[0])


@functools.lru_cache(maxsize=1024)
def _flag_set(text: str) -> frozenset[str]:
    # Few distinct flag combinations exist: share one frozenset per combination.
    return frozenset(text.split(_FLAGS_SEP)) if text else frozenset()


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
