"""IMAP NOTIFY (RFC 5465) as Dovecot 2.3.19 does it: what the client asked for, and the changes
it is told about while it sends no command.

`parse_notify()` turns NOTIFY's arguments into a `NotifySpec` (or a `NotifyError` worded as
Dovecot words it); `NotifyState` keeps the last status of each watched mailbox, the mailbox
list and the subscriptions, and turns a fresh look at them into `* STATUS` and `* LIST` lines.

Change detection is the IDLE watcher's inotify (watch.py), never polling: each watched mailbox
registers its `new/` and `cur/`, the mail root and control directory stand for creates,
deletes, renames and subscriptions. Whatever wrote the change (another session, LMTP, real
Dovecot on the same Maildir) only has to touch those directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntFlag
from typing import TYPE_CHECKING, Any

from .protocol import commands as c
from .protocol.errors import ImapProtocolError
from .protocol.lexer import Lexer
from .protocol.mutf7 import decode_mutf7
from .protocol.responses import untagged

if TYPE_CHECKING:
    from pydovecot.storage.mail_user import MailUser

    from .session import Session


class Event(IntFlag):
    """NOTIFY's events, in the order of Dovecot's name table (BADEVENT lists them so)."""

    MESSAGE_NEW = 1
    MESSAGE_EXPUNGE = 2
    FLAG_CHANGE = 4
    ANNOTATION_CHANGE = 8
    MAILBOX_NAME = 16
    SUBSCRIPTION_CHANGE = 32
    MAILBOX_METADATA_CHANGE = 64
    SERVER_METADATA_CHANGE = 128


EVENT_NAMES: dict[str, Event] = {
    "MessageNew": Event.MESSAGE_NEW, "MessageExpunge": Event.MESSAGE_EXPUNGE,
    "FlagChange": Event.FLAG_CHANGE, "AnnotationChange": Event.ANNOTATION_CHANGE,
    "MailboxName": Event.MAILBOX_NAME, "SubscriptionChange": Event.SUBSCRIPTION_CHANGE,
    "MailboxMetadataChange": Event.MAILBOX_METADATA_CHANGE,
    "ServerMetadataChange": Event.SERVER_METADATA_CHANGE,
}
_BY_UPPER = {name.upper(): (name, event) for name, event in EVENT_NAMES.items()}
# Dovecot 2.3.19 refuses these with NO [BADEVENT ...] whether or not METADATA is configured.
UNSUPPORTED = Event.ANNOTATION_CHANGE | Event.MAILBOX_METADATA_CHANGE | Event.SERVER_METADATA_CHANGE
MESSAGE_EVENTS = Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE | Event.FLAG_CHANGE | Event.ANNOTATION_CHANGE
# Dovecot's limit on mailbox names in one filter of one namespace.
MAX_NAMES_PER_NAMESPACE = 100
# A delivery is several file operations: wait this long after the first before looking.
SETTLE_SECONDS = 0.05


class NotifyError(Exception):
    """NOTIFY refused: `status` BAD (syntax, as "Error in IMAP command NOTIFY: ...") or NO."""

    def __init__(self, status: str, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.code = status, text, code


def _bad(text: str = "Invalid arguments") -> NotifyError:
    return NotifyError("BAD", text)


@dataclass(frozen=True)
class Filter:
    """One event group other than SELECTED: `kind` is personal, subscribed, subtree or mailboxes."""

    kind: str
    names: tuple[str, ...]
    events: Event


@dataclass
class NotifySpec:
    """A parsed `NOTIFY SET` (or NONE: no filters, nothing selected)."""

    send_status: bool = False
    selected_set: bool = False
    selected_events: Event = Event(0)
    immediate_expunges: bool = False
    fetch_attributes: tuple[c.FetchAttribute, ...] = ()
    filters: list[Filter] = field(default_factory=list)
    used: Event = Event(0)

    @property
    def status_events(self) -> bool:
        """Whether any filter wants message events (the only ones STATUS answers)."""
        return any(f.events & MESSAGE_EVENTS for f in self.filters)


# --- parsing -------------------------------------------------------------------------------------


def _atom(lexer: Lexer) -> str | None:
    word = lexer.read_atom()
    return None if word is None else word.decode("ascii", "replace")


def _event(lexer: Lexer) -> Event:
    word = _atom(lexer)
    found = _BY_UPPER.get((word or "").upper())
    if found is None:
        raise _bad()
    return found[1]


def _mailbox(lexer: Lexer) -> str:
    value = lexer.read_astring()
    if value is None:
        raise _bad()
    name = decode_mutf7(value)
    # Names are compared case-sensitively later: INBOX is made upper case first, as Dovecot does.
    if name[:5].upper() == "INBOX" and name[:5] != "INBOX" and (len(name) == 5 or name[5] in "/."):
        name = "INBOX" + name[5:]
    return name


def _names(lexer: Lexer) -> list[str]:
    if not lexer.open_paren():
        return [_mailbox(lexer)]
    names: list[str] = []
    while not lexer.close_paren():
        if names and not lexer.skip_space():
            raise _bad()
        if lexer.at_end():
            raise _bad()
        names.append(_mailbox(lexer))
    if not names:
        raise _bad()
    return names


def _selected(spec: NotifySpec, lexer: Lexer) -> None:
    if not lexer.open_paren():
        word = _atom(lexer)
        if (word or "").upper() != "NONE":
            raise _bad()
        return
    count = 0
    while not lexer.close_paren():
        if count and not lexer.skip_space():
            raise _bad()
        if lexer.at_end():
            raise _bad()
        event = _event(lexer)
        count += 1
        spec.selected_events |= event
        spec.used |= event
        if event is Event.MESSAGE_NEW and lexer.peek_is(b" ") and lexer.raw[lexer.pos + 1:lexer.pos + 2] == b"(":
            lexer.skip_space()
            spec.fetch_attributes = _fetch_attributes(lexer)
    if count == 0:
        raise _bad()
    new_or_expunge = spec.selected_events & (Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE)
    if new_or_expunge and new_or_expunge != Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE:
        raise _bad("MessageNew and MessageExpunge must be together")
    if spec.selected_events & (Event.FLAG_CHANGE | Event.ANNOTATION_CHANGE) and \
            not spec.selected_events & Event.MESSAGE_EXPUNGE:
        raise _bad("FlagChange requires MessageNew and MessageExpunge")


def _fetch_attributes(lexer: Lexer) -> tuple[c.FetchAttribute, ...]:
    from .protocol.parser import _fetch_item  # FETCH's own item parser: the same words, the same errors

    lexer.open_paren()
    attributes: list[c.FetchAttribute] = []
    try:
        while not lexer.close_paren():
            if attributes and not lexer.skip_space():
                raise ImapProtocolError("Missing ')'")
            if lexer.at_end():
                raise ImapProtocolError("Missing ')'")
            attributes.extend(_fetch_item(lexer, in_list=True))
    except ImapProtocolError as exc:
        raise _bad(f"Invalid fetch-att list: {exc}") from None
    return tuple(attributes)


def _group(spec: NotifySpec, lexer: Lexer) -> None:
    if not lexer.open_paren():
        raise _bad()
    kind = (_atom(lexer) or "").upper()
    if not lexer.skip_space():
        raise _bad()
    if kind in ("SELECTED", "SELECTED-DELAYED"):
        if spec.selected_set:
            raise _bad("Duplicate selected filter")
        spec.selected_set = True
        spec.immediate_expunges = kind == "SELECTED"
        _selected(spec, lexer)
    elif kind in ("INBOXES", "PERSONAL", "SUBSCRIBED", "SUBTREE", "MAILBOXES"):
        names: list[str] = []
        if kind in ("SUBTREE", "MAILBOXES"):
            names = _names(lexer)
            if not lexer.skip_space():
                raise _bad()
        events = _events(spec, lexer)
        if events:
            # Dovecot cannot tell which mailboxes are inboxes, so INBOXES means PERSONAL.
            spec.filters.append(_filter("PERSONAL" if kind == "INBOXES" else kind, names, events))
    else:
        raise _bad()
    if not lexer.close_paren():
        raise _bad()


def _events(spec: NotifySpec, lexer: Lexer) -> Event:
    if not lexer.open_paren():
        if (_atom(lexer) or "").upper() != "NONE":
            raise _bad()
        return Event(0)
    events = Event(0)
    count = 0
    while not lexer.close_paren():
        if count and not lexer.skip_space():
            raise _bad()
        if lexer.at_end():
            raise _bad()
        events |= _event(lexer)
        count += 1
    if count == 0:
        raise _bad()
    spec.used |= events
    return events


def _filter(kind: str, names: list[str], events: Event) -> Filter:
    kept: list[str] = []
    for name in names:
        if name in kept:
            continue
        if kind == "SUBTREE":
            if any(name.startswith(old + "/") for old in kept):
                continue  # already inside a subtree we have
            kept = [old for old in kept if not old.startswith(name + "/")]
        kept.append(name)
    return Filter(kind.lower(), tuple(kept), events)


def parse_notify(arguments: bytes) -> NotifySpec:
    """NOTIFY's arguments (after the command name) as a spec; NotifyError as Dovecot refuses them."""
    try:
        return _parse(Lexer(arguments))
    except ImapProtocolError as exc:  # a broken string or literal: the lexer's words
        raise _bad(str(exc).rstrip(".")) from None


