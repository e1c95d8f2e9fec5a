"""Maildir sync: make ``dovecot-uidlist`` agree with the files in ``new/`` and ``cur/``.

What one sync does, under ``dovecot-uidlist.lock`` (as Dovecot's maildir sync does):

- mail delivered to ``new/`` is moved to ``cur/`` with ``:2,`` appended, so later flag
  changes are plain renames inside ``cur/``;
- files the uidlist does not know get the next UIDs, in Dovecot's order (by the name's
  leading seconds, then its ``M`` microseconds, then the base name), appended to the file;
- existing UIDs are kept; records whose file vanished (expunged by another process) are
  dropped by rewriting the file, with ``N`` kept so no UID is ever handed out twice;
- a missing uidlist, or one Dovecot would call broken, is created afresh with a new
  UIDVALIDITY from ``dovecot-uidvalidity`` and a random mailbox GUID.

File I/O here is synchronous; async callers run it in a thread.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, replace

from . import dotlock, permissions
from .filename import FLAGS_INFO_PREFIX, INFO_SEP, base_name, parse_info_flags, sorted_for_uid_order
from .frozen import build
from .fsync import FsyncMode
from .keywords import Keywords, read_keywords
from .permissions import Permissions
from .uidlist import (
    Uidlist,
    UidlistCorruptError,
    UidlistRecord,
    append_records,
    lock_uidlist,
    new_uidlist,
    read_uidlist_cached,
    rewrite_uidlist,
)
from .uidvalidity import next_uidvalidity

NEW_DIR = "new"
CUR_DIR = "cur"
TMP_DIR = "tmp"


@dataclass(frozen=True)
class SyncedMessage:
    """One message as the sync left it."""

    uid: int
    filename: str
    """The file's current name (inside :attr:`subdir`)."""
    subdir: str
    """``cur`` (or ``new`` when the sync was told not to move new mail)."""
    flags: frozenset[str]
    """IMAP system flags from the ``:2,`` part."""
    keywords: tuple[str, ...]
    """Keyword names from the letters, via ``dovecot-keywords`` (``unknown-<n>`` if unnamed)."""

    @property
    def base(self) -> str:
        return base_name(self.filename)

    @property
    def relpath(self) -> str:
        return f"{self.subdir}/{self.filename}"


@dataclass(frozen=True)
class SyncResult:
    uid_validity: int
    next_uid: int
    """The UID the next new message will get."""
    messages: tuple[SyncedMessage, ...]
    """In UID order."""

    def by_uid(self, uid: int) -> SyncedMessage | None:
        for msg in self.messages:
            if msg.uid == uid:
                return msg
        return None


def ensure_maildir(path: str, mode: int = 0o700, *, perms: Permissions | None = None,
                   privileged_gid: int | None = None) -> None:
    """Create ``path`` and its ``cur/``, ``new/`` and ``tmp/`` if missing.

    ``perms``: what new directories get (see :mod:`.permissions`); by default those of
    ``path`` itself, or of the parent Dovecot would copy them from when ``path`` is new.
    ``mode`` is the directory mode when no permissions are found anywhere.
    """
    subs = [os.path.join(path, sub) for sub in (CUR_DIR, NEW_DIR, TMP_DIR)]
    if all(os.path.isdir(sub) for sub in subs):
        return
    if perms is None:
        perms = permissions.of_directory(path, privileged_gid=privileged_gid)
        if perms.gid_origin == "defaults" and mode != 0o700:
            perms = permissions.Permissions(mode & 0o666 | 0o600, mode | 0o700)
    permissions.make_dirs(path, perms)
    for sub in subs:
        permissions.make_dir(sub, perms)


