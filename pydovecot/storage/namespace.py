"""Namespaces: how a client-visible mailbox name (vname) maps onto a mailbox list.

A namespace has a prefix (``""``, ``INBOX.``, ``Shared/``), a separator the client sees
(empty means the storage's own: ``.`` for Maildir++, ``/`` for fs), and a mailbox list
under its own location. Exactly one private namespace has ``inbox = yes``; INBOX (in any
case) always belongs to it. The longest matching prefix decides where any other name lives.

Names in this module are Unicode (UTF-8 inside); modified UTF-7 is the IMAP layer's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from .mail_location import MailLocation
from .maildir.fsync import FsyncMode
from .maildir.layout import INBOX, MailboxNameError
from .maildir.mailbox_list import MailboxInfo, MaildirMailboxList


@dataclass(frozen=True)
class MailboxSettings:
    """A ``mailbox NAME { }`` block of a namespace."""

    name: str
    auto: str = "no"  # no | create | subscribe
    special_use: tuple[str, ...] = ()
    autoexpunge: int = 0
    autoexpunge_max_mails: int = 0


class NameEscaper(Protocol):
    """Escapes characters a storage name cannot hold, per hierarchy level (listescape)."""

    def escape(self, level: str) -> str: ...

    def unescape(self, level: str) -> str: ...


@dataclass
class Namespace:
    name: str
    type: str  # private | shared | public
    prefix: str
    separator: str
    inbox: bool
    hidden: bool
    list: str  # yes | no | children
    subscriptions: bool
    location: MailLocation
    mailbox_list: MaildirMailboxList
    mailboxes: dict[str, MailboxSettings] = field(default_factory=dict)
    name_escape: NameEscaper | None = None
    """Set by the listescape plugin: levels are escaped on their way to the storage."""

    @property
    def storage_separator(self) -> str:
        return self.mailbox_list.separator

    def owns(self, vname: str) -> bool:
        if self.inbox and vname.upper() == INBOX:
            return True
        return vname.startswith(self.prefix) or vname + self.separator == self.prefix

    def storage_name(self, vname: str) -> str:
        """The name inside this namespace's mailbox list (raises MailboxNameError)."""
        if self.inbox and vname.upper() == INBOX:
            return INBOX
        if self.inbox and self.prefix and vname[len(self.prefix):].upper() == INBOX:
            # INBOX.INBOX under prefix INBOX. is not INBOX itself; Dovecot refuses it too.
            raise MailboxNameError("Invalid mailbox name: INBOX under namespace prefix")
        rest = vname[len(self.prefix):]
        if not rest:
            raise MailboxNameError("Invalid mailbox name: Empty name")
        layout = self.mailbox_list.layout
        if self.name_escape is not None:
            rest = self.separator.join(self.name_escape.escape(level) for level in rest.split(self.separator))
        return layout.storage_name(rest, separator=self.separator, inbox_namespace=self.inbox)

    def vname(self, storage_name: str) -> str:
        if storage_name == INBOX and self.inbox:
            return INBOX
        if self.name_escape is None:
            return self.mailbox_list.layout.vname(storage_name, prefix=self.prefix, separator=self.separator)
        # Decode level by level with a separator no level holds, then unescape each level.
        levels = self.mailbox_list.layout.vname(storage_name, separator="\0").split("\0")
        return self.prefix + self.separator.join(self.name_escape.unescape(level) for level in levels)

    def special_use(self, vname: str) -> tuple[str, ...]:
        rest = vname[len(self.prefix):] if vname != INBOX else INBOX
        settings = self.mailboxes.get(rest)
        return settings.special_use if settings else ()

    def mailbox_path(self, storage_name: str) -> str:
        return self.mailbox_list.layout.mailbox_path(storage_name)


@dataclass(frozen=True)
class ListedMailbox:
    vname: str
    flags: frozenset[str]
    namespace: Namespace
    special_use: tuple[str, ...] = ()


class NamespaceSet:
    """All namespaces of one user, answering "which namespace holds this name?"."""

    def __init__(self, namespaces: list[Namespace]) -> None:
        self.namespaces = namespaces
        # Longest prefix first, so "INBOX." wins over "".
        self._by_prefix = sorted(namespaces, key=lambda ns: len(ns.prefix), reverse=True)

    @property
    def inbox_namespace(self) -> Namespace:
        for ns in self.namespaces:
            if ns.inbox:
                return ns
        return self.namespaces[0]

    def find(self, vname: str) -> Namespace:
        if vname.upper() == INBOX:
            return self.inbox_namespace
        for ns in self._by_prefix:
            if ns.owns(vname):
                return ns
        raise MailboxNameError(f"Invalid mailbox name: no namespace for {vname}")

    def resolve(self, vname: str) -> tuple[Namespace, str]:
        """The namespace and storage name of a vname."""
        if vname.upper() == INBOX:
            vname = INBOX
        ns = self.find(vname)
        return ns, ns.storage_name(vname)

    def list(self, pattern: str = "*", reference: str = "") -> list[ListedMailbox]:
        """Mailboxes whose vname matches ``reference + pattern`` (IMAP wildcards)."""
        full = reference + pattern
        out: list[ListedMailbox] = []
        seen: set[str] = set()
        for ns in self.namespaces:
            if ns.list == "no" and not (ns.prefix and full.startswith(ns.prefix)):
                continue
            matcher = pattern_regex(full, ns.separator)
            if ns.prefix and matcher.fullmatch(ns.prefix.rstrip(ns.separator)):
                name = ns.prefix.rstrip(ns.separator)
                if name not in seen and name.upper() != INBOX:
                    seen.add(name)
                    out.append(ListedMailbox(name, frozenset({"\\Noselect", "\\HasChildren"}), ns))
            for info in ns.mailbox_list.list("*"):
                vname = ns.vname(info.name)
                if vname in seen or not matcher.fullmatch(vname):
                    continue
                seen.add(vname)
                out.append(ListedMailbox(vname, _flags(info), ns, ns.special_use(vname)))
        return out


def _flags(info: MailboxInfo) -> frozenset[str]:
    return info.flags


def pattern_regex(pattern: str, separator: str) -> re.Pattern[str]:
    """An IMAP LIST pattern: ``*`` matches anything, ``%`` anything but the separator.

    INBOX matches case-insensitively, as RFC 3501 requires for that one name.
    """
    parts: list[str] = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "%":
            parts.append("[^" + re.escape(separator) + "]*" if separator else ".*")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts)
    inbox = r"(?i:INBOX)"
    if re.fullmatch(body, INBOX, re.IGNORECASE) and not re.fullmatch(body, INBOX):
        # The pattern matches "inbox" spelled differently: accept INBOX itself.
        body = f"(?:{body}|{inbox})"
    return re.compile(body, re.DOTALL)


def fsync_mode(value: object) -> FsyncMode:
    return FsyncMode.parse(str(value or "optimized"))
