"""Namespaces: how a client-visible mailbox name (vname) maps onto a mailbox list.

A namespace has a prefix (``""``, ``INBOX.``, ``Shared/``), a separator the client sees
(empty means the storage's own: ``.`` for Maildir++, ``/`` for fs), and a mailbox list
under its own location. Exactly one private namespace has ``inbox = yes``; INBOX (in any
case) always belongs to it. The longest matching prefix decides where any other name lives.

Names in this module are Unicode (UTF-8 inside); modified UTF-7 is the IMAP layer's business.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .mail_location import MailLocation
from .maildir.fsync import FsyncMode
from .maildir.layout import INBOX, MailboxNameError
from .maildir.mailbox_list import MailboxInfo, MaildirMailboxList
from .shared import UserLookupUnavailable, owner_of, prefix_for


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
    owner: str | None = None
    """A shared namespace made for one user (``shared/bob@x/``): that user (see :mod:`.shared`)."""
    owner_missing: bool = False
    """The owner is not in the userdb: every mailbox of the namespace is missing."""
    template_location: str = ""
    """A template's ``location`` with the owner's variables still to expand (``%h/Maildir``)."""
    explicit_inbox: bool = False
    """``mail_shared_explicit_inbox``: the owner's INBOX is ``shared/bob@x/INBOX`` only, and
    ``shared/bob@x`` is no mailbox."""

    @property
    def is_template(self) -> bool:
        """A shared namespace whose prefix names its users (``shared/%u/``): it holds no
        mailboxes itself; one namespace per owner is made from it when a name needs one."""
        return self.type == "shared" and "%" in self.prefix

    @property
    def visible_prefix(self) -> str:
        """What NAMESPACE and LIST show of the prefix: a template's text before its first variable."""
        return self.prefix.split("%", 1)[0] if self.is_template else self.prefix

    @property
    def storage_separator(self) -> str:
        return self.mailbox_list.separator

    def owns(self, vname: str) -> bool:
        if self.inbox and vname.upper() == INBOX:
            return True
        prefix = self.visible_prefix
        return vname.startswith(prefix) or vname + self.separator == prefix

    def storage_name(self, vname: str) -> str:
        """The name inside this namespace's mailbox list (raises MailboxNameError)."""
        if self.inbox and vname.upper() == INBOX:
            return INBOX
        if self.is_template:
            raise LookupError(f"Mailbox doesn't exist: {vname}")
        if self.owner is not None:
            # The owner's INBOX is the namespace's own name ("shared/bob@x"), as with Dovecot's
            # default mail_shared_explicit_inbox = no; "shared/bob@x/INBOX" names it too.
            if vname[len(self.prefix):].upper() == INBOX:
                return INBOX
            if vname + self.separator == self.prefix:
                if self.explicit_inbox:
                    raise LookupError(f"Mailbox doesn't exist: {vname}")
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
        if storage_name == INBOX and self.owner is not None:
            return self.prefix + INBOX if self.explicit_inbox else self.prefix.rstrip(self.separator)
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
    nonexistent: bool = False  # see MailboxInfo.nonexistent