def _check_structure(raw: bytes) -> None:
    """Dovecot reads the whole argument list before it looks at any of it: strings, literals
    and parentheses fail first, with the words of its argument parser."""
    depth = 0
    lexer = Lexer(raw)
    while not lexer.at_end():
        if lexer.peek_is(b'"'):
            lexer.read_quoted()
            continue
        if lexer.peek_is(b"{") or lexer.peek_is(b"~{"):
            found = lexer.read_literal()
            if found is not None and found[1]:
                raise _bad("literal8 not allowed here")
            continue
        if lexer.peek_is(b"("):
            depth += 1
        elif lexer.peek_is(b")"):
            depth -= 1
            if depth < 0:
                raise _bad("Unexpected ')'")
        lexer.pos += 1
    if depth > 0:
        raise _bad("Missing ')'")


def _parse(lexer: Lexer) -> NotifySpec:
    _check_structure(lexer.raw)
    if not lexer.skip_space():
        raise _bad()
    word = (_atom(lexer) or "").upper()
    spec = NotifySpec()
    if word == "NONE":
        return spec  # Dovecot reads no further
    if word != "SET":
        raise _bad()
    if lexer.skip_space():
        if not lexer.peek_is(b"("):
            if (_atom(lexer) or "").upper() != "STATUS":
                raise _bad()
            spec.send_status = True
            lexer.skip_space()
        while not lexer.at_end():
            _group(spec, lexer)
            if not lexer.at_end() and not lexer.skip_space():
                raise _bad()
    if spec.used & UNSUPPORTED:
        names = " ".join(name for name, event in EVENT_NAMES.items() if event & spec.used & UNSUPPORTED)
        raise NotifyError("NO", "Unsupported NOTIFY events.", f"BADEVENT {names}")
    if any(len(f.names) > MAX_NAMES_PER_NAMESPACE for f in spec.filters):
        raise NotifyError("NO", "Too many mailbox names", "NOTIFICATIONOVERFLOW")
    return spec


