"""The acl plugin: mailbox rights from vfile ACLs, enforced on the mailbox operations.

What each operation needs and what a refusal says (checked against real Dovecot 2.3.19):

- open for reading (sync/status/read): ``r``; without it ``[NOPERM] Permission denied`` when
  the user may look the mailbox up (``l``), else ``[NONEXISTENT] Mailbox doesn't exist: <name>``;
- APPEND/COPY into a mailbox: ``i`` (same texts); flags the user may not set are dropped
  (``s`` for \\Seen, ``t`` for \\Deleted, ``w`` for the others and keywords);
- STORE: flags and keywords without the right are silently left alone;
- EXPUNGE: ``e``; without it nothing is expunged and :class:`ExpungeDenied` says so (IMAP
  answers ``OK Expunge ignored: Permission denied.``);
- CREATE: ``k`` on the parent (the default rights at the top level); DELETE: ``x``;
  RENAME: ``x`` on the old name and ``k`` on the new parent;
- LIST shows only mailboxes with ``l`` (:meth:`AclPlugin.mailbox_visible`).

The IMAP ACL commands (imap_acl: GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS) call
:meth:`AclPlugin.get_acl`, :meth:`set_rights`, :meth:`delete_rights` and :meth:`my_rights`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from pydovecot.dict import DictError
from pydovecot.storage.interface import Mailbox, MailboxError, StoreAction, StoreResult

from ..hooks import MailboxWrapper, MailPlugin
from ..registry import PluginError, register
from .rights import AclParseError, AclRule, Identifier, Requester, effective_rights, parse_rights
from .shared_dict import SharedDict, lookup_ids
from .vfile import VfileSettings, combined, global_rules, local_rules, write_local

NO_PERMISSION = "Permission denied"
NOPERM = "NOPERM"
NONEXISTENT = "NONEXISTENT"
_FLAG_RIGHT = {"\\Seen": "s", "\\Deleted": "t"}


class ExpungeDenied(MailboxError):
    """EXPUNGE without the ``e`` right: nothing was expunged (IMAP still answers OK)."""

    def __init__(self) -> None:
        super().__init__(NO_PERMISSION, NOPERM)


def _allowed_flags(flags: Iterable[str], rights: frozenset[str]) -> tuple[str, ...]:
    return tuple(flag for flag in flags if _FLAG_RIGHT.get(flag, "w") in rights)


@register
class AclPlugin(MailPlugin):
    name = "acl"

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        value = self.setting("acl")
        try:
            self.backend = VfileSettings.parse(value) if value else None
        except AclParseError as exc:
            raise PluginError(f"acl: {exc}") from exc
        groups = self.setting("acl_groups")
        self.requester = Requester(user.username, frozenset(g for g in groups.split(",") if g))
        # acl_shared_dict: who shares mailboxes with whom (shared_dict.py); SETACL/DELETEACL
        # keep it up to date, LIST of a shared namespace reads it to find the owners.
        self.shared_dict = self.setting("acl_shared_dict") or None
        self.shared_store: SharedDict | None = None
        if self.shared_dict:
            try:
                self.shared_store = SharedDict(self.shared_dict, _named_dicts(user))
            except DictError as exc:
                raise PluginError(str(exc)) from exc
            user.namespaces.shared_owners = self.shared_owners

    # --- rights ------------------------------------------------------------------------------

    def _mailbox_dir(self, vname: str) -> tuple[Any, str]:
        ns, storage = self.user.resolve(vname)
        path = ns.mailbox_path(storage)
        control = ns.location.option("CONTROL")
        # In a shared namespace the CONTROL= dir is the accessing user's; the owner's ACLs are
        # read from the owner's mailbox directory (what Dovecot 2.3.19 does with Maildir).
        if control and control.upper() != "MEMORY" and ns.owner is None:
            path = os.path.normpath(os.path.join(control, os.path.relpath(path, ns.location.root)))
        return ns, path

    def rules(self, vname: str) -> list[AclRule]:
        if self.backend is None:
            return []
        ns, path = self._mailbox_dir(vname)
        try:
            return combined(global_rules(self.backend, vname), local_rules(path),
                            owner_default=ns.type == "private")
        except AclParseError as exc:
            raise MailboxError(f"Internal error occurred. Refer to server log for more information. ({exc})") from exc

    def my_rights(self, vname: str) -> frozenset[str]:
        """The user's rights on ``vname`` (letters of lrwstipekxa)."""
        if self.backend is None:
            return frozenset("lrwstipekxa")
        ns, _ = self.user.resolve(vname)
        return effective_rights(self.rules(vname), self._who(ns))

    def _who(self, ns: Any) -> Requester:
        """The requester; owner of a private namespace's mailboxes, and of a shared one's when
        it is their own (in others' shared namespaces the default rights are none)."""
        owner = ns.type == "private" or ns.owner == self.requester.username
        return Requester(self.requester.username, self.requester.groups, owner=owner)

    def _parent_rights(self, vname: str) -> frozenset[str]:
        ns, _ = self.user.resolve(vname)
        sep = ns.separator
        inside = vname[len(ns.prefix):]
        if sep and sep in inside:
            return self.my_rights(ns.prefix + inside.rsplit(sep, 1)[0])
        # Top level: the namespace's default rights (the owner's, in a private namespace).
        who = self._who(ns)
        default = combined([], [], owner_default=ns.type == "private")
        return effective_rights(default, who)

    def not_found_or_denied(self, vname: str) -> MailboxError:
        if "l" in self.my_rights(vname):
            return MailboxError(NO_PERMISSION, NOPERM)
        return MailboxError(f"Mailbox doesn't exist: {vname}", NONEXISTENT)

    # --- imap_acl seam -----------------------------------------------------------------------

    def get_acl(self, vname: str) -> list[AclRule]:
        return self.rules(vname)

    def set_rights(self, vname: str, identifier: str, rights: str, mode: str = "replace") -> None:
        """SETACL: ``mode`` replace, add ("+lr") or remove ("-lr"); "-identifier" sets negative rights."""
        negative = identifier.startswith("-")
        ident = Identifier.parse(identifier.lstrip("-"))
        letters = parse_rights(rights)
        _, path = self._mailbox_dir(vname)
        rules = local_rules(path)
        current = next((r for r in rules if r.identifier == ident and r.negative == negative), None)
        old = current.rights if current else frozenset()
        new = letters if mode == "replace" else old | letters if mode == "add" else old - letters
        rules = [r for r in rules if r is not current]
        if new:
            rules.append(AclRule(ident, frozenset(new), negative))
        write_local(path, rules)
        self.update_shared_dict(vname)

    def delete_rights(self, vname: str, identifier: str) -> None:
        negative = identifier.startswith("-")
        ident = Identifier.parse(identifier.lstrip("-"))
        _, path = self._mailbox_dir(vname)
        write_local(path, [r for r in local_rules(path) if not (r.identifier == ident and r.negative == negative)])
        self.update_shared_dict(vname)

    # --- acl_shared_dict ---------------------------------------------------------------------

    def update_shared_dict(self, vname: str | None = None) -> None:
        """Announce in acl_shared_dict whom mailboxes are visible to, after an ACL change on
        ``vname`` (as Dovecot rebuilds it): this user's keys become exactly the non-owner ``l``
        rights of the private namespaces; a change in another user's shared mailbox (with the
        admin right) adds that owner's keys and removes none of them."""
        if self.shared_store is None or self.backend is None:
            return
        ids: set[str] = set()
        for ns in self.user.namespaces.namespaces:
            if ns.type == "private":
                ids |= self._namespace_ids(ns, self.user.username)
        self.shared_store.update(self.user.username, ids)
        ns = self.user.namespaces.find(vname) if vname is not None else None
        if ns is not None and ns.owner is not None and not ns.owner_missing and ns.owner != self.user.username:
            self.shared_store.update(ns.owner, self._namespace_ids(ns, ns.owner), remove=False)

    def _namespace_ids(self, ns: Any, owner: str) -> set[str]:
        ids: set[str] = set()
        for info in ns.mailbox_list.list("*"):
            if info.selectable:
                ids |= lookup_ids(owner, self.rules(ns.vname(info.name)))
        return ids

    def shared_owners(self) -> list[str]:
        """The users whose shared mailboxes LIST should look at (read from acl_shared_dict)."""
        if self.shared_store is None:
            return []
        try:
            return self.shared_store.owners_visible_to(self.requester.username, sorted(self.requester.groups))
        except (OSError, DictError):
            return []  # Dovecot logs a failed dict iteration and lists no shared mailboxes

    # --- hooks -------------------------------------------------------------------------------

    def mailbox_visible(self, vname: str) -> bool:
        ns = self.user.namespaces.find(vname)
        if ns.is_template:
            return True  # "shared": listed only when some owner's mailbox is visible
        try:
            return "l" in self.my_rights(vname)
        except LookupError:
            return False

    def mailbox_creating(self, vname: str) -> None:
        if "k" not in self._parent_rights(vname):
            raise MailboxError(NO_PERMISSION, NOPERM)

    def mailbox_deleting(self, vname: str) -> None:
        if "x" not in self.my_rights(vname):
            raise self.not_found_or_denied(vname)

    def mailbox_renaming(self, old: str, new: str) -> None:
        if "x" not in self.my_rights(old):
            raise self.not_found_or_denied(old)
        if "k" not in self._parent_rights(new):
            raise MailboxError(NO_PERMISSION, NOPERM)

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        if self.backend is None:
            return mailbox
        return _AclMailbox(mailbox, self)  # type: ignore[return-value]


