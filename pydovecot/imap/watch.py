"""Telling IDLE sessions at once that a mailbox changed: inotify on the Maildir's folders.

One inotify descriptor for the whole service, read by the event loop (`add_reader`): no thread
and no polling. A session in IDLE registers its mailbox's `new/` and `cur/` with an
`asyncio.Event`; any change (a delivery, another session's flag change or expunge, a rename by
another program) sets it, and the session syncs. Where inotify is missing the watcher does
nothing and IDLE falls back to checking every mailbox_idle_check_interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import struct
from collections.abc import Callable, Iterable

_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
# IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
_MASK = 0x002 | 0x004 | 0x008 | 0x040 | 0x080 | 0x100 | 0x200
_EVENT = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "inotify_init1") else None


class MailboxWatcher:
    def __init__(self) -> None:
        self._libc = _libc()
        self._fd: int | None = None
        self._by_path: dict[str, int] = {}
        self._listeners: dict[int, set[asyncio.Event]] = {}

    @property
    def available(self) -> bool:
        return self._libc is not None

    def watch(self, paths: Iterable[str], event: asyncio.Event) -> Callable[[], None]:
        """Set `event` on any change under `paths`; returns the function that stops it."""
        if self._libc is None or not self._ensure_fd():
            return lambda: None
        wds = [wd for wd in (self._add(path) for path in paths) if wd is not None]
        for wd in wds:
            self._listeners.setdefault(wd, set()).add(event)

        def stop() -> None:
            for wd in wds:
                listeners = self._listeners.get(wd)
                if listeners is None:
                    continue
                listeners.discard(event)
                if not listeners:
                    self._remove(wd)

        return stop

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None
        self._by_path.clear()
        self._listeners.clear()

    # --- inotify -----------------------------------------------------------------------------

    def _ensure_fd(self) -> bool:
        if self._fd is not None:
            return True
        assert self._libc is not None
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            self._libc = None
            return False
        self._fd = fd
        asyncio.get_running_loop().add_reader(fd, self._readable)
        return True

    def _add(self, path: str) -> int | None:
        if path in self._by_path:
            return self._by_path[path]
        assert self._libc is not None
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), _MASK)
        if wd < 0:
            return None
        self._by_path[path] = wd
        return int(wd)

    def _remove(self, wd: int) -> None:
        self._listeners.pop(wd, None)
        for path, known in list(self._by_path.items()):
            if known == wd:
                del self._by_path[path]
        if self._libc is not None and self._fd is not None:
            self._libc.inotify_rm_watch(self._fd, wd)

    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        pos = 0
        while pos + _EVENT.size <= len(data):
            wd, _mask, _cookie, length = _EVENT.unpack_from(data, pos)
            pos += _EVENT.size + length
            for event in self._listeners.get(wd, ()):
                event.set()
