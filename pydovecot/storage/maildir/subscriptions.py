"""The ``subscriptions`` file of a mailbox list, as Dovecot 2.3 reads and writes it.

Version 2 (what 2.3 writes for a new file) starts with exactly ``V\\t2\\n\\n``; each line is
then one subscribed mailbox, its hierarchy levels joined by TAB and each level
tab-escaped (``\\x01`` -> ``\\x011``, TAB -> ``\\x01t``, CR -> ``\\x01r``, LF -> ``\\x01n``).
The file is thereby independent of the hierarchy separator.

Version 1 (anything not starting with that header) is one name per line, levels joined by
the list's own separator. Dovecot keeps an existing version 1 file at version 1 when it
changes it.

The names are the mailbox list's *storage* names: namespace prefix removed and, with the
default settings, in modified UTF-7 (``Entw&APw-rfe``); ``INBOX`` is written as ``INBOX``
whatever its case. Dovecot reads a last line even without ``\\n``; when it rewrites the
file it copies every other line as it was (adding a missing ``\\n``), drops the lines
equal to an unsubscribed name and appends a newly subscribed one at the end.

Writing: ``subscriptions.lock`` (dot-lock, 120 s wait, 30 s stale) receives the whole new
file, is ``fsync``\\ ed unless ``mail_fsync = never``, and is renamed over ``subscriptions``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from . import dotlock
from .fsync import FsyncMode

SUBSCRIPTIONS_NAME = "subscriptions"
V2_HEADER = "V\t2\n\n"

_ESCAPES = {"\x01": "\x011", "\t": "\x01t", "\r": "\x01r", "\n": "\x01n"}
_UNESCAPES = {"1": "\x01", "t": "\t", "r": "\r", "n": "\n"}


def tab_escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def tab_unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x01":
            if i + 1 < len(text):
                out.append(_UNESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Subscriptions:
    """The file's lines, as stored (still escaped), plus its version (1 or 2)."""

    version: int = 2
    lines: tuple[str, ...] = ()
    missing_final_newline: bool = False

    def entries(self) -> list[tuple[str, ...]]:
        """Each subscribed name as its hierarchy levels (version 2), or as one raw
        string (version 1: split it with the list separator yourself). Empty lines skipped."""
        if self.version >= 2:
            return [tuple(tab_unescape(part) for part in line.split("\t")) for line in self.lines if line]
        return [(line,) for line in self.lines if line]

    def names(self, separator: str) -> list[str]:
        """Subscribed storage names with ``separator`` between levels."""
        return [separator.join(parts) for parts in self.entries()]

    def encode_name(self, levels: Sequence[str], separator: str) -> str:
        """The line Dovecot writes for a name, for this file's version."""
        levels = list(levels)
        if len(levels) == 1 and levels[0].upper() == "INBOX":
            levels = ["INBOX"]
        if self.version >= 2:
            return "\t".join(tab_escape(level) for level in levels)
        return separator.join(levels)

    def is_subscribed(self, levels: Sequence[str], separator: str) -> bool:
        return self.encode_name(levels, separator) in self.lines

    def with_subscription(
        self, levels: Sequence[str], separator: str, subscribed: bool = True
    ) -> Subscriptions:
        """Subscribe or unsubscribe like Dovecot: keep other lines in place, drop every
        matching line, append at the end. ``levels`` are the storage-name levels."""
        if not levels:
            raise ValueError("a mailbox name needs at least one level")
        line = self.encode_name(levels, separator)
        if "\n" in line or (self.version < 2 and ("\r" in line)):
            raise ValueError(f"name cannot be stored in a version {self.version} subscriptions file")
        kept = [existing for existing in self.lines if existing != line]
        if subscribed:
            kept.append(line)
        return Subscriptions(version=self.version, lines=tuple(kept))

    def to_bytes(self) -> bytes:
        return serialize_subscriptions(self)


def parse_subscriptions(data: bytes) -> Subscriptions:
    text = data.decode("utf-8", "surrogateescape")
    version = 1
    if text.startswith(V2_HEADER):
        version = 2
        text = text[len(V2_HEADER) :]
    if not text:
        return Subscriptions(version=version)
    missing_newline = not text.endswith("\n")
    lines = text.split("\n")
    if not missing_newline:
        lines.pop()
    return Subscriptions(version=version, lines=tuple(lines), missing_final_newline=missing_newline)


def serialize_subscriptions(subs: Subscriptions) -> bytes:
    head = V2_HEADER if subs.version >= 2 else ""
    body = "".join(line + "\n" for line in subs.lines)
    if subs.missing_final_newline and body:
        body = body[:-1]
    return (head + body).encode("utf-8", "surrogateescape")


def subscriptions_path(directory: str) -> str:
    return os.path.join(directory, SUBSCRIPTIONS_NAME)


def read_subscriptions(directory: str) -> Subscriptions | None:
    """None when the file does not exist (a new one would be version 2)."""
    try:
        with open(subscriptions_path(directory), "rb") as f:
            return parse_subscriptions(f.read())
    except FileNotFoundError:
        return None


def set_subscribed(
    directory: str,
    levels: Sequence[str],
    separator: str,
    subscribed: bool = True,
    *,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    mode: int = 0o600,
    gid: int | None = None,
    hostname: str | None = None,
) -> bool:
    """Change one subscription under Dovecot's lock. True when the file changed."""
    lock = dotlock.acquire(
        subscriptions_path(directory),
        timeout=dotlock.SUBSCRIPTIONS_LOCK_TIMEOUT,
        stale_timeout=dotlock.SUBSCRIPTIONS_LOCK_STALE_TIMEOUT,
        write_pid=False,
        mode=mode,
        hostname=hostname,
    )
    try:
        current = read_subscriptions(directory) or Subscriptions(version=2)
        updated = current.with_subscription(levels, separator, subscribed)
        # Dovecot re-emits every kept line with a newline, so compare what it would write.
        normalised = Subscriptions(version=current.version, lines=current.lines)
        if updated == normalised:
            lock.release()
            return False
        os.fchmod(lock.fd, mode)
        if gid is not None:
            os.fchown(lock.fd, -1, gid)
        lock.write(updated.to_bytes())
        if fsync is not FsyncMode.NEVER:
            os.fsync(lock.fd)
        if not lock.replace(verify_owner=True):
            raise dotlock.LockTimeoutError(f"our lock on {lock.path} was overridden")
        return True
    except BaseException:
        if lock.is_ours():
            lock.release()
        raise
