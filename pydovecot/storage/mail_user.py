"""A mail user: the userdb's answer joined with the settings, and the user's namespaces.

Dovecot applies userdb fields on top of the settings: ``mail`` is ``mail_location``, any other
field naming a setting replaces that setting for this user (``mail_plugins``,
``namespace/inbox/prefix``...), ``uid``/``gid``/``home`` set the identity, and every field that
is not a setting becomes a plugin setting (``quota_rule``, ``sieve``...). %-variables in
mail settings are expanded with the user's values (``%u``, ``%d``, ``%h``...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydovecot.config.tree import Node, find_setting
from pydovecot.config.values import parse as parse_value
from pydovecot.plugins.registry import PluginError, load_plugins
from pydovecot.storage.access import may_block
from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import MAIL_USER, split_user

from .attributes import forget_on_delete
from .interface import Mailbox
from .mail_location import MailLocation, MailLocationError, parse_mail_location
from .mailbox import MaildirIndexedMailbox
from .maildir.fsync import FsyncMode
from .maildir.layout import INBOX, LayoutKind, MailboxNameError
from .maildir.mailbox_list import MailboxExistsError, MaildirMailboxList
from .maildir.permissions import privileged_gid
from .maildir.sync import ensure_maildir
from .maildir.uidvalidity import make_private_dirs
from .namespace import MailboxSettings, Namespace, NamespaceSet
from .shared import LookupUser, MissingOwnerMailboxList

# userdb fields that are not settings and not plugin settings.
_IDENTITY_FIELDS = frozenset({"uid", "gid", "home", "user", "system_groups_user", "chroot", "nice"})
_FIELD_ALIASES = {"mail": "mail_location"}


class MailUserError(RuntimeError):
    """The user cannot be served (bad location, uid below first_valid_uid...); logged, not shown."""


class UserSettings:
    """The settings node of the user's service with the userdb's overrides on top."""

    def __init__(self, node: Node, overrides: Mapping[str, object], plugin: Mapping[str, str]) -> None:
        self.node = node
        self.overrides = dict(overrides)
        self.plugin = dict(plugin)

    def get(self, name: str) -> object:
        if name in self.overrides:
            return self.overrides[name]
        return self.node.get(name)

    def str(self, name: str) -> str:
        value = self.get(name)
        return "" if value is None else str(value)


@dataclass
class MailUser:
    username: str
    service: str
    home: str | None
    uid: int | None
    gid: int | None
    settings: UserSettings
    namespaces: NamespaceSet
    fields: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str | None] = field(default_factory=dict)
    plugins: list[Any] = field(default_factory=list)
    """The loaded mail plugins (:class:`pydovecot.plugins.hooks.MailPlugin`), in load order."""
    lookup_user: LookupUser | None = None
    """The userdb, for the owners of shared namespaces (given by the protocol layer)."""

    @property
    def fsync(self) -> FsyncMode:
        return FsyncMode.parse(self.settings.str("mail_fsync") or "optimized")

    def resolve(self, vname: str) -> tuple[Namespace, str]:
        return self.namespaces.resolve(vname)

    def mailbox_exists(self, vname: str) -> bool:
        ns, storage = self.resolve(vname)
        return ns.mailbox_list.exists(storage)

    def open_mailbox(self, vname: str, *, create_inbox: bool = True) -> Mailbox:
        """The mailbox behind a vname; INBOX is created on first use as Dovecot does."""
        ns, storage = self.resolve(vname)
        if ns.owner_missing:
            raise LookupError(f"Mailbox doesn't exist: {vname}")
        if storage == INBOX and create_inbox and ns.owner is None:
            ensure_maildir(ns.mailbox_path(INBOX))
        elif not ns.mailbox_list.exists(storage):
            raise LookupError(f"Mailbox doesn't exist: {vname}")
        return self.mailbox_for(ns, storage)

    def backend_mailbox(self, ns: Namespace, storage: str) -> MaildirIndexedMailbox:
        """The storage's own mailbox, without the plugins' wrappers (what plugins themselves read)."""
        path = ns.mailbox_path(storage)
        if ns.owner is not None:
            _shared_roots(ns)
        return MaildirIndexedMailbox(
            ns.vname(storage), path, control_dir=_mirror(ns, "CONTROL", path), index_dir=_mirror(ns, "INDEX", path),
            uidvalidity_dir=ns.mailbox_list.control_dir, fsync=self.fsync,
            save_crlf=bool(self.settings.get("mail_save_crlf")),
            copy_with_hardlinks=_flag(self.settings, "maildir_copy_with_hardlinks", True),
            empty_new=_flag(self.settings, "maildir_empty_new", False),
            very_dirty_syncs=_flag(self.settings, "maildir_very_dirty_syncs", False),
            broken_filename_sizes=_flag(self.settings, "maildir_broken_filename_sizes", False),
            privileged_gid=getattr(ns.mailbox_list, "privileged_gid", None))

    def mailbox_for(self, ns: Namespace, storage: str) -> Mailbox:
        mailbox: Mailbox = self.backend_mailbox(ns, storage)
        for plugin in self.plugins:
            mailbox = plugin.mailbox_opened(mailbox)
        return mailbox

    # --- mailbox-list operations through the plugins' hooks ------------------------------------
    # Protocol code creates, deletes and renames through these so that plugins (acl, mail_log)
    # can refuse or observe; the list's own errors pass through unchanged.

    def create_mailbox(self, vname: str) -> None:
        ns, storage = self.resolve(vname)
        for plugin in self.plugins:
            plugin.mailbox_creating(vname)
        ns.mailbox_list.create(storage)
        for plugin in self.plugins:
            plugin.mailbox_created(vname)

    def delete_mailbox(self, vname: str) -> None:
        ns, storage = self.resolve(vname)
        for plugin in self.plugins:
            plugin.mailbox_deleting(vname)
        forget_attributes = forget_on_delete(self, vname)
        ns.mailbox_list.delete(storage)
        forget_attributes()
        for plugin in self.plugins:
            plugin.mailbox_deleted(vname)

    def rename_mailbox(self, old: str, new: str) -> None:
        old_ns, old_storage = self.resolve(old)
        _new_ns, new_storage = self.resolve(new)
        for plugin in self.plugins:
            plugin.mailbox_renaming(old, new)
        old_ns.mailbox_list.rename(old_storage, new_storage)
        for plugin in self.plugins:
            plugin.mailbox_renamed(old, new)

    def make_shared_namespace(self, template: Namespace, owner: str, prefix: str) -> Namespace:
        """The namespace of ``owner`` under a shared template: prefix and location expanded
        with the owner's variables, ``~`` the accessing user's home (as Dovecot does). An
        owner the userdb does not know gets a namespace where nothing exists."""
        fields = self.lookup_user(owner) if self.lookup_user is not None else None
        if fields is None:
            location = parse_mail_location(f"maildir:{os.devnull}/user-not-found/{owner}", self.home)
            ns = _make_namespace(template, prefix, location, self.settings)
            ns.mailbox_list = MissingOwnerMailboxList(location.root, location.maildir_layout())
            ns.owner, ns.owner_missing = owner, True
            return ns
        name = fields.get("user") or owner
        uid, gid = _int_or_none(fields.get("uid")), _int_or_none(fields.get("gid"))
        variables = user_variables(name, self.service, fields.get("home"), uid, gid)
        text = template.template_location or fields.get("mail") or self.settings.str("mail_location")
        try:
            location = parse_mail_location(_expand(text, variables), self.home)
        except MailLocationError as exc:
            raise MailUserError(f"Namespace '{template.name}': {exc}") from exc
        ns = _make_namespace(template, prefix, location, self.settings)
        ns.owner = name
        return ns

    def mailbox_visible(self, vname: str) -> bool:
        """Whether LIST may show ``vname`` to this user (every plugin agrees)."""
        if vname in self.namespaces.shared_listed:
            return True  # judged while listing the shared namespace (parents of visible ones too)
        return all(plugin.mailbox_visible(vname) for plugin in self.plugins)

    def autocreate(self) -> None:
        """Create and subscribe the ``auto = create|subscribe`` mailboxes that are missing."""
        for ns in self.namespaces.namespaces:
            for name, box in ns.mailboxes.items():
                if box.auto not in ("create", "subscribe"):
                    continue
                try:
                    storage = ns.storage_name(name if name == INBOX else ns.prefix + name)
                    if not ns.mailbox_list.exists(storage):
                        may_block()  # creating is thread work; checking is not
                        if storage == INBOX:
                            ensure_maildir(ns.mailbox_path(INBOX))
                        else:
                            ns.mailbox_list.create(storage)
                    if box.auto == "subscribe" and storage not in ns.mailbox_list.subscriptions():
                        may_block()
                        ns.mailbox_list.subscribe(storage)
                except (MailboxNameError, MailboxExistsError):
                    continue


def _shared_roots(ns: Namespace) -> None:
    """A shared namespace's INDEX=/CONTROL= roots (``~/shared/bob@x``), made 0700 level by level
    as Dovecot makes them before the mailboxes' own directories go in."""
    for key in ("CONTROL", "INDEX"):
        base = ns.location.option(key)
        if base and base.upper() != "MEMORY" and not os.path.isdir(base):
            make_private_dirs(base)


