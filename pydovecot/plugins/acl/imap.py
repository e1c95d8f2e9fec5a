"""imap_acl (``mail_plugins = acl imap_acl``): the IMAP view of the acl plugin (RFC 4314).

This module holds what the plugin decides, as Dovecot 2.3.19 decides it: how IMAP names an
identifier (``anyone``, ``authenticated``, ``owner``, ``$group``, ``!$group-override``, a plain
user name; ``#`` marks a global rule and ``-`` a negative one), which rights letters mean what
(``c`` = ``kx`` and ``d`` = ``et``, RFC 4314's obsolete rights), who may read or change a
mailbox's ACL (the ``a`` right on an existing mailbox), and how SETACL/DELETEACL change the
mailbox's ``dovecot-acl`` file (the same lines, in the same order, as Dovecot writes).
pydovecot/imap/commands/acl.py reads the arguments and writes the replies. After login the
plugin adds ``ACL RIGHTS=texk`` to the capability list.
"""

from __future__ import annotations

import contextlib
import enum
import os
from dataclasses import dataclass
from typing import Any

from ..hooks import MailPlugin
from ..registry import register
from .plugin import AclPlugin
from .rights import ALL_RIGHTS, RIGHTS, AclRule, Identifier, IdType, effective_rights, rights_string
from .vfile import combined, global_rules, local_rules, rights_by_name, rule_order, write_local

ACLLIST_FILENAME = "dovecot-acl-list"
NOT_ADMIN = "You lack administrator privileges on this mailbox."
# LISTRIGHTS: Dovecot offers every right on its own (none are tied together).
LISTRIGHTS = '"" l r w s t p i e k x a c d'
_INBOX = "INBOX"


