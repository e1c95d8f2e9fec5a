"""Saving a message into a maildir the way Dovecot 2.3 does.

Steps, each leaving the mailbox consistent if the process dies right after it:

1. write ``tmp/<base>`` (``O_EXCL``) and, unless ``mail_fsync = never``, ``fsync`` it:
   nothing in ``tmp/`` is visible mail (Dovecot deletes stale ``tmp/`` files later);
2. take ``dovecot-uidlist.lock`` (so nobody numbers mail between our move and our
   UID assignment, and the UID we hand back is the one every reader sees);
3. add new keywords to ``dovecot-keywords`` (only under that lock);
4. ``rename()`` into ``new/<base>,S=<size>,W=<vsize>`` (no flags) or
   ``cur/<base>,S=..,W=..:2,<flags>``: atomic, so the message is either absent or
   complete; then ``fsync`` the directory;
5. append the file's UID to ``dovecot-uidlist`` (a partial sync, as Dovecot's save: no
   directory scan, the parse of the last read reused while the file is unchanged; a full
   sync when the uidlist needs one). A crash between 4 and 5 leaves a complete message
   without a UID: the next sync gives it one.

Plain saves (no flags, no keywords) made at the same time by this process's threads into one
maildir are published together (group commit): step 1 runs in each thread in parallel, then one
of them takes the lock once for all of them, renames every file and appends all their UID
records in one write, releases the lock, then fsyncs ``new/`` and fdatasyncs the uidlist once.
Each save still returns only after its own file, the directory and the uidlist are on disk,
exactly as when saved alone; Dovecot does the same per transaction
(``maildir_transaction_fsync_dirs`` then one uidlist write). Flushing outside the lock lets
other processes saving into the same maildir (LMTP workers) take it meanwhile, and while they
wait for it they are woken as soon as it is released (``dotlock``'s notify, as Dovecot's
uidlist lock).

A delivery (LMTP, dovecot-lda) that does not need the new UID saves inside
:func:`uids_optional`, as Dovecot's deliveries save without ``MAILBOX_TRANSACTION_FLAG_ASSIGN_UIDS``:
the uidlist lock is only tried, and when another process holds it the files are moved into
``new/`` (and ``new/`` flushed) without a UID, which the next full sync gives them. The
message is as durable either way; no delivery waits for another's lock.

``S`` is the size of the bytes as stored; ``W`` the size with every bare LF counted as
CRLF (the size IMAP reports).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field

from pydovecot.storage import access

from . import dotlock, permissions
from .filename import add_size_fields, generate_base, set_flags
from .fsync import FsyncMode
from .keywords import Keywords, read_keywords, write_keywords
from .sync import CUR_DIR, NEW_DIR, TMP_DIR, ensure_maildir, sync_locked, sync_partial_locked
from .uidlist import append_new_files, lock_uidlist, uidlist_path

_UNIQUE_RETRIES = 100


class SaveError(RuntimeError):
    """The message could not be saved (it is not visible in the mailbox)."""


_uid_optional = threading.local()


@contextlib.contextmanager
def uids_optional() -> Generator[None, None, None]:
    """Plain saves made in this block (by this thread) may return UID 0: saved and durable, but
    not numbered yet because another process held the uidlist lock (see the module docstring)."""
    before = getattr(_uid_optional, "on", False)
    _uid_optional.on = True
    try:
        yield
    finally:
        _uid_optional.on = before


@dataclass(frozen=True)
class SavedMessage:
    uid: int
    """0 when the save was allowed to leave the numbering to the next sync and did."""
    filename: str
    """Final name inside :attr:`subdir`."""
    subdir: str


def virtual_size(data: bytes) -> int:
    """The size with CRLF line endings: bare LFs count two bytes."""
    # Mail is stored with LF line ends: skip the (slower) two-byte count when there is no CR.
    crlf = data.count(b"\r\n") if b"\r" in data else 0
    return len(data) + data.count(b"\n") - crlf


def save_message(
    path: str,
    data: bytes,
    *,
    flags: Iterable[str] = (),
    keywords: Iterable[str] = (),
    internaldate: float | None = None,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    control_dir: str | None = None,
    uidvalidity_dir: str | None = None,
    hostname: str | None = None,
    mode: int = 0o600,
    mail_max_lock_timeout: int = 0,
    stored: bytes | None = None,
    privileged_gid: int | None = None,
    on_saved: Callable[[SavedMessage], None] | None = None,
) -> tuple[int, str]:
    """Save ``data`` and return ``(uid, final file name)``. See the module docstring.

    ``on_saved`` is called with the saved message while the uidlist lock is still held."""
    saved = save_message_full(
        path,
        data,
        flags=flags,
        keywords=keywords,
        internaldate=internaldate,
        fsync=fsync,
        control_dir=control_dir,
        uidvalidity_dir=uidvalidity_dir,
        hostname=hostname,
        mode=mode,
        mail_max_lock_timeout=mail_max_lock_timeout,
        stored=stored,
        privileged_gid=privileged_gid,
        on_saved=on_saved,
    )
    return saved.uid, saved.filename


def save_message_full(
    path: str,
    data: bytes,
    *,
    flags: Iterable[str] = (),
    keywords: Iterable[str] = (),
    internaldate: float | None = None,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    control_dir: str | None = None,
    uidvalidity_dir: str | None = None,
    hostname: str | None = None,
    mode: int = 0o600,
    mail_max_lock_timeout: int = 0,
    stored: bytes | None = None,
    privileged_gid: int | None = None,
    on_saved: Callable[[SavedMessage], None] | None = None,
    basename: str | None = None,
) -> SavedMessage:
    """``stored``: the bytes written to disk when they differ from the message (compressed by
    the zlib plugin); the name's ``S=``/``W=`` sizes are always the message's own.
    ``basename``: the file's base name when free (a copy of a message keeps its source's
    base, its GUID, as Dovecot's copies do); a new one otherwise."""
    host = hostname if hostname is not None else dotlock.system_hostname()
    vsize = virtual_size(data)
    # The maildir nearly always exists (opening the mailbox made INBOX): its directories are
    # made here only when the file cannot be created for want of them.
    try:
        perms = _file_permissions(path, mode, privileged_gid)
        base, tmp_path = _write_tmp(path, data if stored is None else stored,
                                    _bases(path, host, basename, len(data), vsize), perms, fsync, internaldate)
    except FileNotFoundError:
        ensure_maildir(path, privileged_gid=privileged_gid)
        perms = _file_permissions(path, mode, privileged_gid)
        base, tmp_path = _write_tmp(path, data if stored is None else stored,
                                    _bases(path, host, basename, len(data), vsize), perms, fsync, internaldate)
    if not flags and not keywords:
        pending = _PendingSave(base, tmp_path, len(data), vsize, on_saved,
                               uid_optional=getattr(_uid_optional, "on", False))
        group = _PublishGroup(path, control_dir, uidvalidity_dir, fsync, perms, mail_max_lock_timeout)
        return group.publish(pending)
    return _publish(path, base, tmp_path, len(data), vsize, flags=flags, keywords=keywords,
                    fsync=fsync, control_dir=control_dir, uidvalidity_dir=uidvalidity_dir, perms=perms,
                    mail_max_lock_timeout=mail_max_lock_timeout, on_saved=on_saved)


