"""Mailbox attributes (what IMAP METADATA shows), kept where Dovecot 2.3 keeps them.

``mail_attribute_dict`` (e.g. ``file:%h/dovecot-attributes``) holds every attribute of the
user under ``priv/<mailbox-guid>/<key>`` (private) and ``shared/<mailbox-guid>/<key>``
(shared). Server attributes are INBOX's, under ``vendor/vendor.dovecot/pvt/server/``. The
mailbox GUID is the one in the mailbox's ``dovecot-uidlist``, so real Dovecot and we read
each other's attributes.

Some attributes are computed, not stored, and cannot be changed (Dovecot's "internal"
attributes): a mailbox's private ``specialuse`` (its ``special_use`` setting) and the
server's shared ``admin`` and ``comment`` (``mail_server_admin``, ``mail_server_comment``).
Keys under ``vendor/vendor.dovecot/pvt/`` are Dovecot's own and never listed.

Synchronous file work: callers run it in the storage worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from pydovecot.dict import DictError, resolve_uri
from pydovecot.dict.file import FileDict
from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import MAIL_USER

from .maildir.layout import INBOX
from .maildir.uidlist import read_uidlist

if TYPE_CHECKING:
    from .mail_user import MailUser
    from .namespace import Namespace

PVT_PREFIX = "vendor/vendor.dovecot/pvt/"
"""Dovecot's own keys: never listed, never reachable through IMAP."""
SERVER_PREFIX = PVT_PREFIX + "server/"


class AttributeType(Enum):
    PRIVATE = "priv"
    SHARED = "shared"

    @property
    def word(self) -> str:
        return "private" if self is AttributeType.PRIVATE else "shared"


class AttributeFailure(Exception):
    """A refused attribute operation: Dovecot's text and response code."""

    def __init__(self, text: str, code: str | None = "CANNOT") -> None:
        super().__init__(text)
        self.text = text
        self.code = code


NOT_ENABLED = "Mailbox attributes not enabled"
GENERIC_NOT_ENABLED = "Generic mailbox attributes not enabled"


@dataclass(frozen=True)
class AttributeChange:
    type: AttributeType
    key: str
    value: str | None
    """None removes the attribute."""


class MailboxAttributes:
    """One mailbox's attributes (the server's: INBOX's, with ``server=True``)."""

    def __init__(self, store: FileDict | None, guid: str, internal: dict[tuple[AttributeType, str], str],
                 not_enabled: str = NOT_ENABLED) -> None:
        self.store = store
        self.guid = guid
        self.internal = internal
        """Computed, read-only attributes: (type, key) -> value ("" when unset)."""
        self.not_enabled = not_enabled
        """The refusal of every other attribute when there is no store."""
        self._snapshot: dict[str, str] | None = None

    def _data(self) -> dict[str, str]:
        """The dict as read once for this command (a DEPTH listing reads each value it lists)."""
        assert self.store is not None
        if self._snapshot is None:
            self._snapshot = self.store.read()
        return self._snapshot

    def _dict_key(self, type_: AttributeType, key: str) -> str:
        return f"{type_.value}/{self.guid}/{key}"

    def get(self, type_: AttributeType, key: str) -> str | None:
        if (type_, key) in self.internal:
            return self.internal[(type_, key)] or None
        if self.store is None:
            raise AttributeFailure(self.not_enabled)
        return self._data().get(self._dict_key(type_, key))

    def keys(self, type_: AttributeType, prefix: str) -> list[str]:
        """The keys under ``prefix`` (relative to it) that have a value: computed ones first,
        then the dict's in its order; Dovecot's own ``pvt`` keys are left out unless ``prefix``
        is under them (the server's attributes)."""
        out = [key[len(prefix):] for (t, key), value in self.internal.items()
               if t is type_ and value and key.startswith(prefix)]
        if self.store is not None:
            base = self._dict_key(type_, "")
            start = base + prefix
            for full in self._data():
                if not full.startswith(start):
                    continue
                key = full[len(base):]
                if prefix.startswith(PVT_PREFIX) or not key.startswith(PVT_PREFIX):
                    out.append(key[len(prefix):])
        return out

    def commit(self, changes: Iterable[AttributeChange], *, dry_run: bool = False) -> None:
        """Set and unset in one transaction: all of them or, on a refusal, none. ``dry_run``:
        only check them (the caller refuses a later one)."""
        pending = []
        for change in changes:
            if (change.type, change.key) in self.internal:
                raise AttributeFailure(f"The /{change.type.word}/{change.key} attribute cannot be changed")
            if change.value is not None and "\x00" in change.value:
                raise AttributeFailure("Attribute string value has NULs")
            if self.store is None:
                raise AttributeFailure(self.not_enabled)
            pending.append((self._dict_key(change.type, change.key), change.value))
        if pending and self.store is not None and not dry_run:
            self.store.commit(pending)
            self._snapshot = None