class _AclMailbox(MailboxWrapper):
    def __init__(self, inner: Mailbox, plugin: AclPlugin) -> None:
        super().__init__(inner)
        self.plugin = plugin

    @property
    def rights(self) -> frozenset[str]:
        return self.plugin.my_rights(self.vname)

    def is_readonly(self) -> bool:
        """SELECT answers READ-ONLY when no right would change anything."""
        return not (self.rights & set("itswe"))

    def permanent_flags(self) -> tuple[str, ...]:
        """What PERMANENTFLAGS lists: the system flags the rights allow, then ``\\*`` with ``w``
        (which the caller puts after the mailbox's keywords); nothing when read-only."""
        rights = self.rights
        if not (rights & set("itswe")):
            return ()
        flags = _allowed_flags(("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"), rights)
        return (*flags, "\\*") if "w" in rights else flags

    def _need_read(self) -> None:
        if "r" not in self.rights:
            raise self.plugin.not_found_or_denied(self.vname)

    def sync(self, *, take_recent: bool = False, **backend: Any) -> Any:
        self._need_read()
        return super().sync(take_recent=take_recent, **backend)

    def status(self) -> Any:
        self._need_read()
        return super().status()

    def read(self, uid: int) -> bytes | None:
        self._need_read()
        return super().read(uid)

    def path_of(self, uid: int) -> str | None:
        self._need_read()
        return super().path_of(uid)

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        rights = self.rights
        if "i" not in rights:
            if "l" not in rights:
                raise MailboxError(f"Mailbox doesn't exist: {self.vname}", NONEXISTENT)
            raise MailboxError(NO_PERMISSION, NOPERM)
        flags = _allowed_flags(flags, rights)
        keywords = tuple(keywords) if "w" in rights else ()
        return super().append(data, flags=flags, keywords=keywords, internaldate=internaldate, **backend)

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str], keywords: Iterable[str] = (),
              *, unchanged_since: int | None = None) -> StoreResult:
        rights = self.rights
        wanted = tuple(flags)
        allowed = _allowed_flags(wanted, rights)
        keywords = tuple(keywords) if "w" in rights else ()
        if action is not StoreAction.REPLACE or (rights >= set("wst")):
            if not allowed and not keywords:
                return StoreResult((), ())
            return super().store(uids, action, allowed, keywords, unchanged_since=unchanged_since)
        # Replacing without every right: remove the allowed flags not wanted, then add the
        # allowed wanted ones, as Dovecot does; flags without the right stay as they are.
        if not (rights & set("wst")):
            return StoreResult((), ())
        system = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
        removable = tuple(flag for flag in _allowed_flags(system, rights) if flag not in wanted)
        changed: dict[int, Any] = {}
        failed: tuple[int, ...] = ()
        for step, step_flags in ((StoreAction.REMOVE, removable), (StoreAction.ADD, allowed)):
            if not step_flags:
                continue
            result = super().store(uids, step, step_flags, (), unchanged_since=unchanged_since)
            changed.update((info.uid, info) for info in result.changed)
            failed = failed or result.unchanged_since_failed
        return StoreResult(tuple(changed[uid] for uid in sorted(changed)), failed)

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        # Dovecot refuses per message expunged: with nothing to expunge there is nothing to refuse.
        if uids and "e" not in self.rights:
            raise ExpungeDenied()
        return super().expunge(uids)


def _named_dicts(user: Any) -> dict[str, str]:
    """The ``dict { NAME = URI }`` section, for ``proxy::NAME`` URIs."""
    try:
        named = user.settings.get("dict")
    except KeyError:
        return {}
    return dict(named) if isinstance(named, dict) else {}