def save_hardlink(
    path: str,
    source: str,
    *,
    size: int,
    vsize: int,
    flags: Iterable[str] = (),
    keywords: Iterable[str] = (),
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    control_dir: str | None = None,
    uidvalidity_dir: str | None = None,
    hostname: str | None = None,
    mail_max_lock_timeout: int = 0,
    privileged_gid: int | None = None,
    basename: str | None = None,
) -> SavedMessage:
    """Copy the message file ``source`` into the maildir at ``path`` without copying data
    (``maildir_copy_with_hardlinks``): ``link()`` it into ``tmp/`` under a new base name
    (``basename`` when free), then publish it like a save. The copy shares the source's
    mtime, so its INTERNALDATE.

    Raises :class:`OSError` (e.g. ``EXDEV`` across file systems, ``EPERM``) when no link can be
    made; the caller then copies the bytes instead, as Dovecot does.
    """
    ensure_maildir(path, privileged_gid=privileged_gid)
    host = hostname if hostname is not None else dotlock.system_hostname()
    tmp_dir = os.path.join(path, TMP_DIR)
    for base in _bases(path, host, basename, size, vsize):
        tmp_path = os.path.join(tmp_dir, base)
        try:
            os.link(source, tmp_path)
        except FileExistsError:
            continue
        break
    else:
        raise SaveError(f"could not find a unique file name in {tmp_dir}")
    return _publish(path, base, tmp_path, size, vsize, flags=flags, keywords=keywords, fsync=fsync,
                    control_dir=control_dir, uidvalidity_dir=uidvalidity_dir,
                    perms=_file_permissions(path, 0o600, privileged_gid),
                    mail_max_lock_timeout=mail_max_lock_timeout)