class NamespaceSet:
    """All namespaces of one user, answering "which namespace holds this name?".

    A shared template (``shared/%u/``) grows one namespace per owner, made the first time a
    name under it is used (or, for LIST, when the acl plugin's shared dict names the owner).
    """

    def __init__(self, namespaces: list[Namespace]) -> None:
        self.namespaces = namespaces
        # Longest prefix first, so "INBOX." wins over "".
        self._by_prefix = sorted(namespaces, key=lambda ns: len(ns.prefix), reverse=True)
        # Shared namespaces (see .shared): the per-owner namespaces made from templates so far.
        self.shared_instances: dict[tuple[str, str], Namespace] = {}
        self.make_shared: Callable[[Namespace, str, str], Namespace | None] | None = None
        """(template, owner, prefix) -> the owner's namespace; set by the mail user."""
        self.shared_owners: Callable[[], Iterable[str]] | None = None
        """The users who share mailboxes with us (the acl plugin's acl_shared_dict), for LIST."""
        self.visible: Callable[[str], bool] | None = None
        """Whether LIST may show a name (the plugins' verdict); shared children flags need it."""
        self.self_user: str = ""
        self.shared_listed: set[str] = set()
        """What the last LIST showed of shared namespaces, visibility already judged."""
        self._lock = threading.Lock()

    def shared_namespace(self, template: Namespace, vname: str) -> Namespace | None:
        """The namespace of the owner that ``vname`` names under ``template``, made on first use."""
        found = owner_of(template.prefix, template.separator, vname)
        if found is None or self.make_shared is None:
            return None
        owner, prefix = found
        with self._lock:
            ns = self.shared_instances.get((template.prefix, owner))
            if ns is not None:
                return ns
        try:
            made = self.make_shared(template, owner, prefix)
        except UserLookupUnavailable:
            return None  # asked again next time: a passing failure must not stick
        if made is None:
            return None
        with self._lock:
            ns = self.shared_instances.setdefault((template.prefix, owner), made)
            if ns is made:
                self._by_prefix = sorted([*self._by_prefix, made], key=lambda n: len(n.prefix), reverse=True)
        return ns

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
                if ns.is_template:
                    return self.shared_namespace(ns, vname) or ns
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
            if ns.is_template:
                out.extend(self._list_shared(ns, full, seen))
                continue
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
                out.append(ListedMailbox(vname, _flags(info), ns, ns.special_use(vname), info.nonexistent))
        return out

    def _discover(self, template: Namespace) -> list[Namespace]:
        """The owners' namespaces under ``template``: those the shared dict names (as Dovecot
        adds them when listing) and those already made for a name."""
        if self.shared_owners is not None:
            for owner in self.shared_owners():
                if owner != self.self_user:
                    self.shared_namespace(template, prefix_for(template.prefix, owner))
        with self._lock:
            return [ns for (prefix, _), ns in sorted(self.shared_instances.items()) if prefix == template.prefix]

    def with_shared(self) -> list[Namespace]:
        """Every namespace with mailboxes: the configured ones but templates, then the shared
        owners' (found through the shared dict); what subscriptions are read from."""
        out = [ns for ns in self.namespaces if not ns.is_template]
        for template in self.namespaces:
            if template.is_template:
                out.extend(ns for ns in self._discover(template) if not ns.owner_missing)
        return out

    def _list_shared(self, template: Namespace, full: str, seen: set[str]) -> list[ListedMailbox]:
        """The mailboxes other users share with us under ``template``, as Dovecot lists them:
        the owners come from the shared dict; an owner's mailboxes we may not look up are left
        out and do not count as children; the prefix's first level (``shared``) shows
        ``\\Noselect \\HasChildren`` when some owner shows anything."""
        if template.list == "no" and not full.startswith(template.visible_prefix):
            return []
        self.shared_listed = set()
        instances = self._discover(template)
        matcher = pattern_regex(full, template.separator)
        out: list[ListedMailbox] = []
        any_visible: Namespace | None = None
        for ns in instances:
            if ns.owner_missing or ns.owner == self.self_user:
                continue
            names = {ns.vname(info.name): info for info in ns.mailbox_list.list("*") if info.selectable}
            visible = [name for name in names if self.visible is None or self.visible(name)]
            if not visible:
                continue
            any_visible = any_visible or ns
            sep = ns.separator
            root = ns.prefix.rstrip(sep)
            # A parent we may not see, of one we may (the owner's INBOX too), shows as \\Noselect.
            parents = {root} | {vname.rsplit(sep, 1)[0] for vname in visible if vname != root}
            parents = {p for name in parents for p in _ancestors(name, root, sep)} - set(visible)
            for vname in sorted([*visible, *parents]):
                if vname in seen or not matcher.fullmatch(vname):
                    continue
                seen.add(vname)
                if vname in parents:
                    # The owner's root shows always; a parent deeper down only when the pattern
                    # does not reach its visible children ("%"), as Dovecot's acl list does.
                    if vname == root or not any(other.startswith(vname + sep) and matcher.fullmatch(other)
                                                for other in visible):
                        out.append(ListedMailbox(vname, frozenset({"\\Noselect", "\\HasChildren"}), ns))
                    continue
                inside = ns.prefix if vname == root else vname + sep
                children = any(other != vname and other.startswith(inside) for other in visible)
                out.append(ListedMailbox(vname, frozenset({"\\HasChildren" if children else "\\HasNoChildren"}),
                                         ns, ns.special_use(vname)))
        top = template.visible_prefix.rstrip(template.separator)
        if any_visible is not None and top and top not in seen and matcher.fullmatch(top):
            seen.add(top)
            # Listed as the owner namespace's entry: the template itself holds no mailboxes.
            out.insert(0, ListedMailbox(top, frozenset({"\\Noselect", "\\HasChildren"}), any_visible))
        self.shared_listed = {item.vname for item in out}
        return out


def _ancestors(name: str, root: str, sep: str) -> list[str]:
    """``name`` and its parents down to ``root`` (an owner's namespace: ``shared/bob@x``)."""
    out = [name]
    while name != root and sep in name[len(root):]:
        name = name.rsplit(sep, 1)[0]
        out.append(name)
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
