"""Where quota usage comes from: ``count`` (our index) and ``maildir`` (the ``maildirsize`` file).

``count`` adds up the virtual sizes and message counts our index keeps for every mailbox
(Dovecot 2.3's recommended backend does the same with its index). ``maildir`` keeps the
Maildir++ ``maildirsize`` file in the Maildir root that real Dovecot, Courier and others read
and write: a first line with the limits (``<bytes>S,<count>C``) and then one line per change
(``<bytes> <count>``, negative for expunges); the sum of the change lines is the usage. It
is recalculated from the mailboxes when missing, when the limits changed, when it grew past
5120 bytes, or when its sum went negative, as Dovecot does.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

MAILDIRSIZE = "maildirsize"
MAILDIRSIZE_MAX = 5120


@dataclass(frozen=True)
class Usage:
    bytes: int
    messages: int


# (vname, physical size sum, virtual size sum, message count) of every counted mailbox.
MailboxTotals = Callable[[], Iterable[tuple[str, int, int, int]]]


class UsageBackend(Protocol):
    def usage(self) -> Usage: ...

    def changed(self, bytes_delta: int, messages_delta: int) -> None: ...

    def recalculate(self) -> Usage: ...


class CountBackend:
    def __init__(self, totals: MailboxTotals, counted: Callable[[str], bool]) -> None:
        self._totals = totals
        self._counted = counted

    def usage(self) -> Usage:
        size = count = 0
        for vname, _physical, virtual, messages in self._totals():
            if self._counted(vname):
                size += virtual
                count += messages
        return Usage(size, count)

    def changed(self, bytes_delta: int, messages_delta: int) -> None:
        """Nothing to write: the next usage() reads the index."""

    def recalculate(self) -> Usage:
        return self.usage()


class MaildirsizeBackend:
    def __init__(self, root: str, limits: tuple[int, int], totals: MailboxTotals,
                 counted: Callable[[str], bool]) -> None:
        self.path = os.path.join(root, MAILDIRSIZE)
        self.limits = limits
        self._totals = totals
        self._counted = counted

    @property
    def limits_line(self) -> str:
        # As Dovecot writes it: a zero limit is left out, and with no limit at all "0S" stands
        # in for an empty line.
        storage, messages = self.limits
        parts = [f"{storage}S"] if storage or not messages else []
        if messages:
            parts.append(f"{messages}C")
        return ",".join(parts)

    def usage(self) -> Usage:
        parsed = self._read()
        if parsed is None:
            return self.recalculate()
        return parsed

    def _read(self) -> Usage | None:
        try:
            with open(self.path, "rb") as f:
                raw = f.read(MAILDIRSIZE_MAX + 1)
        except FileNotFoundError:
            return None
        if len(raw) > MAILDIRSIZE_MAX:
            return None
        lines = raw.decode("ascii", "replace").split("\n")
        if lines[0].strip() != self.limits_line:
            return None
        size = count = 0
        for line in lines[1:]:
            parts = line.split()
            if len(parts) != 2:
                continue
            try:
                size += int(parts[0])
                count += int(parts[1])
            except ValueError:
                return None
        if size < 0 or count < 0:
            return None
        return Usage(size, count)

    def changed(self, bytes_delta: int, messages_delta: int) -> None:
        if not os.path.exists(self.path):
            self.recalculate()
            return
        # One write with O_APPEND: lines from concurrent writers never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, f"{bytes_delta} {messages_delta}\n".encode())
        finally:
            os.close(fd)

    def recalculate(self) -> Usage:
        size = count = 0
        for vname, physical, _virtual, messages in self._totals():
            if self._counted(vname):
                size += physical
                count += messages
        tmp = f"{self.path}.{os.getpid()}.{socket.gethostname()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{self.limits_line}\n{size} {count}\n")
        os.replace(tmp, self.path)
        return Usage(size, count)