def _mirror(ns: Namespace, key: str, path: str) -> str | None:
    """A per-mailbox directory under ``CONTROL=``/``INDEX=``, mirroring the mailbox's place in the root."""
    base = ns.location.option(key)
    if not base or base.upper() == "MEMORY":
        return None
    if ns.owner is not None and os.path.normpath(path) == os.path.normpath(ns.location.root):
        # The owner's INBOX (the Maildir root) keeps its indexes under "INBOX" in a shared
        # namespace's INDEX=/CONTROL= (".INBOX" with Maildir++), as Dovecot's do.
        plusplus = ns.mailbox_list.layout.kind is LayoutKind.MAILDIRPLUSPLUS
        return os.path.join(base, ".INBOX" if plusplus else INBOX)
    return os.path.normpath(os.path.join(base, os.path.relpath(path, ns.location.root)))


def user_variables(username: str, service: str, home: str | None, uid: int | None, gid: int | None,
                   extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    local, domain = split_user(username)
    table: dict[str, str | None] = {
        "user": username, "username": local, "domain": domain, "service": service, "home": home,
        "uid": None if uid is None else str(uid), "gid": None if gid is None else str(gid),
    }
    if extra:
        table.update(extra)
    return table


def _split_fields(root: Node, fields: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """userdb fields -> (setting overrides, plugin settings)."""
    overrides: dict[str, object] = {}
    plugin: dict[str, str] = {}
    for raw_name, value in fields.items():
        name = _FIELD_ALIASES.get(raw_name, raw_name)
        if name in _IDENTITY_FIELDS or name.startswith("userdb_"):
            continue
        setting = find_setting(root.stype, name)
        if setting is None or "/" in name:
            plugin[raw_name] = value
            continue
        try:
            overrides[name] = parse_value(setting, value)
        except Exception:  # noqa: BLE001 - a bad userdb value keeps the configured one, as Dovecot warns
            continue
    return overrides, plugin


def _int_or_none(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        import grp
        import pwd

        try:
            return pwd.getpwnam(value).pw_uid
        except KeyError:
            try:
                return grp.getgrnam(value).gr_gid
            except KeyError as exc:
                raise MailUserError(f"Unknown uid/gid: {value}") from exc


def create_mail_user(node: Node, username: str, fields: Mapping[str, str], *, service: str,
                     extra_variables: Mapping[str, str | None] | None = None,
                     lookup_user: LookupUser | None = None) -> MailUser:
    """Build the user from the service's settings node and the userdb fields."""
    overrides, plugin = _split_fields(node, fields)
    settings = UserSettings(node, overrides, {})
    uid = _int_or_none(fields.get("uid") or settings.str("mail_uid") or None)
    gid = _int_or_none(fields.get("gid") or settings.str("mail_gid") or None)
    variables = user_variables(username, service, None, uid, gid, extra_variables)
    home = fields.get("home") or _expand(settings.str("mail_home"), variables) or None
    variables["home"] = home
    # plugin { } values are %-expanded per user (so "10%%" reads as "10%"); userdb fields are
    # already final values.
    configured: dict[str, str] = node.get("plugin")  # type: ignore[assignment]
    settings.plugin = {**{k: _expand(v, variables) for k, v in configured.items()}, **plugin}
    first_valid = int(settings.get("first_valid_uid") or 0)
    if uid is not None and uid < first_valid:
        source = "userdb lookup" if fields.get("uid") else "mail_uid setting"  # Dovecot's exact words
        raise MailUserError(f"Mail access for users with UID {uid} not permitted "
                            f"(see first_valid_uid in config file, uid from {source}).")
    location = _expand(settings.str("mail_location"), variables)
    namespaces = [_namespace(ns, location, variables, home, settings) for ns in node.get("namespace")]  # type: ignore[attr-defined]
    if not namespaces:
        namespaces = [_default_namespace(location, home, settings)]
    user = MailUser(username, service, home, uid, gid, settings, NamespaceSet(namespaces), dict(fields), variables,
                    lookup_user=lookup_user)
    if any(ns.is_template for ns in namespaces):
        user.namespaces.make_shared = user.make_shared_namespace
        user.namespaces.visible = user.mailbox_visible
        user.namespaces.self_user = username
    try:
        user.plugins = load_plugins(user, settings.str("mail_plugins"), settings.str("mail_plugin_dir"))
    except PluginError as exc:
        raise MailUserError(str(exc)) from exc
    return user


def _expand(template: str, variables: Mapping[str, str | None]) -> str:
    if "%" not in template:
        return template
    return expand(template, variables, context=MAIL_USER).text


def _mailbox_list(location: MailLocation, settings: UserSettings) -> MaildirMailboxList:
    fsync = FsyncMode.parse(settings.str("mail_fsync") or "optimized")
    return MaildirMailboxList(location.root, location.maildir_layout(),
                              control_dir=location.option("CONTROL") or location.root, fsync=fsync,
                              privileged_gid=_privileged_gid(settings),
                              stat_dirs=_flag(settings, "maildir_stat_dirs", False))


def _privileged_gid(settings: UserSettings) -> int | None:
    try:
        return privileged_gid(settings.str("mail_privileged_group"))
    except ValueError as exc:
        raise MailUserError(str(exc)) from exc


def _flag(settings: UserSettings, name: str, default: bool) -> bool:
    try:
        value = settings.get(name)
    except KeyError:  # a service whose settings do not know the name
        return default
    return default if value is None else bool(value)


def _namespace(ns: Node, default_location: str, variables: Mapping[str, str | None], home: str | None,
               settings: UserSettings) -> Namespace:
    own = _expand(str(ns.get("location") or ""), variables)
    try:
        location = parse_mail_location(own or default_location, home)
    except MailLocationError as exc:
        raise MailUserError(f"Namespace '{ns.get('name')}': {exc}") from exc
    mailbox_list = _mailbox_list(location, settings)
    separator = str(ns.get("separator") or "") or mailbox_list.separator
    prefix = _expand(str(ns.get("prefix") or ""), variables)
    template = str(ns.get("type") or "") == "shared" and "%" in prefix
    boxes = {
        str(box.get("name")): MailboxSettings(
            str(box.get("name")), str(box.get("auto") or "no"),
            tuple(str(box.get("special_use") or "").split()),
        )
        for box in ns.get("mailbox")  # type: ignore[attr-defined]
    }
    return Namespace(str(ns.get("name")), str(ns.get("type") or "private"), prefix, separator,
                     bool(ns.get("inbox")), bool(ns.get("hidden")), str(ns.get("list") or "yes"),
                     bool(ns.get("subscriptions")), location, mailbox_list, boxes,
                     template_location=own if template else "")


def _make_namespace(template: Namespace, prefix: str, location: MailLocation, settings: UserSettings) -> Namespace:
    """An owner's namespace made from a shared template (see :mod:`.shared`)."""
    return Namespace(template.name, template.type, prefix, template.separator, False, template.hidden,
                     template.list, template.subscriptions, location, _mailbox_list(location, settings),
                     dict(template.mailboxes),
                     explicit_inbox=_flag(settings, "mail_shared_explicit_inbox", False))


def _default_namespace(location_text: str, home: str | None, settings: UserSettings) -> Namespace:
    """No namespace configured: Dovecot makes one private inbox namespace with an empty prefix."""
    try:
        location = parse_mail_location(location_text, home)
    except MailLocationError as exc:
        raise MailUserError(str(exc)) from exc
    mailbox_list = _mailbox_list(location, settings)
    return Namespace("", "private", "", mailbox_list.separator, True, False, "yes", True, location, mailbox_list)
