"""LIST (with LIST-EXTENDED, LIST-STATUS and SPECIAL-USE options) and LSUB.

Which flags show follows Dovecot 2.3.19: a plain LIST shows children and special-use flags;
once LIST-EXTENDED syntax is used (a selection list, a pattern list, RETURN, even empty),
children flags only with RETURN (CHILDREN), special-use flags only with SPECIAL-USE,
`\\Subscribed` only with SUBSCRIBED.

Names that are not mailboxes (recorded in tests/imap/session/goldens/list_extended.json):
- a level only its children imply (Maildir++) is `\\NonExistent` once the LIST is extended,
  `\\Noselect` otherwise; a bare directory (LAYOUT=fs) is `\\Noselect` either way;
- without the mailbox list index, Dovecot's Maildir++ listing shows such a level only where a
  mailbox below it does not match the pattern itself (`%` shows `a` for `a/b/c`, `*` does not);
- listed by subscription, a name is `\\NonExistent` unless the storage has an entry for it:
  a bare fs directory shows no flag at all, and its RETURN STATUS fails with `* NO`;
- RETURN (CHILDREN) of a name the storage lacks: `\\HasNoChildren` under fs (no directory),
  under Maildir++ `\\HasChildren` when subscriptions lie below it (CHILDINFO parents).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydovecot.storage.maildir.layout import INBOX, LayoutKind
from pydovecot.storage.namespace import ListedMailbox, Namespace, pattern_regex

from ..protocol import commands as c
from ..protocol.responses import paren_list, quoted, untagged
from .common import mailbox_name, ok, storage_error
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
    extended: bool  # LIST-EXTENDED syntax: `\\NonExistent` instead of `\\Noselect`

    @classmethod
    def of(cls, cmd: c.ListMailboxes) -> _Wants:
        extended = cmd.extended or bool(cmd.selection or cmd.return_options) or len(cmd.patterns) > 1
        return cls(
            children=not extended or "CHILDREN" in cmd.return_options,
            special=not extended or "SPECIAL-USE" in cmd.return_options or "SPECIAL-USE" in cmd.selection,
            subscribed="SUBSCRIBED" in cmd.selection or "SUBSCRIBED" in cmd.return_options,
            recursive="RECURSIVEMATCH" in cmd.selection,
            extended=extended,
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


def _implied_unlisted(user: MailUser, found: dict[str, ListedMailbox], cmd: c.ListMailboxes) -> set[str]:
    """Without the list index, Dovecot's Maildir++ iteration adds a parent that has no directory
    only on its way up from a mailbox the pattern does not match itself: the implied parents
    that no such mailbox leads to are not listed."""
    implied = {vname for vname, item in found.items() if item.nonexistent}
    if not implied:
        return set()
    reached: set[str] = set()
    for item in user.namespaces.list("*"):
        if item.nonexistent or _matches(user, item.vname, cmd):
            continue
        sep = item.namespace.separator
        levels = item.vname.split(sep)
        reached.update(sep.join(levels[:depth]) for depth in range(1, len(levels)))
    return implied - reached


def _collect(user: MailUser, cmd: c.ListMailboxes, list_index: bool = True) -> list[_Entry]:
    wants = _Wants.of(cmd)
    by_subscription = cmd.lsub or "SUBSCRIBED" in cmd.selection
    subscribed = _subscriptions(user) if wants.subscribed or cmd.lsub else set()
    found: dict[str, ListedMailbox] = {}
    for pattern in cmd.patterns:
        for item in user.namespaces.list(_joined(user, cmd.reference, pattern)):
            if not _template(item.namespace) and user.mailbox_visible(item.vname):
                found.setdefault(item.vname, _inbox_children(user, item))
    if not list_index and not by_subscription:
        for vname in _implied_unlisted(user, found, cmd):
            del found[vname]
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
        if by_subscription and not cmd.lsub and vname not in parents:
            flags = _subscribed_flags(user, vname, wants, item, subscribed)
            # Dovecot asks STATUS of whatever the storage has an entry for, bare fs levels too.
            selectable = item is not None and not item.nonexistent
        else:
            flags = _flags(user, vname, cmd, wants, item, subscribed, vname in parents)
            selectable = item is not None and "\\Noselect" not in item.flags
        extra = b' (CHILDINFO ("SUBSCRIBED"))' if vname in parents and not cmd.lsub else b""
        entries.append(_Entry(vname, flags, ns.separator, selectable, extra))
    return entries


def _children(user: MailUser, vname: str, item: ListedMailbox | None, subscribed: set[str]) -> list[str]:
    """RETURN (CHILDREN) for a name. One the storage does not have: with LAYOUT=fs it has no
    directory, so no children; Maildir++ counts the subscribed names below it."""
    if item is not None:
        return [f for f in sorted(item.flags) if f in _CHILDREN]
    ns = user.namespaces.find(vname)
    if ns.mailbox_list.layout.kind is LayoutKind.MAILDIRPLUSPLUS and any(
            name.startswith(vname + ns.separator) for name in subscribed):
        return ["\\HasChildren"]
    return ["\\HasNoChildren"]


def _subscribed_flags(user: MailUser, vname: str, wants: _Wants, item: ListedMailbox | None,
                      subscribed: set[str]) -> tuple[str, ...]:
    """A subscription listed by LIST (SUBSCRIBED): the storage's `\\Noselect` does not show."""
    flags = ["\\Subscribed"]
    if item is None or item.nonexistent:
        flags.append("\\NonExistent")
    if wants.children:
        flags.extend(_children(user, vname, item, subscribed))
    if wants.special and item is not None:
        flags.extend(item.special_use)
    return tuple(flags)


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


