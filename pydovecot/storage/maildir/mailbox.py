"""A maildir mailbox: sync, save, flag changes and expunge over one directory.

Synchronous; async callers run its methods in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

from .dotlock import DotLock
from .filename import set_flags
from .fsync import FsyncMode
from .save import keyword_indexes_for, save_message
from .sync import CUR_DIR, SyncedMessage, SyncResult, sync_locked, sync_mailbox
from .uidlist import lock_uidlist, read_uidlist, rewrite_uidlist


class MaildirMailbox:
    def __init__(
        self,
        path: str,
        *,
        control_dir: str | None = None,
        uidvalidity_dir: str | None = None,
        fsync: FsyncMode = FsyncMode.OPTIMIZED,
    ) -> None:
        self.path = path
        self.control_dir = control_dir or path
        self.uidvalidity_dir = uidvalidity_dir
        self.fsync = fsync

    def sync(self) -> SyncResult:
        return sync_mailbox(
            self.path, control_dir=self.control_dir, uidvalidity_dir=self.uidvalidity_dir, fsync=self.fsync
        )

    def save(
        self,
        data: bytes,
        *,
        flags: Iterable[str] = (),
        keywords: Iterable[str] = (),
        internaldate: float | None = None,
    ) -> tuple[int, str]:
        return save_message(
            self.path,
            data,
            flags=flags,
            keywords=keywords,
            internaldate=internaldate,
            fsync=self.fsync,
            control_dir=self.control_dir,
            uidvalidity_dir=self.uidvalidity_dir,
        )

    def set_flags(self, uid: int, flags: Iterable[str], keywords: Iterable[str] = ()) -> SyncedMessage | None:
        """Replace the message's system flags and keywords by renaming its file in ``cur/``.

        Returns the message as it now is, or None when ``uid`` does not exist (expunged).
        Unknown flag letters and extra info fields in the name are kept, as Dovecot does.
        """
        flags = list(flags)
        keywords = list(dict.fromkeys(keywords))
        with self._lock() as lock:
            msg = self._locked_sync(lock).by_uid(uid)
            if msg is None:
                return None
            indexes = keyword_indexes_for(self.control_dir, keywords, fsync=self.fsync)
            new_name = set_flags(msg.filename, flags, indexes)
            if new_name != msg.filename or msg.subdir != CUR_DIR:
                os.rename(os.path.join(self.path, msg.relpath), os.path.join(self.path, CUR_DIR, new_name))
            return self._locked_sync(lock).by_uid(uid)

    def expunge(self, uid: int) -> bool:
        """Delete the message's file and its uidlist record. False when already gone."""
        with self._lock() as lock:
            msg = self._locked_sync(lock).by_uid(uid)
            if msg is None:
                return False
            try:
                os.unlink(os.path.join(self.path, msg.relpath))
            except FileNotFoundError:
                return False
            current = read_uidlist(self.control_dir)
            if current is not None:
                # N stays: the expunged UID is never given out again.
                kept = tuple(rec for rec in current.records if rec.uid != uid)
                updated = replace(
                    current, records=kept, next_uid=current.next_uid_effective, partial_tail=b""
                )
                rewrite_uidlist(self.control_dir, updated, lock, fsync=self.fsync)
            return True

    def _lock(self) -> DotLock:
        return lock_uidlist(self.control_dir)

    def _locked_sync(self, lock: DotLock) -> SyncResult:
        return sync_locked(
            self.path,
            lock,
            control_dir=self.control_dir,
            uidvalidity_dir=self.uidvalidity_dir,
            fsync=self.fsync,
        )
