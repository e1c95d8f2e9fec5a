"""How Dovecot picks a new mailbox's UIDVALIDITY: ``dovecot-uidvalidity``.

One counter per mailbox list root (the root's control directory), shared by all its
mailboxes, kept twice:

- ``dovecot-uidvalidity`` holds the last value given out as 8 lower-case hex digits,
  no newline (written with ``pwrite`` at offset 0, never truncated);
- an empty, read-only (0444) marker ``dovecot-uidvalidity.<8 hex digits>`` with the same
  value. Taking the next value is ``rename(.<v>, .<v+1>)``, which is atomic, so two
  processes never get the same value.

Fast path: read the main file, rename the marker from v to v+1 (on ENOENT trying the next
values, up to 10 times), write v+1 to the main file, return v+1. When that fails, rescan
the directory for markers: with none, create one for the current time (``O_EXCL``) and
return the time itself (not time+1); with several, delete the lowest and step from the
highest. The first mailbox made in a fresh root therefore gets the current Unix time and
each later one the previous value + 1 (not the time of its creation).

A mailbox's own UIDVALIDITY lives in its ``dovecot-uidlist`` header; Dovecot asks this
counter only when it creates that header and the index has no value.
"""

from __future__ import annotations

import os
import re
import time

UIDVALIDITY_NAME = "dovecot-uidvalidity"
RETRY_COUNT = 10

_HEX8 = re.compile(r"[0-9a-fA-F]{1,8}\Z")
_fallback_value = 0


def uidvalidity_path(control_dir: str) -> str:
    return os.path.join(control_dir, UIDVALIDITY_NAME)


def marker_name(value: int) -> str:
    return f"{UIDVALIDITY_NAME}.{value:08x}"


def format_value(value: int) -> bytes:
    return f"{value:08x}".encode()


def parse_value(data: bytes) -> int | None:
    """The value in the main file (Dovecot reads at most 8 bytes of hex)."""
    text = data[:8].decode("ascii", "replace")
    if not _HEX8.match(text):
        return None
    return int(text, 16)


def read_current(control_dir: str) -> int | None:
    try:
        with open(uidvalidity_path(control_dir), "rb") as f:
            return parse_value(f.read(8))
    except FileNotFoundError:
        return None


def next_uidvalidity(control_dir: str, *, now: int | None = None, mode: int = 0o600) -> int:
    """Take the next UIDVALIDITY from ``control_dir`` exactly as Dovecot 2.3 does."""
    path = uidvalidity_path(control_dir)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return _rescan(control_dir, now, mode)
    try:
        data = os.pread(fd, 8, 0)
        current = parse_value(data) if data else None
        if current is None:
            return _rescan(control_dir, now, mode)
        taken = _step_marker(control_dir, current)
        if taken is None:
            return _rescan(control_dir, now, mode)
        os.pwrite(fd, format_value(taken), 0)
        return taken
    finally:
        os.close(fd)


def _step_marker(control_dir: str, value: int) -> int | None:
    for _ in range(RETRY_COUNT):
        src = os.path.join(control_dir, marker_name(value))
        value = (value + 1) & 0xFFFFFFFF
        try:
            os.rename(src, os.path.join(control_dir, marker_name(value)))
            return value
        except FileNotFoundError:
            continue  # someone else stepped it; try from the next value
    return None


def make_private_dirs(path: str) -> None:
    """``path`` and its missing parents, each 0700 as Dovecot makes a mail root's (a shared
    namespace's ``CONTROL=~/shared/%u`` included); makedirs would leave the parents 0755."""
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.isdir(parent):
        make_private_dirs(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass


def _rescan(control_dir: str, now: int | None, mode: int) -> int:
    prefix = UIDVALIDITY_NAME + "."
    try:
        names = os.listdir(control_dir)
    except FileNotFoundError:
        make_private_dirs(control_dir)
        names = []
    values = []
    for name in names:
        if name.startswith(prefix):
            suffix = name[len(prefix) :]
            if _HEX8.match(suffix):
                values.append(int(suffix, 16))
    if not values or max(values) == 0:
        value = 0
        for _ in range(RETRY_COUNT):
            value = _fallback(now)
            try:
                fd = os.open(
                    os.path.join(control_dir, marker_name(value)), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444
                )
            except FileExistsError:
                continue
            os.fchmod(fd, 0o444)
            os.close(fd)
            break
        _write_main(control_dir, value, mode)
        return value
    low, high = min(values), max(values)
    if low != high:
        try:
            os.unlink(os.path.join(control_dir, marker_name(low)))
        except FileNotFoundError:
            pass
    taken = _step_marker(control_dir, high)
    if taken is None:
        return _fallback(now)
    _write_main(control_dir, taken, mode)
    return taken


def _write_main(control_dir: str, value: int, mode: int) -> None:
    fd = os.open(uidvalidity_path(control_dir), os.O_RDWR | os.O_CREAT, mode)
    if mode != 0o600 and os.fstat(fd).st_mode & 0o777 != mode:
        os.fchmod(fd, mode)  # the mail root's mode, not the umask's
    try:
        os.pwrite(fd, format_value(value), 0)
    finally:
        os.close(fd)


def _fallback(now: int | None) -> int:
    # Per process: the current time, or one more than the last value handed out.
    global _fallback_value
    t = int(time.time()) if now is None else now
    _fallback_value = t if _fallback_value < t else _fallback_value + 1
    return _fallback_value
