"""Dovecot's dot-lock protocol (``<file>.lock``), as the Maildir control files use it.

With ``dotlock_use_excl = yes`` (the 2.3 default) the lock is created directly with
``O_CREAT|O_EXCL`` and holds ``<pid>:<hostname>`` (no newline). A waiting process
overrides a lock when:

- the lock is at least 2 seconds old, names our host, and its pid is gone (or is our own
  pid, i.e. a leftover from an earlier process with the same pid), and the lock did not
  change meanwhile; or
- neither the lock nor the file it protects changed for ``stale_timeout`` seconds.

It polls every 0.1-0.2 s, growing the wait by half each second up to 3 s, and gives up
after ``timeout`` seconds. With ``notify`` (Dovecot's ``use_io_notify``, which the uidlist
lock sets) each wait also ends as soon as the lock file is unlinked, renamed or changed
(inotify), so a process waiting for another's short lock does not sleep 0.1 s every time. ``dovecot-uidlist`` and ``dovecot-keywords`` use
timeout=122 and stale_timeout=120 (the timeout is capped by ``mail_max_lock_timeout``
when that is set); ``subscriptions`` uses 120/30.

Two ways to finish: :meth:`DotLock.release` unlinks the lock (dovecot-uidlist, which is
rewritten through ``dovecot-uidlist.tmp`` + ``rename``), and :meth:`DotLock.replace`
renames the lock file itself over the target after the new contents were written into
it (dovecot-keywords and subscriptions).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import random
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydovecot.storage.access import WouldBlock, inline_call

LOCK_SUFFIX = ".lock"
# A lock younger than this is not checked for a dead pid: its owner most likely lives.
STALE_PID_CHECK_SECS = 2
MAX_WAIT_SECS = 3.0

UIDLIST_LOCK_STALE_TIMEOUT = 120
KEYWORDS_LOCK_STALE_TIMEOUT = 120
SUBSCRIPTIONS_LOCK_TIMEOUT = 120
SUBSCRIPTIONS_LOCK_STALE_TIMEOUT = 30


class LockTimeoutError(TimeoutError):
    """The lock stayed held by a live owner until the timeout."""


def lock_timeout(default_secs: int, mail_max_lock_timeout: int = 0) -> int:
    """``mail_max_lock_timeout`` caps Dovecot's own lock waits; 0 means no cap."""
    if mail_max_lock_timeout <= 0:
        return default_secs
    return min(default_secs, mail_max_lock_timeout)


def system_hostname() -> str:
    """The host name Dovecot would write (``DOVECOT_HOSTNAME`` overrides gethostname)."""
    return os.environ.get("DOVECOT_HOSTNAME") or socket.gethostname()


@dataclass
class _Seen:
    """What a waiter last saw of a file, to notice any change."""

    ident: tuple[int, int, int, int, int] | None = None  # ino, dev, ctime, mtime, size
    last_change: float = 0.0
    first: bool = True

    def update(self, st: os.stat_result, now: float) -> bool:
        ident = (st.st_ino, st.st_dev, int(st.st_ctime), int(st.st_mtime), st.st_size)
        if ident == self.ident:
            return False
        change_time = now
        if self.first:
            # First sight: date the change by the file itself (mtime when newer and sane).
            mtime, ctime = int(st.st_mtime), int(st.st_ctime)
            change_time = mtime if mtime <= now and mtime > ctime else ctime
            self.first = False
        self.last_change = max(self.last_change, change_time)
        self.ident = ident
        return True