# --- matching ------------------------------------------------------------------------------------


def matches(flt: Filter, vname: str, subscribed: set[str], separator: str = "/",
            personal: frozenset[str] | None = None) -> bool:
    """Whether the filter covers `vname` (`personal`: the private namespaces' mailboxes)."""
    if flt.kind == "personal":
        return personal is None or vname in personal
    if flt.kind == "subscribed":
        return vname in subscribed
    if flt.kind == "mailboxes":
        return vname in flt.names
    return any(not name or vname == name or vname.startswith(name + separator) for name in flt.names)


@dataclass(frozen=True)
class BoxStatus:
    messages: int
    uidnext: int
    uidvalidity: int
    unseen: int
    highestmodseq: int


@dataclass(frozen=True)
class ListView:
    """The mailbox list as NOTIFY compares it: name -> LIST flags, the subscriptions, paths."""

    flags: dict[str, tuple[str, ...]]
    subscribed: set[str]
    paths: dict[str, str]
    separator: dict[str, str]
    inodes: dict[str, int] = field(default_factory=dict)
    """The folder's inode: a rename keeps it, a delete and a create do not."""
    noselect: frozenset[str] = frozenset()
    """Parents that exist only as a level of their children's names (Maildir++ `a` of `a.b`)."""
    personal: frozenset[str] = frozenset()
    """Mailboxes of private namespaces (PERSONAL and INBOXES mean those)."""
    dirs: tuple[str, ...] = ()
    """The directories whose entries are the mailbox list: the mail roots, the control
    directories and, with LAYOUT=fs, every folder directory below a root (a nested create,
    delete or rename happens inside its parent's directory, not in the root)."""


