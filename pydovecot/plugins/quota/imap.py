"""imap_quota (``mail_plugins = quota imap_quota``): the IMAP view of quota (RFC 2087).

This module holds what the plugin knows (the roots a mailbox falls under, the resources of a
root as Dovecot 2.3.19 reports them); pydovecot/imap/commands/quota.py writes the replies.
After login the plugin adds ``QUOTA`` to the capability list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..hooks import MailPlugin
from ..registry import register
from .plugin import QuotaPlugin
from .rules import QuotaRoot


@dataclass(frozen=True)
class Resource:
    name: str  # STORAGE (in KB) or MESSAGE
    usage: int
    limit: int


@register
class ImapQuotaPlugin(MailPlugin):
    name = "imap_quota"
    requires = ("quota",)
    capabilities = ("QUOTA",)

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        self.quota: QuotaPlugin | None = None

    def _quota(self) -> QuotaPlugin | None:
        # The user's plugin list is complete only after every plugin was created.
        if self.quota is None:
            self.quota = next((p for p in self.user.plugins if isinstance(p, QuotaPlugin)), None)
        return self.quota

    def roots_of(self, vname: str) -> list[QuotaRoot]:
        """The quota roots a mailbox counts towards (every root of the user, as with Dovecot's
        per-user backends; a mailbox need not exist)."""
        quota = self._quota()
        return list(quota.roots) if quota is not None else []

    def find_root(self, name: str) -> QuotaRoot | None:
        return next((root for root in self.roots_of("") if root_name(root, self.setting(root.setting)) == name), None)

    def display_name(self, root: QuotaRoot) -> str:
        return root_name(root, self.setting(root.setting))

    def resources(self, root: QuotaRoot) -> list[Resource]:
        """The limited resources of a root; an unlimited one is left out, as Dovecot does.

        STORAGE is in kilobytes, both usage and limit rounded up."""
        quota = self._quota()
        if quota is None:
            return []
        storage_limit, message_limit = root.limits_for(None) or (0, 0)
        if not storage_limit and not message_limit:
            return []
        used = quota.usage(root)
        out = []
        if storage_limit:
            out.append(Resource("STORAGE", _kilobytes(used.bytes), _kilobytes(storage_limit)))
        if message_limit:
            out.append(Resource("MESSAGE", used.messages, message_limit))
        return out


def root_name(root: QuotaRoot, value: str) -> str:
    """The name IMAP shows: the second field of ``quota = backend:name:...``, "" when absent.

    (QuotaRoot.name falls back to the setting's name for doveadm; IMAP shows the empty one.)"""
    parts = value.split(":")
    return parts[1] if len(parts) > 1 else ""


def _kilobytes(size: int) -> int:
    return (size + 1023) // 1024
