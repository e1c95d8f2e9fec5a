"""The hook API mail plugins use.

A plugin is created once per mail user (when ``mail_plugins`` names it) and sees the user's
mailboxes as they are opened; to change an operation it wraps the mailbox in a
:class:`MailboxWrapper` that overrides that operation and calls the wrapped one, the way
Dovecot's plugins chain to the vfunc below them. Storage and protocol code never ask which
plugins are loaded: taking a plugin out of ``mail_plugins`` takes all of its behaviour out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from pydovecot.storage.interface import Mailbox, MailboxSnapshot, MailboxStatus, StoreAction, StoreResult

if TYPE_CHECKING:
    from pydovecot.storage.mail_user import MailUser


class MailPlugin:
    """Base of every plugin; each hook's default does nothing."""

    name: ClassVar[str] = ""
    # Plugins that must be loaded before this one (Dovecot refuses the order otherwise).
    requires: ClassVar[tuple[str, ...]] = ()
    # IMAP capabilities the imap_* companion adds after login.
    capabilities: ClassVar[tuple[str, ...]] = ()

    def __init__(self, user: MailUser) -> None:
        self.user = user

    def setting(self, name: str, default: str = "") -> str:
        """A plugin setting: ``plugin { }`` with the userdb's fields on top."""
        return self.user.settings.plugin.get(name, default)

    def setting_bool(self, name: str) -> bool:
        """A yes/no plugin setting read as Dovecot reads one: unset, empty or starting with
        n, f or 0 is false; anything else is true."""
        value = self.setting(name)
        return bool(value) and value[0] not in "nNfF0"

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        """Return the mailbox the user works with: the given one, or a wrapper around it."""
        return mailbox

    # Mailbox-list hooks, called by MailUser.create_mailbox/delete_mailbox/rename_mailbox.
    # The *-ing hooks may refuse by raising MailboxError; the others only observe.

    def mailbox_creating(self, vname: str) -> None:
        """Called before a mailbox is created."""

    def mailbox_created(self, vname: str) -> None:
        """Called after a mailbox was created."""

    def mailbox_deleting(self, vname: str) -> None:
        """Called before a mailbox is deleted."""

    def mailbox_deleted(self, vname: str) -> None:
        """Called after a mailbox was deleted."""

    def mailbox_renaming(self, old: str, new: str) -> None:
        """Called before a mailbox is renamed."""

    def mailbox_renamed(self, old: str, new: str) -> None:
        """Called after a mailbox was renamed."""

    def mailbox_visible(self, vname: str) -> bool:
        """Whether LIST shows the mailbox to this user (ACL's lookup right)."""
        return True


class MailboxWrapper:
    """Delegates every Mailbox operation to ``inner``; plugins override what they change."""

    copy_source: str | None = None
    """While a copy appends into this mailbox: the vname of the mailbox it copies from (the
    copy hook: a layer's ``append`` tells a copy (mail_log's ``copy from``) from a save)."""

    def __init__(self, inner: Mailbox) -> None:
        self.inner = inner

    @property
    def vname(self) -> str:
        return self.inner.vname

    def __getattr__(self, name: str) -> Any:
        # Backend-specific extras (vanished_since, path...) pass through untouched.
        return getattr(self.inner, name)

    def sync(self, *, take_recent: bool = False, **backend: Any) -> MailboxSnapshot:
        """``backend``: the storage's own sync options (``move_new``), passed through."""
        return self.inner.sync(take_recent=take_recent, **backend)  # type: ignore[call-arg]

    def status(self) -> MailboxStatus:
        return self.inner.status()

    def read(self, uid: int) -> bytes | None:
        return self.inner.read(uid)

    def path_of(self, uid: int) -> str | None:
        return self.inner.path_of(uid)

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        """``backend``: options for the storage below (``stored=`` from zlib), passed through."""
        return self.inner.append(data, flags=flags, keywords=keywords, internaldate=internaldate,  # type: ignore[call-arg]
                                 **backend)

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str], keywords: Iterable[str] = (),
              *, unchanged_since: int | None = None) -> StoreResult:
        return self.inner.store(uids, action, flags, keywords, unchanged_since=unchanged_since)

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        return self.inner.expunge(uids)

    def copy_to(self, uids: Sequence[int], target: Mailbox) -> tuple[tuple[int, int], ...]:
        with copying_from(target, self.vname):
            return self._copy(uids, target)

    def _copy(self, uids: Sequence[int], target: Mailbox) -> tuple[tuple[int, int], ...]:
        # Through this wrapper's read(), so a decoding plugin sees the copy's source too.
        snapshot = {m.uid: m for m in self.sync().messages}
        pairs = []
        for uid in sorted(set(uids)):
            info = snapshot.get(uid)
            data = self.read(uid) if info else None
            if info is None or data is None:
                continue
            pairs.append((uid, target.append(data, flags=info.flags, keywords=info.keywords,
                                             internaldate=info.internaldate)))
        return tuple(pairs)

    def known_keywords(self) -> tuple[str, ...]:
        return self.inner.known_keywords()

    def saved_form(self, data: bytes) -> bytes:
        """The bytes the storage will keep for ``data`` (line endings per mail_save_crlf)."""
        inner = getattr(self.inner, "saved_form", None)
        return inner(data) if inner is not None else data


@contextmanager
def copying_from(target: object, source: str) -> Iterator[None]:
    """Mark every wrapper layer of ``target`` as receiving a copy from ``source`` meanwhile."""
    layers = []
    while isinstance(target, MailboxWrapper):
        layers.append((target, target.__dict__.get("copy_source")))
        target.copy_source = source
        target = target.inner
    try:
        yield
    finally:
        for layer, before in layers:
            layer.copy_source = before