def _read_local_pid(lock_path: str, hostname: str) -> int | None:
    try:
        with open(lock_path, "rb") as f:
            data = f.read(511)
    except OSError:
        return None
    text = data.decode("utf-8", "surrogateescape").removesuffix("\n")
    pid_text, sep, host = text.partition(":")
    if not sep or host != hostname or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    return pid if pid > 0 else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class DotLock:
    """A held ``<path>.lock``. Create with :func:`acquire`."""

    path: str
    lock_path: str
    fd: int
    dev: int
    ino: int
    locked_at: float
    _closed: bool = field(default=False, repr=False)

    def is_ours(self) -> bool:
        """Is the lock file still the one we created (not overridden by a stale-lock breaker)?"""
        try:
            st = os.lstat(self.lock_path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == (self.dev, self.ino)

    def touch(self) -> None:
        """Refresh the lock's mtime so waiters do not take it for stale."""
        now = time.time()
        os.utime(self.lock_path, (now, now))

    def write(self, data: bytes) -> None:
        """Write the lock file's contents (for :meth:`replace`), replacing the pid text."""
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def release(self) -> bool:
        """Unlink the lock. False when it was no longer ours (then it is left alone)."""
        self._close()
        if not self.is_ours():
            return False
        try:
            os.unlink(self.lock_path)
        except FileNotFoundError:
            return False
        return True

    def replace(self, *, verify_owner: bool = False) -> bool:
        """Rename the lock file over the target: the lock's contents become the file."""
        if verify_owner and not self.is_ours():
            self._close()
            return False
        self._close()
        os.rename(self.lock_path, self.path)
        return True

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def __enter__(self) -> DotLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._closed:
            self.release()


def acquire(
    path: str,
    *,
    timeout: float,
    stale_timeout: float,
    nonblock: bool = False,
    write_pid: bool = True,
    mode: int = 0o666,
    hostname: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    notify: bool = False,
) -> DotLock:
    """Take ``<path>.lock`` as Dovecot does, overriding stale locks.

    ``mode`` is filtered by the process umask like Dovecot's ``0666`` create. Raises
    :class:`LockTimeoutError` when it could not be taken (immediately with ``nonblock``).
    ``notify``: wake up as soon as the lock file changes (see the module docstring); only
    with the real ``sleep`` (a test's own sleep is called as given).
    """
    # On the event loop (an inline storage call) one try only: a holder may keep the lock for
    # minutes, and a stale lock is overridden after a pause; both are thread work.
    on_loop = inline_call()
    host = hostname if hostname is not None else system_hostname()
    lock_path = path + LOCK_SUFFIX
    if notify and sleep is time.sleep:
        def sleep(secs: float) -> None:
            wait_for_change(lock_path, secs)
    lock_seen = _Seen()
    file_seen = _Seen()
    have_pid = False
    pid_read = False
    last_pid_check = -1.0
    wait = 0.0
    prev_last_change = -1.0
    prev_wait_update = -1.0
    now = clock()
    deadline = now if nonblock else now + timeout
    do_wait = False
    while True:
        if do_wait:
            if prev_last_change != lock_seen.last_change:
                wait = 0.1 + random.random() * 0.1
                prev_last_change = lock_seen.last_change
                prev_wait_update = int(now)
            elif prev_wait_update != int(now) and wait < MAX_WAIT_SECS:
                prev_wait_update = int(now)
                wait += wait / 2
            sleep(min(wait, MAX_WAIT_SECS))
            now = clock()

        free = False
        try:
            st = os.lstat(lock_path)
        except FileNotFoundError:
            free = True
        if not free and on_loop:
            raise WouldBlock
        if not free:
            changed = lock_seen.update(st, now)
            pid: int | None = None
            if changed or not pid_read:
                if int(st.st_mtime) >= now - STALE_PID_CHECK_SECS:
                    pid_read = False
                else:
                    pid = _read_local_pid(lock_path, host)
                    pid_read = True
                    last_pid_check = now
                have_pid = pid is not None
            elif have_pid and int(last_pid_check) != int(now):
                pid = _read_local_pid(lock_path, host)
                last_pid_check = now
                have_pid = pid is not None
            if have_pid and pid is not None and (pid == os.getpid() or not _pid_alive(pid)):
                # The owner is gone: override unless the lock changed under us meanwhile.
                try:
                    st2 = os.lstat(lock_path)
                    if not lock_seen.update(st2, now):
                        _override(lock_path, sleep)
                except FileNotFoundError:
                    pass
                free = True
            elif not have_pid and stale_timeout > 0 and now > lock_seen.last_change + stale_timeout:
                # Nobody touched the lock for a while: see if the protected file did.
                try:
                    file_seen.update(os.stat(path), now)
                    lock_seen.last_change = max(lock_seen.last_change, file_seen.last_change)
                except FileNotFoundError:
                    pass
                if now > lock_seen.last_change + stale_timeout:
                    _override(lock_path, sleep)
                    free = True
        if free:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
            except FileExistsError:
                fd = -1
            if fd >= 0:
                if write_pid:
                    try:
                        os.write(fd, f"{os.getpid()}:{host}".encode())
                    except OSError:
                        os.ftruncate(fd, 0)
                st = os.fstat(fd)
                return DotLock(
                    path=path, lock_path=lock_path, fd=fd, dev=st.st_dev, ino=st.st_ino, locked_at=now
                )
        if on_loop:
            raise WouldBlock
        do_wait = True
        now = clock()
        if now >= deadline:
            raise LockTimeoutError(errno.EAGAIN, f"timeout waiting for lock {lock_path}")


def _override(lock_path: str, sleep: Callable[[float], None]) -> None:
    _unlink_quietly(lock_path)
    # Pause so that another waiter overriding at the same moment cannot unlink the lock
    # we are about to create.
    sleep(0.1 + random.random() * 0.1)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# inotify(7) events that end a wait: the lock unlinked (its link count changes, then the inode
# goes), renamed over its target, or rewritten.
_IN_MODIFY, _IN_ATTRIB, _IN_MOVE_SELF, _IN_DELETE_SELF = 0x2, 0x4, 0x800, 0x400
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
_inotify: ctypes.CDLL | None = None
_inotify_checked = False
_inotify_lock = threading.Lock()


def _libc_inotify() -> ctypes.CDLL | None:
    global _inotify, _inotify_checked
    with _inotify_lock:
        if not _inotify_checked:
            _inotify_checked = True
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
                libc.inotify_init1.argtypes = [ctypes.c_int]
                libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
                _inotify = libc
            except (OSError, AttributeError):
                _inotify = None
        return _inotify


def wait_for_change(path: str, secs: float) -> None:
    """Sleep up to ``secs``, less when ``path`` changes or goes away (at once when it is gone).

    Falls back to a plain sleep where inotify is missing or out of watches, and the timeout
    always applies: inotify does not see changes made on another NFS client."""
    libc = _libc_inotify()
    fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC) if libc is not None else -1
    if fd < 0:
        time.sleep(secs)
        return
    try:
        mask = _IN_MODIFY | _IN_ATTRIB | _IN_MOVE_SELF | _IN_DELETE_SELF
        if libc.inotify_add_watch(fd, os.fsencode(path), mask) < 0:  # type: ignore[union-attr]
            if ctypes.get_errno() == errno.ENOENT:
                return  # already gone: try again now
            time.sleep(secs)
            return
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll(max(0, int(secs * 1000)))
    finally:
        os.close(fd)
