"""LIST (with LIST-EXTENDED, LIST-STATUS and SPECIAL-USE options) and LSUB.

Which flags show follows Dovecot 2.3.19: a plain LIST shows children and special-use flags;
once selection or return options are given, children flags only with RETURN (CHILDREN),
special-use flags only with SPECIAL-USE, `\\Subscribed` only with SUBSCRIBED.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydovecot.storage.maildir.layout import INBOX
from pydovecot.storage.namespace import ListedMailbox, Namespace, pattern_regex

from ..protocol import commands as c
from ..protocol.responses import paren_list, quoted, untagged
from .common import mailbox_name, ok
from .status import mailbox_status, status_line

if TYPE_CHECKING:
    from pydovecot.storage.mail_user import MailUser

    from ..session import Session

_CHILDREN = frozenset({"\\HasChildren", "\\HasNoChildren"})


@dataclass(frozen=True)
class _Entry:
    vname: str
    flags: tuple[str, ...]
    separator: str
    selectable: bool
    extra: bytes = b""  # LIST-EXTENDED data: ` (CHILDINFO ("SUBSCRIBED"))`


@dataclass(frozen=True)
class _Wants:
    """Which flags this LIST shows (see the module doc)."""

    children: bool
    special: bool
    subscribed: bool
    recursive: bool

    @classmethod
    def of(cls, cmd: c.ListMailboxes) -> _Wants:
        extended = bool(cmd.selection or cmd.return_options) or len(cmd.patterns) > 1
        return cls(
            children=not extended or "CHILDREN" in cmd.return_options,
            special=not extended or "SPECIAL-USE" in cmd.return_options or "SPECIAL-USE" in cmd.selection,
            subscribed="SUBSCRIBED" in cmd.selection or "SUBSCRIBED" in cmd.return_options,
            recursive="RECURSIVEMATCH" in cmd.selection,
        )


def _subscriptions(user: MailUser) -> set[str]:
    names: set[str] = set()
    for ns in user.namespaces.with_shared():
        for storage in ns.mailbox_list.subscriptions():
            names.add(ns.vname(storage))
    return names


def _subscribed_parents(user: MailUser, subscribed: set[str], cmd: c.ListMailboxes) -> set[str]:
    """Names the pattern matches that have subscribed descendants the pattern does not reach."""
    parents: set[str] = set()
    for name in subscribed:
        separator = user.namespaces.find(name).separator
        levels = name.split(separator)
        for depth in range(1, len(levels)):
            parent = separator.join(levels[:depth])
            if _matches(user, parent, cmd) and not _matches(user, name, cmd):
                parents.add(parent)
    return parents


def _collect(user: MailUser, cmd: c.ListMailboxes) -> list[_Entry]:
    wants = _Wants.of(cmd)
    by_subscription = cmd.lsub or "SUBSCRIBED" in cmd.selection
    subscribed = _subscriptions(user) if wants.subscribed or cmd.lsub else set()
    found: dict[str, ListedMailbox] = {}
    for pattern in cmd.patterns:
        for item in user.namespaces.list(pattern, cmd.reference):
            if not _template(item.namespace) and user.mailbox_visible(item.vname):
                found.setdefault(item.vname, _inbox_children(user, item))
    parents: set[str] = set()
    if by_subscription:
        names = {n for n in subscribed if _matches(user, n, cmd)}
        if cmd.lsub or wants.recursive:
            parents = _subscribed_parents(user, subscribed, cmd)
            names |= parents
    else:
        names = set(found)
    entries: list[_Entry] = []
    for vname in sorted(names, key=lambda n: (n != INBOX, n)):
        item = found.get(vname)
        if "SPECIAL-USE" in cmd.selection and (item is None or not item.special_use):
            continue
        ns = item.namespace if item is not None else user.namespaces.find(vname)
        flags = _flags(cmd, wants, item, vname in subscribed, vname in parents)
        extra = b' (CHILDINFO ("SUBSCRIBED"))' if vname in parents and not cmd.lsub else b""
        selectable = item is not None and "\\Noselect" not in item.flags
        entries.append(_Entry(vname, flags, ns.separator, selectable, extra))
    return entries


def _template(ns: Namespace) -> bool:
    """A shared namespace whose prefix names its users (`shared/%u/`): Dovecot lists one entry
    per user who shares mailboxes with us, none for the template itself."""
    return ns.type == "shared" and "%" in ns.prefix


def _inbox_children(user: MailUser, item: ListedMailbox) -> ListedMailbox:
    """INBOX under an `INBOX/` prefix: the namespace's other mailboxes are its children, though
    the storage (Maildir++) keeps them beside it, not under it."""
    ns = item.namespace
    if item.vname != INBOX or not ns.inbox or ns.prefix.rstrip(ns.separator).upper() != INBOX:
        return item
    if "\\HasChildren" in item.flags or not any(info.name != INBOX for info in ns.mailbox_list.list("*")):
        return item
    flags = (item.flags - {"\\HasNoChildren"}) | {"\\HasChildren"}
    return replace(item, flags=frozenset(flags))


def _flags(cmd: c.ListMailboxes, wants: _Wants, item: ListedMailbox | None, subscribed: bool,
           parent_only: bool) -> tuple[str, ...]:
    if cmd.lsub:
        if parent_only and not subscribed:
            return ("\\Noselect",)
        return item.special_use if item is not None else ()
    flags: list[str] = []
    if wants.subscribed and subscribed:
        flags.append("\\Subscribed")
    if item is None or (parent_only and "\\Noselect" in item.flags):
        flags.append("\\NonExistent")  # a parent only in the subscriptions' tree
    else:
        if "\\Noselect" in item.flags:
            flags.append("\\Noselect")
        if wants.children:
            flags.extend(f for f in sorted(item.flags) if f in _CHILDREN)
        if wants.special:
            flags.extend(item.special_use)
    return tuple(flags)


def _matches(user: MailUser, vname: str, cmd: c.ListMailboxes) -> bool:
    ns = user.namespaces.find(vname) if vname else user.namespaces.inbox_namespace
    return any(pattern_regex(cmd.reference + p, ns.separator).fullmatch(vname) for p in cmd.patterns)


async def run(session: Session, cmd: c.ListMailboxes) -> None:
    started = time.monotonic()
    user = session.user
    assert user is not None
    verb = "LSUB" if cmd.lsub else "LIST"
    if not cmd.lsub and cmd.patterns == ("",):
        separator = user.namespaces.inbox_namespace.separator
        session.send(untagged(b'LIST (\\Noselect) ' + quoted(separator.encode()) + b' ""'))
        ok(session, cmd.tag, "List completed.", started=started)
        return
    entries = await session.storage(_collect, user, cmd)
    for entry in entries:
        flags = paren_list(f.encode() for f in entry.flags)
        line = f"{verb} ".encode() + flags + b" " + quoted(entry.separator.encode()) + b" "
        session.send(untagged(line + mailbox_name(entry.vname) + entry.extra))
        if cmd.return_status and entry.selectable:
            try:
                status = await mailbox_status(session, entry.vname)
            except Exception:  # noqa: BLE001 - a mailbox that went away meanwhile has no STATUS
                continue
            session.send(status_line(entry.vname, status, cmd.return_status))
    ok(session, cmd.tag, "Lsub completed." if cmd.lsub else "List completed.", started=started)