def _file_permissions(path: str, mode: int, privileged_gid: int | None) -> permissions.Permissions:
    if mode != 0o600:
        return permissions.Permissions(file_mode=mode, privileged_gid=privileged_gid)
    return permissions.of_directory(path, privileged_gid=privileged_gid)


def _publish(
    path: str,
    base: str,
    tmp_path: str | None,
    size: int,
    vsize: int,
    *,
    flags: Iterable[str],
    keywords: Iterable[str],
    fsync: FsyncMode,
    control_dir: str | None,
    uidvalidity_dir: str | None,
    perms: permissions.Permissions,
    mail_max_lock_timeout: int,
    on_saved: Callable[[SavedMessage], None] | None = None,
) -> SavedMessage:
    """Steps 2-5 of the module docstring for a complete file at ``tmp_path``."""
    control = control_dir or path
    flags = list(flags)
    keywords = list(dict.fromkeys(keywords))
    try:
        with lock_uidlist(control, mail_max_lock_timeout=mail_max_lock_timeout) as lock:
            final = add_size_fields(base, size, vsize)
            if flags or keywords:
                indexes = keyword_indexes_for(control, keywords, perms.file_mode, fsync=fsync)
                final = set_flags(final, flags, indexes)
                subdir = CUR_DIR
            else:
                subdir = NEW_DIR
            dest_dir = os.path.join(path, subdir)
            _move(path, tmp_path, dest_dir, final, perms.privileged_gid)
            tmp_path = None
            if fsync is not FsyncMode.NEVER:
                _fsync_dir(dest_dir)
            uid = sync_partial_locked(control, final, lock, fsync=fsync)
            if uid is None:
                # move_new=False: the UID is what we came for; leave new/ mail where it is.
                result = sync_locked(
                    path, lock, control_dir=control, uidvalidity_dir=uidvalidity_dir, move_new=False,
                    fsync=fsync, privileged_gid=perms.privileged_gid,
                )
                uid = next((msg.uid for msg in result.messages if msg.filename == final), None)
                if uid is None:
                    raise SaveError(f"saved {final} but it vanished before it got a UID")
            saved = SavedMessage(uid=uid, filename=final, subdir=subdir)
            if on_saved is not None:
                on_saved(saved)
    finally:
        if tmp_path is not None:
            _unlink_quietly(tmp_path)
    return saved


@dataclass(eq=False)
class _PendingSave:
    """A complete, synced file in ``tmp/`` waiting to be published by a group commit."""

    base: str
    tmp_path: str
    size: int
    vsize: int
    on_saved: Callable[[SavedMessage], None] | None
    uid_optional: bool = False
    """Saved inside :func:`uids_optional`."""
    done: threading.Event | None = None
    """Set when a save that waits for another thread's publishing (the publisher's own save
    needs none: most saves are alone and publish themselves)."""
    promoted: bool = False
    """Woken to publish the queue (the previous publisher finished), not because it is done."""
    saved: SavedMessage | None = None
    error: BaseException | None = None


@dataclass
class _Queue:
    pending: list[_PendingSave] = field(default_factory=list)
    publishing: bool = False


# One lock for every queue: what it guards (a list append, a flag) is over in a moment.
_QUEUES: dict[tuple[object, ...], _Queue] = {}
_QUEUES_LOCK = threading.Lock()