def list_dirs(user: MailUser) -> tuple[str, ...]:
    """ListView.dirs (runs in the storage thread)."""
    from pydovecot.storage.maildir.layout import LayoutKind
    from pydovecot.storage.maildir.sync import CUR_DIR, NEW_DIR, TMP_DIR

    found: set[str] = set()
    for ns in user.namespaces.namespaces:
        mailbox_list = ns.mailbox_list
        found.update((mailbox_list.root, mailbox_list.control_dir))
        if mailbox_list.layout.kind is LayoutKind.MAILDIRPLUSPLUS:
            continue
        skip = {CUR_DIR, NEW_DIR, TMP_DIR, mailbox_list.layout.dirname}
        for directory, subdirs, _files in os.walk(mailbox_list.root):
            subdirs[:] = [d for d in subdirs if d not in skip and not d.startswith(".")]
            found.update(os.path.join(directory, d) for d in subdirs)
    return tuple(sorted(found))


def read_list(user: MailUser) -> ListView:
    """The user's mailboxes and subscriptions (runs in the storage thread)."""
    flags: dict[str, tuple[str, ...]] = {}
    paths: dict[str, str] = {}
    separator: dict[str, str] = {}
    inodes: dict[str, int] = {}
    noselect: set[str] = set()
    personal: set[str] = set()
    for item in user.namespaces.list("*"):
        ns = item.namespace
        if ns.type == "private":
            personal.add(item.vname)
        if "\\Noselect" in item.flags or "\\NonExistent" in item.flags:
            # Dovecot's list index holds such parents too; they are announced with no flags.
            if item.vname + ns.separator != ns.prefix:
                flags[item.vname] = ()
                separator[item.vname] = ns.separator
                noselect.add(item.vname)
            continue
        flags[item.vname] = tuple(f for f in sorted(item.flags) if f in ("\\Noinferiors", "\\Marked", "\\Unmarked"))
        separator[item.vname] = ns.separator
        with contextlib.suppress(Exception):
            paths[item.vname] = ns.mailbox_path(ns.storage_name(item.vname))
            inodes[item.vname] = os.stat(paths[item.vname]).st_ino
    subscribed: set[str] = set()
    for ns in user.namespaces.namespaces:
        with contextlib.suppress(Exception):
            subscribed.update(ns.vname(name) for name in ns.mailbox_list.subscriptions())
    return ListView(flags, subscribed, paths, separator, inodes, frozenset(noselect), frozenset(personal),
                    list_dirs(user))


def read_status(user: MailUser, vnames: list[str]) -> dict[str, BoxStatus]:
    out: dict[str, BoxStatus] = {}
    for vname in vnames:
        try:
            status = user.open_mailbox(vname, create_inbox=False).status()
        except Exception:  # noqa: BLE001,S112 - gone meanwhile: the list change reports it
            continue
        out[vname] = BoxStatus(status.messages, status.uidnext, status.uidvalidity, status.unseen,
                               status.highestmodseq)
    return out


def list_line(vname: str, separator: str, flags: tuple[str, ...], old: str | None = None) -> bytes:
    from .commands.common import mailbox_name

    line = b"LIST (" + " ".join(flags).encode() + b') "' + separator.encode() + b'" ' + mailbox_name(vname)
    if old is not None:
        line += b' ("OLDNAME" (' + mailbox_name(old) + b"))"
    return untagged(line)


