"""What SEARCH, SORT and THREAD need from a message: written once above every storage backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pydovecot.storage.interface import MessageInfo

__all__ = ["InfoFields", "SearchableMessage"]


@runtime_checkable
class SearchableMessage(Protocol):
    """One message of a selected mailbox, as a backend (maildir, mbox, dbox, index) exposes it.

    `flags` holds the system flags (`\\Seen`, `\\Recent`, ...), `keywords` the keyword names.
    Times are epoch seconds; `savedate` is None when the backend can not tell (then SAVEDATE
    keys never match and SAVEDATESUPPORTED is false)."""

    @property
    def seq(self) -> int: ...

    @property
    def uid(self) -> int: ...

    @property
    def flags(self) -> frozenset[str]: ...

    @property
    def keywords(self) -> frozenset[str]: ...

    @property
    def internaldate(self) -> int: ...

    @property
    def savedate(self) -> int | None: ...

    @property
    def size(self) -> int:
        """RFC822.SIZE: the message with CRLF line endings."""
        ...

    @property
    def modseq(self) -> int: ...

    def raw(self) -> bytes:
        """The full message (header and body) as stored."""
        ...


class InfoFields:
    """The SearchableMessage fields that come straight from the storage's MessageInfo (``info``),
    for the adapters that add seq, flags and raw() their own way (IMAP's view, doveadm's)."""

    info: MessageInfo

    @property
    def keywords(self) -> frozenset[str]:
        return frozenset(self.info.keywords)

    @property
    def internaldate(self) -> int:
        return int(self.info.internaldate)

    @property
    def savedate(self) -> int | None:
        return None if self.info.savedate is None else int(self.info.savedate)

    @property
    def size(self) -> int:
        return self.info.vsize

    @property
    def modseq(self) -> int:
        return self.info.modseq