@dataclass(frozen=True)
class _PublishGroup:
    """Plain saves into one maildir, published together (see the module docstring)."""

    path: str
    control_dir: str | None
    uidvalidity_dir: str | None
    fsync: FsyncMode
    perms: permissions.Permissions
    mail_max_lock_timeout: int

    def publish(self, item: _PendingSave) -> SavedMessage:
        # One queue per maildir and file-system identity: the publisher renames and writes the
        # uidlist for the others, which must be allowed to do it themselves.
        key = (self.path, self.control_dir, self.uidvalidity_dir, self.fsync, self.perms,
               self.mail_max_lock_timeout, _fs_identity())
        with _QUEUES_LOCK:
            queue = _QUEUES.get(key)
            if queue is None:
                queue = _QUEUES[key] = _Queue()
            queue.pending.append(item)
            lead = not queue.publishing
            if lead:
                queue.publishing = True
            else:
                item.done = threading.Event()
        if not lead:
            assert item.done is not None
            item.done.wait()
            lead = item.promoted
        if lead:
            self._lead(key, queue)
        if item.error is not None:
            raise item.error
        assert item.saved is not None
        return item.saved

    def _lead(self, key: tuple[object, ...], queue: _Queue) -> None:
        with _QUEUES_LOCK:
            batch, queue.pending = queue.pending, []
        try:
            self._publish_batch(batch)
        finally:
            with _QUEUES_LOCK:
                # Hand over to the first one that queued meanwhile: this thread's own save is done
                # and its caller should not wait for the others'.
                if queue.pending:
                    successor = queue.pending[0]
                    assert successor.done is not None
                    successor.promoted = True
                    successor.done.set()
                else:
                    queue.publishing = False
                    # Idle: forget it (one per maildir ever saved to would pile up). A save that
                    # still holds it publishes alone; the uidlist lock keeps that correct.
                    if _QUEUES.get(key) is queue:
                        del _QUEUES[key]
            for item in batch:
                item.promoted = False
                if item.done is not None:
                    item.done.set()

    def _publish_batch(self, batch: list[_PendingSave]) -> None:
        """Steps 2-5 for every file; records each one's result or error, never raises."""
        control = self.control_dir or self.path
        new_dir = os.path.join(self.path, NEW_DIR)
        try:
            lock = self._lock(control, optional=all(item.uid_optional for item in batch))
            if lock is None:
                # Held by another process, and no save here needs its UID now.
                if not self._move_all(batch, new_dir, None, control):
                    return
            else:
                with lock:
                    if not self._move_all(batch, new_dir, lock, control):
                        return
            if self.fsync is not FsyncMode.NEVER:
                # Flushed before any save returns, but after the lock is released: the renames
                # and records are already ordered (UIDs given under the lock), and the next
                # holder -- another process saving here -- need not wait for our disk. Its own
                # flushes of the same directory and file then share the journal commits.
                _fsync_dir(new_dir)
                if lock is not None:
                    _datasync_path(uidlist_path(control))
        except BaseException as exc:  # noqa: BLE001 - every waiting save gets the failure
            for item in batch:
                if item.error is None:
                    item.error = exc
                    item.saved = None
                    _unlink_quietly(item.tmp_path)

    def _lock(self, control: str, *, optional: bool) -> dotlock.DotLock | None:
        """The uidlist lock; with ``optional`` one try only (None when another process has it)."""
        try:
            return lock_uidlist(control, mail_max_lock_timeout=self.mail_max_lock_timeout, nonblock=optional)
        except dotlock.LockTimeoutError:
            if not optional:
                raise
            return None

    def _move_all(self, batch: list[_PendingSave], new_dir: str, lock: dotlock.DotLock | None,
                  control: str) -> bool:
        """Rename every file into ``new/`` and, holding ``lock``, number them; False when none
        could be moved (each such save has its error)."""
        moved: list[tuple[_PendingSave, str]] = []
        for item in batch:
            final = add_size_fields(item.base, item.size, item.vsize)
            try:
                _move(self.path, item.tmp_path, new_dir, final, self.perms.privileged_gid)
            except OSError as exc:
                item.error = exc
                _unlink_quietly(item.tmp_path)
                continue
            moved.append((item, final))
        if not moved:
            return False
        uids = self._assign_uids(control, [final for _, final in moved], lock) if lock is not None else {}
        for item, final in moved:
            item.saved = SavedMessage(uid=uids.get(final, 0), filename=final, subdir=NEW_DIR)
            if item.on_saved is not None:
                try:
                    item.on_saved(item.saved)
                except Exception as exc:  # noqa: BLE001 - that save's caller gets it
                    item.error = exc
        return True

    def _assign_uids(self, control: str, finals: list[str], lock: dotlock.DotLock) -> dict[str, int]:
        """The records appended in one write, unsynced (the caller flushes the uidlist once for
        all); a full sync when the uidlist needs one."""
        uids = append_new_files(control, finals, lock)
        if uids is not None:
            return uids
        result = sync_locked(self.path, lock, control_dir=control, uidvalidity_dir=self.uidvalidity_dir,
                             move_new=False, fsync=self.fsync, privileged_gid=self.perms.privileged_gid)
        uids = {msg.filename: msg.uid for msg in result.messages}
        missing = [name for name in finals if name not in uids]
        if missing:
            raise SaveError(f"saved {missing[0]} but it vanished before it got a UID")
        return {name: uids[name] for name in finals}


