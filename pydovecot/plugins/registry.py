"""``mail_plugins``: Dovecot's plugin names, and which of them we implement.

Every name Dovecot 2.3.19 ships a module for is accepted, so existing configurations load
unchanged; the ones we have not written yet are reported once in the log as not active
(never silently treated as working). A name Dovecot does not know fails the user's session
with Dovecot's own error text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .hooks import MailPlugin

if TYPE_CHECKING:
    from pydovecot.storage.mail_user import MailUser

log = logging.getLogger("pydovecot.plugins")

# The mail plugins of Dovecot 2.3.19 (core + pigeonhole + dovecot-lucene/solr packages).
DOVECOT_PLUGINS = frozenset({
    "acl", "imap_acl", "lazy_expunge", "mail_crypt", "mail_crypt_acl", "pop3_migration", "last_login",
    "quota", "imap_quota", "trash", "notify", "charset_alias", "fts", "fts_lucene", "fts_solr", "fts_squat",
    "listescape", "mail_log", "mailbox_alias", "notify_status", "push_notification", "quota_clone",
    "replication", "virtual", "zlib", "imap_zlib", "old_stats", "imap_old_stats", "welcome", "mail_lua",
    "push_notification_lua", "apparmor", "expire", "autocreate", "stats", "imap_stats", "sieve", "imap_sieve",
    "imap_filter_sieve",
})

_IMPLEMENTED: dict[str, Callable[[MailUser], MailPlugin]] = {}
_reported: set[str] = set()


class PluginError(RuntimeError):
    pass


def register(cls: type[MailPlugin]) -> type[MailPlugin]:
    _IMPLEMENTED[cls.name] = cls
    return cls


def plugin_names(value: str) -> list[str]:
    return [name for name in value.split() if name]


def load_plugins(user: MailUser, mail_plugins: str, plugin_dir: str = "/usr/lib/dovecot/modules") -> list[MailPlugin]:
    """The user's plugins in load order (as listed; duplicates once)."""
    _import_builtin_plugins()
    loaded: list[MailPlugin] = []
    seen: set[str] = set()
    for name in plugin_names(mail_plugins):
        if name in seen:
            continue
        seen.add(name)
        if name not in DOVECOT_PLUGINS and name not in _IMPLEMENTED:
            raise PluginError(f"Plugin '{name}' not found from directory {plugin_dir}")
        factory = _IMPLEMENTED.get(name)
        if factory is None:
            if name not in _reported:
                _reported.add(name)
                log.warning("mail plugin '%s' is not implemented in pydovecot yet: not active", name)
            continue
        missing = [req for req in getattr(factory, "requires", ()) if req not in seen]
        if missing:
            raise PluginError(f"Plugin {name} requires plugin {missing[0]} to be loaded first")
        loaded.append(factory(user))
    for plugin in loaded:
        # ``depends``: plugins that must be in the list too, in any order (Dovecot loads
        # modules by their file's priority, so "imap_acl acl" works).
        absent = [dep for dep in getattr(plugin, "depends", ()) if dep not in seen]
        if absent:
            module = getattr(plugin, "module_file", f"lib_{plugin.name}_plugin.so")
            raise PluginError(f"Couldn't load required plugin {plugin_dir}/{module}: Plugin {absent[0]} must be "
                              f"loaded also (you must set: mail_plugins=$mail_plugins {absent[0]})")
    return loaded


def _import_builtin_plugins() -> None:
    # Registering is the import's effect (zlib_imap: imap_zlib).
    from . import acl, fts, listescape, mail_log, notify, quota, zlib, zlib_imap  # noqa: F401
    from .acl import imap as acl_imap  # noqa: F401 - imap_acl
    from .quota import imap  # noqa: F401 - imap_quota
