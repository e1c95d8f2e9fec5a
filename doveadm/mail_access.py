"""What the mail commands need from a user's storage: mailboxes in doveadm's order, their
GUIDs, messages with ``\\Recent``, and a search over them.

doveadm never takes ``\\Recent`` (it opens mailboxes without SELECT semantics), so a message is
recent while no session has taken it. Mailboxes come in the order Dovecot's Maildir++ list
iteration gives: the root directory's readdir order, INBOX last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from pydovecot.imap.protocol.commands import SearchCriterion
from pydovecot.storage.index.mailbox_index import locked_index
from pydovecot.storage.interface import MailboxSnapshot, MessageInfo
from pydovecot.storage.mail_user import MailUser
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir.layout import INBOX, LayoutKind
from pydovecot.storage.maildir.uidlist import read_uidlist
from pydovecot.storage.namespace import Namespace, pattern_regex
from pydovecot.storage.search import SearchContext, matches
from pydovecot.storage.search.message import InfoFields

from .search_query import FALSE, TRUE, for_mailbox


@dataclass(frozen=True)
class Listed:
    vname: str
    namespace: Namespace
    storage: str
    selectable: bool


def list_mailboxes(user: MailUser, patterns: list[str] | None = None) -> list[Listed]:
    """Every mailbox (or those matching any pattern), in Dovecot's listing order."""
    out: list[Listed] = []
    for ns in user.namespaces.namespaces:
        infos = ns.mailbox_list.list("*")
        order = _readdir_order(ns)
        infos.sort(key=lambda info: (info.name == INBOX, order.get(info.name, len(order))))
        for info in infos:
            vname = ns.vname(info.name)
            if patterns is not None and not any(pattern_regex(p, ns.separator).fullmatch(vname) for p in patterns):
                continue
            out.append(Listed(vname, ns, info.name, "\\Noselect" not in info.flags))
    return out


def _readdir_order(ns: Namespace) -> dict[str, int]:
    layout = ns.mailbox_list.layout
    if layout.kind is not LayoutKind.MAILDIRPLUSPLUS:
        return {}
    try:
        entries = os.listdir(ns.mailbox_list.root)
    except OSError:
        return {}
    # Dovecot files each name into a tree (parents first seen through a child) and walks it depth first.
    tree: dict[str, dict] = {}
    sep = ns.mailbox_list.separator
    for entry in entries:
        name = layout.storage_name_of_entry(entry)
        if name:
            node = tree
            for level in name.split(sep):
                node = node.setdefault(level, {})
    order: dict[str, int] = {}

    def walk(node: dict[str, dict], prefix: str) -> None:
        for level, children in node.items():
            order[prefix + level] = len(order)
            walk(children, prefix + level + sep)

    walk(tree, "")
    return order


def mailbox_guid(mailbox: MaildirIndexedMailbox) -> str | None:
    """The GUID Dovecot keeps in the uidlist header (Maildir)."""
    uidlist = read_uidlist(mailbox.control_dir)
    return uidlist.mailbox_guid if uidlist is not None else None


@dataclass
class OpenMailbox:
    """A mailbox synced once for a command: its snapshot, recent UIDs and GUID."""

    listed: Listed
    mailbox: MaildirIndexedMailbox
    snapshot: MailboxSnapshot
    recent: frozenset[int]
    username: str = ""

    @cached_property
    def guid(self) -> str:
        return mailbox_guid(self.mailbox) or ""

    def messages(self) -> Iterator[Message]:
        for seq, info in enumerate(self.snapshot.messages, start=1):
            yield Message(self, seq, info)


def open_mailbox(user: MailUser, listed: Listed) -> OpenMailbox:
    mailbox = user.mailbox_for(listed.namespace, listed.storage)
    snapshot = mailbox.sync()
    with locked_index(mailbox.index_dir) as index:
        taken = index.recent_taken_uid
    # Dovecot gives \Recent to messages its sync finds in new/; a message already in cur/ when
    # the index is built is not recent. doveadm itself never moves them (it takes no \Recent).
    recent = frozenset(m.uid for m in snapshot.messages if m.uid > taken and _in_new(mailbox, m.uid))
    return OpenMailbox(listed, mailbox, snapshot, recent, user.username)


def _in_new(mailbox: MaildirIndexedMailbox, uid: int) -> bool:
    path = mailbox.path_of(uid)
    return path is not None and os.path.basename(os.path.dirname(path)) == "new"


class Message(InfoFields):
    """One message as the search evaluator (SearchableMessage) and fetch see it."""

    def __init__(self, box: OpenMailbox, seq: int, info: MessageInfo) -> None:
        self.box = box
        self.seq = seq
        self.info = info
        self.uid = info.uid
        self._raw: bytes | None = None

    @property
    def recent(self) -> bool:
        return self.uid in self.box.recent

    @property
    def flags(self) -> frozenset[str]:
        return self.info.flags | {"\\Recent"} if self.recent else self.info.flags

    @property
    def guid(self) -> str:
        return self.info.guid

    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = self.box.mailbox.read(self.uid) or b""
        return self._raw

    def flag_text(self) -> str:
        """IMAP order: system flags, \\Recent, then keywords."""
        names = [f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft") if f in self.info.flags]
        if self.recent:
            names.append("\\Recent")
        return " ".join([*names, *self.info.keywords])


def search(user: MailUser, query: SearchCriterion) -> Iterator[Message]:
    """Matching messages, mailbox after mailbox (mailboxes the query excludes are not opened)."""
    for listed in list_mailboxes(user):
        if not listed.selectable:
            continue
        yield from search_mailbox(user, listed, query)


def search_mailbox(user: MailUser, listed: Listed, query: SearchCriterion) -> Iterator[Message]:
    # The GUID is needed only when the query names one; reading it needs the mailbox opened.
    pre = for_mailbox(query, listed.vname, None, listed.namespace.separator)
    if pre == FALSE and "MAILBOX-GUID" not in repr(query):
        return
    box = open_mailbox(user, listed)
    tree = for_mailbox(query, listed.vname, box.guid, listed.namespace.separator)
    if tree == FALSE:
        return
    snap = box.snapshot
    # doveadm's "*" in a UID set is the largest possible UID, not the mailbox's last one
    # (so "uid 2:*" never matches UID 1, unlike IMAP).
    ctx = SearchContext(messages_count=len(snap.messages), max_uid=0xFFFFFFFF, mailbox_name=listed.vname)
    for message in box.messages():
        if tree == TRUE or matches(tree, message, ctx):
            yield message