def status_items(old: BoxStatus | None, new: BoxStatus, wanted: Event, condstore: bool,
                 first: bool = False) -> list[str] | None:
    """The STATUS items Dovecot sends for this change, or None when the filter does not want it.

    `first`: nothing was reported for this mailbox yet. Dovecot's list index then has no
    UIDVALIDITY of it on record, so the change counts as a new UIDVALIDITY (all four items)."""
    if old is not None and (new.uidvalidity != old.uidvalidity or first):
        if not wanted & (Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE | Event.FLAG_CHANGE):
            return None
        return ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"] + (["HIGHESTMODSEQ"] if condstore else [])
    assert old is not None
    appends = new.uidnext > old.uidnext
    expunges = new.messages < old.messages + (new.uidnext - old.uidnext)
    seen = new.unseen != old.unseen
    modseq = new.highestmodseq != old.highestmodseq
    match = ((wanted & Event.MESSAGE_NEW and appends) or (wanted & Event.MESSAGE_EXPUNGE and expunges)
             or (wanted & Event.FLAG_CHANGE and (seen or modseq)))
    if not match:
        return None
    items: list[str] = []
    if appends or expunges:
        items += ["MESSAGES", "UIDNEXT", "UNSEEN"]
    elif seen:
        items.append("UNSEEN")
    if condstore:
        items.append("HIGHESTMODSEQ")
    return items or None


def status_line(vname: str, status: BoxStatus, items: list[str]) -> bytes:
    from .commands.common import mailbox_name

    parts = " ".join(f"{item} {getattr(status, item.lower())}" for item in items)
    return untagged(b"STATUS " + mailbox_name(vname) + b" (" + parts.encode() + b")")


# --- the session's state -------------------------------------------------------------------------


