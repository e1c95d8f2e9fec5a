"""The ``file:PATH`` dict driver, in Dovecot's dict-file format.

The file holds key, value, key, value... one per line. Both are tab-escaped as Dovecot's
``str_tabescape`` does (\\x01 -> \\x01 1, TAB -> \\x01 t, CR -> \\x01 r, LF -> \\x01 n), so a
value may hold any byte but NUL. Changes rewrite the whole file under a dotlock
(``PATH.lock``) that is renamed over it, as dict-file does by default: readers see the old or
the new file, whole. As dict-file, a missing directory is created (0700) and the file keeps its
mode, or starts with its directory's read/write bits. Blocking: callers run it in a storage
worker thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping

from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape

from . import DictError

# Values are bytes on disk: undecodable ones survive a read and a rewrite unchanged.
_ENCODING = {"encoding": "utf-8", "errors": "surrogateescape"}


class FileDict:
    # dict-file's dotlock settings: wait up to 2 minutes, a lock untouched for 1 is stale.
    LOCK_TIMEOUT = 120.0
    STALE_AFTER = 60.0

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self) -> dict[str, str]:
        try:
            with open(self.path, **_ENCODING) as f:  # type: ignore[call-overload]
                lines = f.read().split("\n")
        except FileNotFoundError:
            return {}
        return {tab_unescape(lines[i]): tab_unescape(lines[i + 1]) for i in range(0, len(lines) - 1, 2)}

    def lookup(self, key: str) -> str | None:
        return self.read().get(key)

    def iterate(self, prefix: str) -> list[tuple[str, str]]:
        """The (key, value) pairs whose key starts with ``prefix``, in file order."""
        return [(k, v) for k, v in self.read().items() if k.startswith(prefix)]

    def set(self, values: Mapping[str, int]) -> None:
        self._update(lambda data: (data.update({k: str(v) for k, v in values.items()}), True)[1])

    def increment(self, deltas: Mapping[str, int]) -> bool:
        def apply(data: dict[str, str]) -> bool:
            if any(key not in data for key in deltas):
                return False
            for key, delta in deltas.items():
                data[key] = str(int(data[key]) + delta)
            return True
        return self._update(apply)

    def commit(self, changes: Iterable[tuple[str, str | None]], unset_prefixes: Iterable[str] = ()) -> None:
        """One transaction: set each key to its value (None unsets it), in order; then drop
        every key under ``unset_prefixes``."""
        changes = list(changes)
        prefixes = tuple(unset_prefixes)

        def apply(data: dict[str, str]) -> bool:
            for key, value in changes:
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            if prefixes:
                for key in [k for k in data if k.startswith(prefixes)]:
                    del data[key]
            return True
        self._update(apply)

    def _update(self, change: Callable[[dict[str, str]], bool]) -> bool:
        lock = self.path + ".lock"
        try:
            fd = self._dotlock(lock)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            fd = self._dotlock(lock)
        try:
            os.fchmod(fd, self._mode())
            data = self.read()
            if not change(data):
                return False
            text = "".join(f"{tab_escape(k)}\n{tab_escape(v)}\n" for k, v in data.items())
            os.write(fd, text.encode(**_ENCODING))  # type: ignore[arg-type]
            # The dotlock file becomes the new dict: readers see the old or the new file, whole.
            os.rename(lock, self.path)
            return True
        except BaseException:
            if os.path.exists(lock):
                os.unlink(lock)
            raise
        finally:
            os.close(fd)

    def _mode(self) -> int:
        try:
            return os.stat(self.path).st_mode & 0o7777
        except FileNotFoundError:
            return os.stat(os.path.dirname(self.path) or ".").st_mode & 0o666

    def _dotlock(self, lock: str) -> int:
        deadline = time.monotonic() + self.LOCK_TIMEOUT
        while True:
            try:
                return os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                try:
                    if time.time() - os.stat(lock).st_mtime > self.STALE_AFTER:
                        os.unlink(lock)  # left by a crashed writer
                        continue
                except FileNotFoundError:
                    continue
                if time.monotonic() > deadline:
                    raise DictError(f"Timeout waiting for dotlock {lock}") from None
                time.sleep(0.01)
