"""The mailbox interface the protocols use; Maildir is its first backend.

Everything here is synchronous file-system work: protocol code calls it through
:func:`pydovecot.storage.access.run_as` (a worker thread with the user's identity), never
on the event loop.

A mailbox keeps an index beside the backend's own files: a modification sequence (MODSEQ,
RFC 7162) per message and per mailbox, the save date, sizes, and which messages are
``\\Recent``. Another program (real Dovecot, an MDA, a person with ``mv``) may change the
Maildir at any time; :meth:`Mailbox.sync` notices, keeps UIDs, and gives the changes new
modseqs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


@dataclass(frozen=True)
class MessageInfo:
    uid: int
    flags: frozenset[str]
    """System flags (``\\Seen``...); ``\\Recent`` is per session, see MailboxSnapshot."""
    keywords: tuple[str, ...]
    modseq: int
    size: int
    """Physical size in bytes as stored."""
    vsize: int
    """RFC822.SIZE: the size with every line ending counted as CRLF."""
    internaldate: float
    """INTERNALDATE as a Unix time (Maildir: the file's mtime)."""
    savedate: float | None
    guid: str

    @property
    def all_flags(self) -> tuple[str, ...]:
        return (*sorted(self.flags, key=_flag_order), *self.keywords)


def _flag_order(flag: str) -> int:
    try:
        return SYSTEM_FLAGS.index(flag)
    except ValueError:
        return len(SYSTEM_FLAGS)


@dataclass(frozen=True)
class MailboxSnapshot:
    """The mailbox as one sync left it: messages in ascending UID order."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int
    messages: tuple[MessageInfo, ...]
    recent_uids: frozenset[int]
    """Messages that are ``\\Recent`` for the session that took them (see Mailbox.sync)."""


@dataclass(frozen=True)
class MailboxStatus:
    messages: int
    recent: int
    uidnext: int
    uidvalidity: int
    unseen: int
    highestmodseq: int
    size: int
    """Sum of RFC822.SIZE (STATUS SIZE, RFC 8438)."""
    first_unseen_uid: int | None


class StoreAction(Enum):
    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class StoreResult:
    changed: tuple[MessageInfo, ...]
    """Messages whose flags changed (with their new modseq)."""
    unchanged_since_failed: tuple[int, ...]
    """UIDs that UNCHANGEDSINCE protected (their modseq was higher): the MODIFIED set."""


class MailboxError(Exception):
    """A failure the client sees as NO; ``code`` is an IMAP response code (e.g. NONEXISTENT)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Mailbox(Protocol):
    vname: str

    def sync(self, *, take_recent: bool = False) -> MailboxSnapshot:
        """Bring the index up to date with the backend.

        With ``take_recent`` (SELECT, not EXAMINE) messages nobody has seen as recent yet are
        recent for this caller and for no later one, as Dovecot gives each new message's
        ``\\Recent`` to exactly one session.
        """
        ...

    def status(self) -> MailboxStatus: ...

    def read(self, uid: int) -> bytes | None:
        """The whole message as stored; None when it was expunged meanwhile."""
        ...

    def path_of(self, uid: int) -> str | None:
        """The message's file (for streaming big messages), None when expunged."""
        ...

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None) -> int:
        """Save a message durably (per mail_fsync) and return its UID."""
        ...

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str],
              keywords: Iterable[str] = (), *, unchanged_since: int | None = None) -> StoreResult: ...

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        """Remove messages; returns the UIDs actually expunged now."""
        ...

    def copy_to(self, uids: Sequence[int], target: Mailbox) -> tuple[tuple[int, int], ...]:
        """Copy into ``target`` keeping flags, keywords and internaldate: (source uid, new uid) pairs."""
        ...

    def known_keywords(self) -> tuple[str, ...]: ...