def _flags(user: MailUser, vname: str, cmd: c.ListMailboxes, wants: _Wants, item: ListedMailbox | None,
           subscribed: set[str], parent_only: bool) -> tuple[str, ...]:
    if cmd.lsub:
        if parent_only and vname not in subscribed:
            return ("\\Noselect",)
        return item.special_use if item is not None else ()
    flags: list[str] = []
    if wants.subscribed and vname in subscribed:
        flags.append("\\Subscribed")
    if parent_only:
        # Above a subscription: `\\NonExistent` when the storage has nothing there, no flag
        # for a bare fs directory or a mailbox; children as the storage has them.
        if item is None or item.nonexistent:
            flags.append("\\NonExistent")
        if wants.children:
            flags.extend(_children(user, vname, item, subscribed))
    elif item is None:
        flags.append("\\NonExistent")
    else:
        if "\\Noselect" in item.flags:
            flags.append("\\NonExistent" if item.nonexistent and wants.extended else "\\Noselect")
        if wants.children:
            flags.extend(f for f in sorted(item.flags) if f in _CHILDREN)
        if wants.special:
            flags.extend(item.special_use)
    return tuple(flags)


def _matches(user: MailUser, vname: str, cmd: c.ListMailboxes) -> bool:
    ns = user.namespaces.find(vname) if vname else user.namespaces.inbox_namespace
    return any(pattern_regex(_joined(user, cmd.reference, p), ns.separator).fullmatch(vname) for p in cmd.patterns)


def _joined(user: MailUser, reference: str, pattern: str) -> str:
    """The reference and the pattern as one pattern. With LAYOUT=fs Dovecot takes a pattern
    that starts with `/` or `~` as a path of its own and drops the reference (fs_list's
    join_refpattern); no mailbox name starts so, and the LIST is empty."""
    if reference and pattern[:1] in ("/", "~"):
        ns = user.namespaces.find(reference)
        if ns.mailbox_list.layout.kind is LayoutKind.FS:
            return pattern
    return reference + pattern


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
    entries = await session.storage(_collect, user, cmd, bool(session.settings.get("mailbox_list_index")))
    for entry in entries:
        flags = paren_list(f.encode() for f in entry.flags)
        line = f"{verb} ".encode() + flags + b" " + quoted(entry.separator.encode()) + b" "
        session.send(untagged(line + mailbox_name(entry.vname) + entry.extra))
        if cmd.return_status and entry.selectable:
            try:
                status = await mailbox_status(session, entry.vname)
            except Exception as exc:  # noqa: BLE001 - Dovecot reports it and goes on listing
                session.send(untagged(b"NO " + storage_error(exc, entry.vname).text.rstrip(".").encode()))
                continue
            session.send(status_line(entry.vname, status, cmd.return_status))
    ok(session, cmd.tag, "Lsub completed." if cmd.lsub else "List completed.", started=started)