def sync_mailbox(
    path: str,
    *,
    control_dir: str | None = None,
    uidvalidity_dir: str | None = None,
    move_new: bool = True,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    mail_max_lock_timeout: int = 0,
) -> SyncResult:
    """Sync the maildir at ``path`` (taking and releasing the uidlist lock).

    ``control_dir`` holds ``dovecot-uidlist``/``dovecot-keywords`` (default: ``path``);
    ``uidvalidity_dir`` holds the mailbox list root's ``dovecot-uidvalidity`` counter
    (default: ``control_dir``).
    """
    control = control_dir or path
    with lock_uidlist(control, mail_max_lock_timeout=mail_max_lock_timeout) as lock:
        return sync_locked(
            path,
            lock,
            control_dir=control,
            uidvalidity_dir=uidvalidity_dir,
            move_new=move_new,
            fsync=fsync,
        )


def sync_locked(
    path: str,
    lock: dotlock.DotLock,
    *,
    control_dir: str | None = None,
    uidvalidity_dir: str | None = None,
    move_new: bool = True,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    privileged_gid: int | None = None,
) -> SyncResult:
    """:func:`sync_mailbox` for a caller that already holds ``lock`` (the uidlist lock)."""
    control = control_dir or path
    ensure_maildir(path, privileged_gid=privileged_gid)
    cleanup_tmp(path)
    files = _scan(path, move_new)
    fperms = permissions.of_directory(control)
    current = _read_or_none(control)
    if current is None:
        current = new_uidlist(next_uidvalidity(uidvalidity_dir or control, mode=fperms.file_mode), uuid.uuid4().hex)
        rewrite_uidlist(control, current, lock, fsync=fsync, mode=fperms.file_mode, gid=fperms.gid,
                        privileged_gid=privileged_gid)
    elif current.mailbox_guid is None and current.version != 1:
        current = replace(current, mailbox_guid=uuid.uuid4().hex)
        rewrite_uidlist(control, current, lock, fsync=fsync, mode=fperms.file_mode, gid=fperms.gid,
                        privileged_gid=privileged_gid)

    bases = [rec.base for rec in current.records]
    known = set(bases)
    unknown = [name.partition(INFO_SEP)[0]
               for name in sorted_for_uid_order(files[b][1] for b in files if b not in known)]
    vanished = not known.issubset(files.keys())
    uid = current.next_uid_effective
    added = [UidlistRecord.for_file(uid + i, files[b][1]) for i, b in enumerate(unknown)]

    records_change = bool(vanished or current.partial_tail or added)
    if vanished or current.partial_tail:
        # Rewrite: drop records of expunged files; keep N above every UID ever given.
        kept = [rec for rec in current.records if rec.base in files] + added
        current = replace(
            current,
            records=tuple(kept),
            next_uid=uid + len(added),
            partial_tail=b"",
            version=3 if current.mailbox_guid else current.version,
        )
        rewrite_uidlist(control, current, lock, fsync=fsync, mode=fperms.file_mode, gid=fperms.gid,
                        privileged_gid=privileged_gid)
    elif added:
        current = append_records(control, added, lock, fsync=fsync)

    keywords = read_keywords(control)
    messages = []
    # name's info part -> (flags, keyword names): few distinct values, parsed once each.
    parsed: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}
    if records_change:
        bases = [rec.base for rec in current.records]  # the records changed above
    for rec, base in zip(current.records, bases, strict=True):
        entry = files.get(base)
        if entry is None:
            continue
        subdir, name = entry
        info = name[name.rfind(INFO_SEP) + 1 :] if INFO_SEP in name else ""
        flags_keywords = parsed.get(info)
        if flags_keywords is None:
            flags_keywords = parsed[info] = _flags_and_keywords(name, keywords)
        messages.append(build(SyncedMessage, uid=rec.uid, filename=name, subdir=subdir, flags=flags_keywords[0],
                              keywords=flags_keywords[1]))
    return SyncResult(
        uid_validity=current.uid_validity,
        next_uid=current.next_uid_effective,
        messages=tuple(messages),
    )