class NotifyState:
    """One session's NOTIFY: the spec, what the client was last told, and the inotify watches."""

    def __init__(self, spec: NotifySpec) -> None:
        self.spec = spec
        self.view: ListView | None = None
        self.status: dict[str, BoxStatus] = {}
        self._created: set[str] = set()
        self._rebase: set[str] = set()
        self._last_selected: str | None = None
        self._fetch_box: Any = None
        self._fetch_from = 1
        self.told: set[str] = set()
        """Mailboxes a STATUS was sent for (NOTIFY SET STATUS counts)."""
        self.wake = asyncio.Event()
        self._dirty: dict[str, asyncio.Event] = {}
        self._list_dirty = asyncio.Event()
        self._selected_dirty = asyncio.Event()
        self._stops: list[Callable[[], None]] = []
        self._armed_for: tuple[Any, ...] | None = None

    # --- what to watch ---------------------------------------------------------------------

    def _selected_vname(self, session: Session) -> str | None:
        return session.selected.vname if session.selected is not None else None

    def wanted(self, vname: str, events: Event) -> Event:
        """The events the filters matching `vname` want, out of `events`."""
        assert self.view is not None
        separator = self.view.separator.get(vname, "/")
        out = Event(0)
        for flt in self.spec.filters:
            if flt.events & events and matches(flt, vname, self.view.subscribed, separator, self.view.personal):
                out |= flt.events
        return out & events

    def status_boxes(self) -> list[str]:
        if self.view is None or not self.spec.status_events:
            return []
        return [v for v in self.view.flags if v not in self.view.noselect and self.wanted(v, MESSAGE_EVENTS)]

    async def start(self, session: Session) -> None:
        """The baseline: the list and the status of every watched mailbox, before NOTIFY's OK."""
        assert session.user is not None
        self.view = await session.storage(read_list, session.user)
        self.arm(session)  # watching before reading: nothing falls between the two
        self.status = await session.storage(read_status, session.user, self.status_boxes())

    def stop(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()
        self._armed_for = None

    def apply_to_selected(self, session: Session) -> None:
        """What syncing the selected mailbox may say from now on (NOTIFY without SELECTED's
        MessageNew hides EXISTS/RECENT, without FlagChange others' flag changes)."""
        if session.selected is not self._fetch_box:
            # A newly selected mailbox: what SELECT reported is no news.
            self._fetch_box = session.selected
            uids = session.selected.uids if session.selected is not None else []
            self._fetch_from = uids[-1] + 1 if uids else 1
        if session.selected is not None:
            session.selected.notify_counts = bool(self.spec.selected_events & Event.MESSAGE_NEW)
            session.selected.notify_flags = bool(self.spec.selected_events & Event.FLAG_CHANGE)

    def arm(self, session: Session) -> None:
        """(Re)register the inotify watches when the watched set changed."""
        self.apply_to_selected(session)
        if session.user is None:
            return
        selected = session.selected
        selected_path = getattr(selected.mailbox, "path", None) if selected is not None else None
        boxes = self.status_boxes()
        dirs = self.view.dirs if self.view is not None else ()
        key = (tuple(boxes), selected_path if self.spec.selected_set else None, dirs)
        if key == self._armed_for:
            return
        self.stop()
        self._armed_for = key
        watcher = session.service.watcher
        if self.view is not None and self.spec.filters:
            self._stops.append(watcher.watch(dirs, self._list_dirty))
            self._stops.append(watcher.watch(dirs, self.wake))
        pending = {v for v, e in self._dirty.items() if e.is_set()}
        self._dirty = {}
        for vname in boxes:
            path = self.view.paths.get(vname) if self.view is not None else None
            if path is None:
                continue
            event = asyncio.Event()
            if vname in pending:
                event.set()
            self._dirty[vname] = event
            dirs = [os.path.join(path, "new"), os.path.join(path, "cur")]
            self._stops.append(watcher.watch(dirs, event))
            self._stops.append(watcher.watch(dirs, self.wake))
        if isinstance(selected_path, str) and self.spec.selected_set:
            dirs = [os.path.join(selected_path, "new"), os.path.join(selected_path, "cur")]
            self._stops.append(watcher.watch(dirs, self._selected_dirty))
            self._stops.append(watcher.watch(dirs, self.wake))

    # --- telling the client ------------------------------------------------------------------

    async def deliver(self, session: Session, *, idling: bool = False) -> None:
        """Untagged replies for what changed since the client was last told."""
        assert session.user is not None
        self.wake.clear()
        out = bytearray()
        if self.view is not None and self._list_dirty.is_set():
            self._list_dirty.clear()
            new_view = await session.storage(read_list, session.user)
            out += self._list_changes(self.view, new_view)
            if new_view.dirs != self.view.dirs:
                # A directory watched only from now on may have had a level made in it
                # before the watch: look once more (again only if that finds new ones).
                self._list_dirty.set()
                self.wake.set()
            self.view = new_view
            self.arm(session)  # new mailboxes are watched before their first status is read
        wanted = set(self.status_boxes())
        dirty = {v for v, e in self._dirty.items() if e.is_set()}
        for event in self._dirty.values():
            event.clear()
        # Mailboxes that joined the watched set start from their current status, silently.
        # Those created meanwhile start empty: mail delivered right after the CREATE is news.
        # The selected mailbox is the session's own business (and may be syncing right now, in
        # IDLE): it is looked at again, silently, once it is no longer selected.
        selected = self._selected_vname(session)
        if selected != self._last_selected:
            if self._last_selected is not None:
                self._rebase.add(self._last_selected)
            self._last_selected = selected
        fresh = wanted - set(self.status)
        rebase, self._rebase = self._rebase - {selected}, self._rebase & {selected}
        look = sorted(((dirty & wanted) | fresh | (rebase & wanted)) - {selected})
        created, self._created = self._created, set()
        if look:
            now = await session.storage(read_status, session.user, look)
            condstore = session.condstore
            for vname in look:
                new = now.get(vname)
                if new is None:
                    continue
                old = self.status.get(vname)
                if old is None and vname in created and new.uidnext > 1:
                    old = replace(new, messages=0, uidnext=1, unseen=0)
                self.status[vname] = new
                if old is None or vname in rebase or old == new:
                    continue
                items = status_items(old, new, self.wanted(vname, MESSAGE_EVENTS), condstore,
                                     first=vname not in self.told)
                if items:
                    self.told.add(vname)
                    out += status_line(vname, new, items)
        for vname in set(self.status) - wanted:
            del self.status[vname]
        if out:
            session.send(bytes(out))
        if self._selected_dirty.is_set() and not idling:
            self._selected_dirty.clear()
            await self._selected_changes(session)

    def _list_changes(self, old: ListView, new: ListView) -> bytes:
        out = bytearray()
        gone = [v for v in old.flags if v not in new.flags]
        added = [v for v in new.flags if v not in old.flags]
        by_inode = {old.inodes[v]: v for v in gone if v in old.inodes}
        renamed = {v: by_inode[new.inodes[v]] for v in added if new.inodes.get(v) in by_inode}
        for vname in gone:
            if vname in renamed.values() or not self._wanted_in(old, vname, Event.MAILBOX_NAME):
                continue
            out += list_line(vname, old.separator.get(vname, "/"), ("\\NonExistent",))
        self._created |= {v for v in added if v not in renamed}
        # As Dovecot's list index notify: deletes, then renames, then creates; a rename's new
        # parent (a/x of a/x/c2) is a create. Dovecot's order among the renames of one moved
        # subtree varies from run to run; deepest first is one of its orders.
        moved = sorted(renamed, key=lambda v: -v.count(new.separator.get(v, "/")))
        for vname in moved + [v for v in added if v not in renamed]:
            if not self._wanted_in(new, vname, Event.MAILBOX_NAME):
                continue
            flags = new.flags[vname]
            out += list_line(vname, new.separator.get(vname, "/"), flags, renamed.get(vname))
        for vname in sorted(new.subscribed ^ old.subscribed):
            # Matched against the subscriptions as they are now: an unsubscribe is news for
            # PERSONAL or SUBTREE filters, not for SUBSCRIBED (the mailbox left it), as in Dovecot.
            if not self._wanted_in(new, vname, Event.SUBSCRIPTION_CHANGE):
                continue
            flags = new.flags.get(vname, ())
            if vname in new.subscribed:
                flags = (*flags, "\\Subscribed")
            separator = new.separator.get(vname) or old.separator.get(vname, "/")
            out += list_line(vname, separator, flags)
        return bytes(out)

    def _wanted_in(self, view: ListView, vname: str, event: Event) -> bool:
        separator = view.separator.get(vname, "/")
        return any(f.events & event and matches(f, vname, view.subscribed, separator, view.personal)
                   for f in self.spec.filters)

    async def _selected_changes(self, session: Session) -> None:
        from .commands.common import sync_selected, sync_without_expunges

        if session.selected is None:
            return
        if self.spec.immediate_expunges:
            await sync_selected(session)
        else:
            await sync_without_expunges(session)

    async def new_messages(self, session: Session) -> None:
        """After any sync (a command's, IDLE's, ours): MessageNew's fetch-att for the messages
        that arrived since the last time, right after their EXISTS, as Dovecot's sync does."""
        from .commands import fetch

        selected = session.selected
        if selected is None or selected is not self._fetch_box or not self.spec.fetch_attributes:
            return
        new = [uid for uid in selected.uids if uid >= self._fetch_from]
        if not new:
            return
        self._fetch_from = new[-1] + 1
        with contextlib.suppress(Exception):  # an expunged message: its EXPUNGE follows
            await fetch._send(session, selected, new, self.spec.fetch_attributes)

    # --- waiting for the client while telling it -------------------------------------------

    async def read(self, session: Session, size: int = 65536) -> bytes:
        """The session's next input, sending notifications meanwhile (Session.next_event's read)."""
        reading = asyncio.ensure_future(session.reader.read(size))
        try:
            while True:
                self.arm(session)
                if self.wake.is_set():
                    await asyncio.sleep(SETTLE_SECONDS)
                    await self.deliver(session, idling=getattr(session.protocol, "_idle_tag", None) is not None)
                    await session.flush()
                    continue
                waking = asyncio.ensure_future(self.wake.wait())
                try:
                    done, _ = await asyncio.wait({reading, waking}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waking.cancel()
                if reading in done:
                    return reading.result()
        finally:
            if not reading.done():
                reading.cancel()
            elif not reading.cancelled() and reading.exception() is None and not reading.result():
                self.stop()  # the client is gone: give the watches back


async def set_notify(session: Session, spec: NotifySpec | None) -> NotifyState:
    """Replace the session's NOTIFY. NONE keeps a state too: the selected mailbox stays quiet
    about new messages and flag changes after any NOTIFY, as in Dovecot."""
    current = getattr(session, "notify", None)
    if isinstance(current, NotifyState):
        current.stop()
    session.notify = None
    state = NotifyState(spec or NotifySpec())
    state.apply_to_selected(session)
    if state.spec.filters:
        await state.start(session)
    weakref.finalize(session, state.stop)  # a session that ends otherwise still frees its watches
    session.notify = state
    return state