def _move(path: str, tmp_path: str, dest_dir: str, final: str, privileged_gid: int | None) -> None:
    """rename() the file from ``tmp/`` into ``dest_dir``; a maildir that lost that directory
    gets it back first (the save does not check for it beforehand: it is nearly always there)."""
    dest = os.path.join(dest_dir, final)
    try:
        os.rename(tmp_path, dest)
    except FileNotFoundError:
        if not os.path.exists(tmp_path):
            raise
        ensure_maildir(path, privileged_gid=privileged_gid)
        os.rename(tmp_path, dest)


def _fs_identity() -> tuple[int, int] | None:
    """This thread's file-system uid and gid when run_as switches them (setfsuid(-1) only reads)."""
    libc = access._libc  # noqa: SLF001 - the same handle run_as switched the identity with
    if not access.can_switch():
        return None
    return libc.setfsuid(-1), libc.setfsgid(-1)


def _candidate_bases(host: str) -> Iterator[str]:
    now_ns = time.time_ns()
    secs, usecs = divmod(now_ns // 1000, 1_000_000)
    for _ in range(_UNIQUE_RETRIES):
        yield generate_base(secs, usecs, os.getpid(), host)
        # Same microsecond in this process: the name must differ, so step the usecs.
        secs, usecs = divmod(secs * 1_000_000 + usecs + 1, 1_000_000)


def _bases(path: str, host: str, wanted: str | None, size: int, vsize: int) -> Iterator[str]:
    """``wanted`` first unless ``new/`` already holds a file of that name (the rename would
    replace it; ``tmp/`` is checked by the exclusive create), then fresh names."""
    if wanted and "/" not in wanted and not os.path.lexists(
            os.path.join(path, NEW_DIR, add_size_fields(wanted, size, vsize))):
        yield wanted
    yield from _candidate_bases(host)


def _write_tmp(
    path: str, data: bytes, bases: Iterable[str], perms: permissions.Permissions, fsync: FsyncMode,
    internaldate: float | None
) -> tuple[str, str]:
    tmp_dir = os.path.join(path, TMP_DIR)
    for base in bases:
        tmp_path = os.path.join(tmp_dir, base)
        try:
            fd = permissions.create_file(tmp_path, os.O_WRONLY | os.O_EXCL, perms)
        except FileExistsError:
            continue
        break
    else:
        raise SaveError(f"could not find a unique file name in {tmp_dir}")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync is not FsyncMode.NEVER:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp_path)
        raise
    os.close(fd)
    if internaldate is not None:
        # The file's mtime is the message's INTERNALDATE.
        os.utime(tmp_path, (internaldate, internaldate))
    return base, tmp_path


def keyword_indexes_for(control: str, keywords: list[str], mode: int = 0o600, *,
                        fsync: FsyncMode = FsyncMode.OPTIMIZED) -> list[int]:
    """Keyword indexes (letters) for ``keywords``, adding new names to ``dovecot-keywords``.

    The caller holds ``dovecot-uidlist.lock``. Beyond 26 keywords a name gets no letter.
    """
    table: Keywords = read_keywords(control)
    original = table
    indexes = []
    for name in keywords:
        table, index = table.with_keyword(name)
        if index is not None:
            indexes.append(index)
    if table != original:
        write_keywords(control, table, mode=mode, fsync=fsync)
    return indexes


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _datasync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