def sync_partial_locked(control: str, filename: str, lock: dotlock.DotLock, *,
                        fsync: FsyncMode = FsyncMode.OPTIMIZED) -> int | None:
    """Give one file just saved the next UID by appending its record, as Dovecot's save does
    (a partial sync: no directory scan; mail others left without a UID gets one at the next
    full sync). None when the uidlist needs a full sync's care (missing, broken, ending in an
    incomplete line, without a mailbox GUID)."""
    current = _read_or_none(control)
    if current is None or current.partial_tail or (current.mailbox_guid is None and current.version != 1):
        return None
    uid = current.next_uid_effective
    append_records(control, [UidlistRecord.for_file(uid, filename)], lock, fsync=fsync)
    return uid


def keyword_names(name: str, keywords: Keywords) -> tuple[str, ...]:
    info = parse_info_flags(name)
    return tuple(keywords.name_at(i) or f"unknown-{i}" for i in sorted(set(info.keyword_indexes)))


def _flags_and_keywords(name: str, keywords: Keywords) -> tuple[frozenset[str], tuple[str, ...]]:
    return parse_info_flags(name).system_flags, keyword_names(name, keywords)


def _read_or_none(control: str) -> Uidlist | None:
    try:
        return read_uidlist_cached(control)
    except UidlistCorruptError:
        # Dovecot deletes a broken uidlist and numbers all mail afresh under a new UIDVALIDITY.
        return None


def _scan(path: str, move_new: bool) -> dict[str, tuple[str, str]]:
    """base -> (subdir, current name). ``cur/`` wins when a base is in both."""
    found: dict[str, tuple[str, str]] = {}
    for name in _list(os.path.join(path, CUR_DIR)):
        found[name.partition(INFO_SEP)[0]] = (CUR_DIR, name)
    for name in _list(os.path.join(path, NEW_DIR)):
        base = name.partition(INFO_SEP)[0]
        if base in found:
            continue
        if not move_new:
            found[base] = (NEW_DIR, name)
            continue
        target = name if INFO_SEP in name else f"{name}{INFO_SEP}{FLAGS_INFO_PREFIX}"
        try:
            os.rename(os.path.join(path, NEW_DIR, name), os.path.join(path, CUR_DIR, target))
        except FileNotFoundError:
            # Moved or expunged by another process between listdir and rename; a file it
            # moved to cur/ has no UID yet and is picked up by the next sync.
            continue
        found[base] = (CUR_DIR, target)
    return found


# Dovecot: files in tmp/ whose atime and ctime are older than 36 hours are left-overs of
# failed saves; tmp/ is scanned for them at most every 8 hours (its atime says when).
TMP_DELETE_SECS = 36 * 60 * 60
TMP_SCAN_SECS = 8 * 60 * 60


def cleanup_tmp(path: str, *, now: float | None = None) -> list[str]:
    """Delete stale files from ``tmp/`` by Dovecot's rule; returns the names deleted."""
    tmp = os.path.join(path, TMP_DIR)
    try:
        st = os.stat(tmp)
    except FileNotFoundError:
        return []
    now = time.time() if now is None else now
    if st.st_atime > st.st_ctime + TMP_DELETE_SECS or st.st_atime >= now - TMP_SCAN_SECS:
        # Scanned recently (or emptied and untouched since): nothing to do yet.
        return []
    limit = now - TMP_DELETE_SECS
    deleted = []
    with os.scandir(tmp) as entries:
        for entry in entries:
            try:
                est = entry.stat(follow_symlinks=False)
                if est.st_atime < limit and est.st_ctime < limit and not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
                    deleted.append(entry.name)
            except FileNotFoundError:
                continue
    # Remember the scan in tmp/'s atime, as Dovecot does, so the next one waits 8 hours.
    os.utime(tmp, ns=(int(now * 1e9), st.st_mtime_ns))
    return deleted


def _list(directory: str) -> list[str]:
    # Dot files (and Dovecot's own temp names) are not mail.
    return [n for n in os.listdir(directory) if not n.startswith(".")]