class AclCommandError(Exception):
    """A refusal: ``status`` BAD (``Error in IMAP command X: <text>``) or NO (with ``code``)."""

    def __init__(self, status: str, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.code = code


def _bad(text: str) -> AclCommandError:
    return AclCommandError("BAD", text)


class Mode(enum.Enum):
    """How an update changes one side (positive or negative) of an identifier's rights."""

    REMOVE = "remove"
    ADD = "add"
    REPLACE = "replace"
    CLEAR = "clear"


@dataclass(frozen=True)
class Update:
    identifier: Identifier
    mode: Mode = Mode.REMOVE
    rights: frozenset[str] | None = None
    neg_mode: Mode = Mode.REMOVE
    neg_rights: frozenset[str] | None = None


def parse_identifier(text: str, *, anyone_allowed: bool = True) -> Identifier:
    """An IMAP ACL identifier (without a leading ``-``)."""
    if any(ord(ch) < 0x20 for ch in text):  # it would break the dovecot-acl line format
        raise _bad("Invalid identifier")
    if text.startswith("#"):
        raise _bad(f"Global ACLs can't be modified: {text}")
    if text in ("anyone", "authenticated"):
        if not anyone_allowed:
            raise _bad(f"'{text}' identifier is disallowed")
        return Identifier(IdType.ANYONE if text == "anyone" else IdType.AUTHENTICATED)
    if text == "owner":
        return Identifier(IdType.OWNER)
    if text.startswith("$"):
        return Identifier(IdType.GROUP, text[1:])
    if text.startswith("!$"):
        return Identifier(IdType.GROUP_OVERRIDE, text[2:])
    return Identifier(IdType.USER, text)


def parse_letters(text: str) -> frozenset[str]:
    """RFC 4314 letters; ``c`` and ``d`` stand for ``kx`` and ``et``."""
    out: set[str] = set()
    for letter in text:
        if letter in RIGHTS:
            out.add(letter)
        elif letter == "c":
            out.update("kx")
        elif letter == "d":
            out.update("et")
        else:
            raise _bad(f"Invalid ACL right: {letter}")
    return frozenset(out)


def imap_rights(letters: str) -> str:
    """Letters as IMAP shows them: the virtual ``c`` and ``d`` added, ``""`` for none."""
    out = letters + ("c" if set(letters) & set("kx") else "") + ("d" if set(letters) & set("te") else "")
    return out or '""'


def imap_identifier(identifier: Identifier) -> str:
    if identifier.type is IdType.USER:
        return identifier.name
    if identifier.type is IdType.GROUP:
        return "$" + identifier.name
    if identifier.type is IdType.GROUP_OVERRIDE:
        return "!$" + identifier.name
    return str(identifier)


@dataclass
class _Entry:
    """One identifier of an ACL object: its positive and negative rights (None: absent)."""

    identifier: Identifier
    is_global: bool
    rights: frozenset[str] | None = None
    neg_rights: frozenset[str] | None = None
    default: bool = False  # the owner's default rights (letters in RFC order, not by name)


def _entries(rules: list[AclRule]) -> list[_Entry]:
    entries: dict[tuple[bool, Identifier], _Entry] = {}
    for rule in sorted(rules, key=rule_order):
        entry = entries.setdefault((rule.is_global, rule.identifier), _Entry(rule.identifier, rule.is_global))
        if rule.negative:
            entry.neg_rights = (entry.neg_rights or frozenset()) | rule.rights
        else:
            entry.rights = (entry.rights or frozenset()) | rule.rights
    return list(entries.values())


def _modify(current: frozenset[str] | None, change: frozenset[str] | None,
            mode: Mode) -> tuple[frozenset[str] | None, bool]:
    """One side of an identifier after the update, and whether it changed.

    As in Dovecot, rights taken down to nothing stay present but empty (GETACL shows ``""``,
    the file keeps ``user=bob ``); only DELETEACL (CLEAR) removes them, and an empty
    replacement or addition does not create them."""
    if mode is Mode.CLEAR:
        new = None
    elif change is None:
        new = current
    elif current is None:
        new = change if change and mode is not Mode.REMOVE else None
    elif mode is Mode.REPLACE:
        new = change
    elif mode is Mode.ADD:
        new = current | change
    else:
        new = current - change
    return new, new != current


def apply_update(rules: list[AclRule], update: Update) -> list[AclRule] | None:
    """The local rules after ``update``; None when nothing changed (the file stays as it is)."""
    entries = _entries([r for r in rules if not r.is_global])
    current = next((e for e in entries if e.identifier == update.identifier), None)
    if current is None:
        if update.mode is Mode.REMOVE and update.neg_mode is Mode.REMOVE:
            return None
        current = _Entry(update.identifier, False)
        entries.append(current)
    current.rights, changed = _modify(current.rights, update.rights, update.mode)
    current.neg_rights, neg_changed = _modify(current.neg_rights, update.neg_rights, update.neg_mode)
    if not (changed or neg_changed):
        return None
    out = []
    for entry in entries:
        if entry.rights is not None:
            out.append(AclRule(entry.identifier, entry.rights))
        if entry.neg_rights is not None:
            out.append(AclRule(entry.identifier, entry.neg_rights, negative=True))
    return out


@register
class ImapAclPlugin(MailPlugin):
    name = "imap_acl"
    # Needs acl anywhere in mail_plugins (Dovecot's module order puts acl first anyway).
    depends = ("acl",)
    module_file = "lib02_imap_acl_plugin.so"
    capabilities = ("ACL", "RIGHTS=texk")

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        self._acl_plugin: AclPlugin | None = None

    def _acl(self) -> AclPlugin:
        """The user's acl plugin with a backend; "ACLs disabled." without one."""
        if self._acl_plugin is None:
            self._acl_plugin = next((p for p in self.user.plugins if isinstance(p, AclPlugin)), None)
        if self._acl_plugin is None or self._acl_plugin.backend is None:
            raise _bad("ACLs disabled.")
        return self._acl_plugin

    def _private(self, vname: str) -> bool:
        ns, _ = self.user.resolve(vname)
        return bool(ns.type == "private")

    def _exists(self, vname: str) -> bool:
        try:
            _, storage = self.user.resolve(vname)
            return storage == _INBOX or bool(self.user.mailbox_exists(vname))
        except ValueError:  # a name the storage refuses ("../x") names no mailbox
            return False

    def _rights(self, acl: AclPlugin, vname: str) -> frozenset[str]:
        """The user's rights; for a name the storage refuses, those of a mailbox without an ACL
        file (Dovecot answers MYRIGHTS for any name)."""
        try:
            return acl.my_rights(vname)
        except ValueError:
            assert acl.backend is not None
            rules = combined(global_rules(acl.backend, vname), [], owner_default=True)
            return effective_rights(rules, acl.requester)

    def _as_admin(self, vname: str) -> AclPlugin:
        """The ACL commands that read or change a mailbox's ACL need it to exist and the ``a`` right."""
        acl = self._acl()
        rights = self._rights(acl, vname)
        if self._exists(vname) and "a" in rights:
            return acl
        if not self._exists(vname) or "l" not in rights:
            raise AclCommandError("NO", f"Mailbox doesn't exist: {vname}.", "NONEXISTENT")
        raise AclCommandError("NO", NOT_ADMIN, "NOPERM")

    # --- the commands' decisions -------------------------------------------------------------

    def my_rights(self, vname: str) -> str:
        """MYRIGHTS: the letters (with ``c``/``d``); NONEXISTENT without any right but ``p``."""
        rights = self._rights(self._acl(), vname)
        if not rights or rights == {"p"}:
            raise AclCommandError("NO", f"Mailbox doesn't exist: {vname}.", "NONEXISTENT")
        return imap_rights(rights_string(rights))

    def list_rights(self, vname: str) -> str:
        """LISTRIGHTS: the same answer for any mailbox and identifier, even with ACLs disabled."""
        return LISTRIGHTS

    def get_acl(self, vname: str) -> list[tuple[str, str]]:
        """GETACL: (identifier, rights) pairs; the caller quotes the identifier as an astring."""
        acl = self._as_admin(vname)
        _, path = acl._mailbox_dir(vname)
        rules = local_rules(path) + (global_rules(acl.backend, vname) if acl.backend else [])
        return self._format(_entries(rules), private=self._private(vname))

    def _format(self, entries: list[_Entry], *, private: bool, convert: bool = True) -> list[tuple[str, str]]:
        username = self.user.username

        def is_owner(entry: _Entry) -> bool:
            ident = entry.identifier
            return ident.type is IdType.OWNER or (ident.type is IdType.USER and ident.name == username)

        out: list[tuple[str, str]] = []
        seen_owner = positive_owner = False
        for entry in entries:
            ident = entry.identifier
            if is_owner(entry):
                if seen_owner and convert:
                    # Both "owner" and "user=<me>": shown as they are written.
                    return self._format(entries, private=private, convert=False)
                seen_owner = True
                positive_owner = positive_owner or entry.rights is not None
                if ident.type is IdType.OWNER and convert:
                    ident = Identifier(IdType.USER, username)
            name = ("#" if entry.is_global else "") + imap_identifier(ident)
            if entry.rights is not None:
                out.append((name, imap_rights(rights_by_name(entry.rights))))
            if entry.neg_rights is not None:
                out.append(("-" + name, imap_rights(rights_by_name(entry.neg_rights))))
        if not positive_owner and private:
            # No positive rights for the owner: show the owner's default rights.
            name = username if convert else "owner"
            out.append((name, imap_rights(rights_string(ALL_RIGHTS))))
        return out

    def set_acl(self, vname: str, identifier: str, rights: str) -> None:
        """SETACL (the identifier and rights as the client sent them)."""
        if not identifier:
            raise _bad("Invalid arguments.")
        negative = identifier.startswith("-")
        identifier = identifier[1:] if negative else identifier
        mode = {"+": Mode.ADD, "-": Mode.REMOVE}.get(rights[:1], Mode.REPLACE)
        if mode is not Mode.REPLACE:
            rights = rights[1:]
        ident = parse_identifier(identifier, anyone_allowed=self.setting("acl_anyone") == "allow")
        letters = parse_letters(rights)
        acl = self._as_admin(vname)
        ns, _ = self.user.resolve(vname)
        if ns.type == "public" and ident.type is IdType.OWNER:
            raise AclCommandError("NO", "Public namespaces have no owner")
        if negative:
            update = Update(ident, Mode.REMOVE, None, mode, letters)
        else:
            if ns.type == "private" and (ident.type is IdType.OWNER or ident == Identifier(IdType.USER,
                                                                                        self.user.username)):
                letters = self._keep_admin(acl, vname, letters, mode)
            update = Update(ident, mode, letters)
        self._update(acl, vname, update)

    def _keep_admin(self, acl: AclPlugin, vname: str, letters: frozenset[str], mode: Mode) -> frozenset[str]:
        """The owner never takes the admin right from themself by accident."""
        if mode is Mode.ADD:
            _, path = acl._mailbox_dir(vname)
            rules = local_rules(path) + (global_rules(acl.backend, vname) if acl.backend else [])
            username = self.user.username
            owner_positive = any(not r.negative and (
                r.identifier.type is IdType.OWNER or r.identifier == Identifier(IdType.USER, username))
                for r in rules)
            # First rights for the owner: the defaults come along.
            return letters if owner_positive else letters | ALL_RIGHTS
        if mode is Mode.REMOVE:
            return letters - {"a"}
        return letters | {"a"}

    def delete_acl(self, vname: str, identifier: str) -> None:
        if not identifier:
            raise _bad("Invalid arguments.")
        negative = identifier.startswith("-")
        ident = parse_identifier(identifier[1:] if negative else identifier)
        acl = self._as_admin(vname)
        update = Update(ident, Mode.REMOVE, None, Mode.CLEAR) if negative else Update(ident, Mode.CLEAR)
        self._update(acl, vname, update)

    def _update(self, acl: AclPlugin, vname: str, update: Update) -> None:
        _, path = acl._mailbox_dir(vname)
        rules = apply_update(local_rules(path), update)
        if rules is None:
            return
        write_local(path, rules)
        # acl_shared_dict: who may now see this user's mailboxes (the acl plugin keeps it).
        announce = getattr(acl, "update_shared_dict", None)
        if announce is not None:
            announce(vname)
        # Dovecot's list of mailboxes with ACLs (for other users' shared namespaces) may be
        # out of date now: without it, Dovecot rebuilds it from the ACL files when next used.
        ns, _ = self.user.resolve(vname)
        control = ns.location.option("CONTROL")
        root = control if control and control.upper() != "MEMORY" else ns.location.root
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, ACLLIST_FILENAME))