def attribute_dict(user: MailUser) -> FileDict | None:
    """The user's ``mail_attribute_dict``, or None when it is not set."""
    uri = user.settings.str("mail_attribute_dict")
    if not uri:
        return None
    if "%" in uri:
        uri = expand(uri, user.variables, context=MAIL_USER).text
    named: dict[str, str] = user.settings.node.get("dict") or {}  # type: ignore[assignment]
    uri = resolve_uri(uri, named)
    driver, _, args = uri.partition(":")
    if driver != "file":
        raise DictError(f"mail_attribute_dict: dict driver {driver!r} is not supported by pydovecot (use file)")
    path = args.split(":lock=")[0]
    if path.startswith("~/") and user.home:
        path = user.home + path[1:]  # dict-file expands ~ to the user's home
    return FileDict(path)


def _known_guid(user: MailUser, ns: Namespace, storage: str) -> str | None:
    box = user.backend_mailbox(ns, storage)
    uidlist = read_uidlist(box.control_dir)
    return uidlist.mailbox_guid if uidlist is not None else None


def mailbox_guid(user: MailUser, ns: Namespace, storage: str) -> str:
    """The mailbox's GUID, created (by a sync, as Dovecot's open does) when it has none yet."""
    guid = _known_guid(user, ns, storage)
    if guid is None:
        user.backend_mailbox(ns, storage).sync()
        guid = _known_guid(user, ns, storage)
    if guid is None:
        raise AttributeFailure("Mailbox GUIDs are not permanent without index files", None)
    return guid


def open_mailbox_attributes(user: MailUser, vname: str, *, validated_only: bool = False) -> MailboxAttributes:
    """``vname``'s attributes; LookupError when the mailbox does not exist.

    ``validated_only`` (IMAP without ``imap_metadata``): only the attributes Dovecot computes
    and checks itself (``specialuse``); no dict, every other one "Generic ... not enabled"."""
    ns, storage = user.resolve(vname)
    user.open_mailbox(vname)  # raises when missing; creates INBOX on first use
    special_use = " ".join(ns.special_use(vname))
    internal = {(AttributeType.PRIVATE, "specialuse"): special_use}
    if validated_only:
        return MailboxAttributes(None, "", internal, GENERIC_NOT_ENABLED)
    store = attribute_dict(user)
    # Without a dict only the computed attributes exist, and no GUID is needed.
    return MailboxAttributes(store, mailbox_guid(user, ns, storage) if store else "", internal)


def open_server_attributes(user: MailUser, *, validated_only: bool = False) -> MailboxAttributes:
    """The server's attributes: INBOX's, keys under :data:`SERVER_PREFIX`. The computed
    ``admin`` and ``comment`` are not "validated" ones: ``validated_only`` has none."""
    ns = user.namespaces.inbox_namespace
    user.open_mailbox(ns.vname(INBOX))
    if validated_only:
        return MailboxAttributes(None, "", {}, GENERIC_NOT_ENABLED)
    internal = {
        (AttributeType.SHARED, SERVER_PREFIX + "admin"): user.settings.str("mail_server_admin"),
        (AttributeType.SHARED, SERVER_PREFIX + "comment"): user.settings.str("mail_server_comment"),
    }
    store = attribute_dict(user)
    return MailboxAttributes(store, mailbox_guid(user, ns, INBOX) if store else "", internal)


def forget_on_delete(user: MailUser, vname: str) -> Callable[[], None]:
    """Called before a mailbox is deleted: returns what drops its attributes once it is gone
    (Dovecot deletes them with the mailbox; a new mailbox of that name gets a new GUID)."""
    try:
        store = attribute_dict(user)
        if store is None:
            return _nothing
        ns, storage = user.resolve(vname)
        guid = _known_guid(user, ns, storage)
    except (DictError, LookupError, OSError, ValueError):
        return _nothing
    if guid is None:
        return _nothing
    return lambda: store.commit((), unset_prefixes=(f"priv/{guid}/", f"shared/{guid}/"))


def _nothing() -> None:
    return None
