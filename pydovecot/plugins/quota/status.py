"""The quota-status service: Postfix asks, before accepting a mail, whether the recipient has room.

    service quota-status {
      executable = quota-status -p postfix
      inet_listener { port = 12340 }
    }
    plugin {
      quota_status_success = DUNNO
      quota_status_nouser = DUNNO
      quota_status_overquota = "552 5.2.2 Mailbox is full"
    }

Postfix's policy delegation protocol: a request is ``name=value`` lines ending with an empty
line; the answer is ``action=...`` and an empty line, and the connection stays open for more.
As Dovecot's quota-status does, the recipient's detail is cut off (recipient_delimiter), the
user is looked up in the userdb, and a message of ``size`` bytes (at least 1) is tested against
the user's quota for INBOX; a request without a recipient is answered ``DUNNO``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydovecot.auth.mechanisms.username import fix_username
from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.storage.access import run_as
from pydovecot.storage.mail_user import create_mail_user

from .plugin import QuotaExceeded, QuotaPlugin

log = logging.getLogger("pydovecot.plugins")
MAX_LINE = 8192
MAX_LINES = 1000
TOO_LARGE = "Mail size is larger than the maximum size allowed by server configuration"


def strip_detail(recipient: str, delimiters: str) -> str:
    local, at, domain = recipient.rpartition("@") if "@" in recipient else (recipient, "", "")
    for index, ch in enumerate(local):
        if delimiters and ch in delimiters:
            local = local[:index]
            break
    return f"{local}{at}{domain}"


def quota_answer(user: Any, size: int) -> str:
    """The action for a ``size``-byte mail to ``user`` (runs as the mail user, in a worker thread)."""
    plugin = next((p for p in user.plugins if isinstance(p, QuotaPlugin)), None)
    if plugin is None:  # no quota for this user
        return plugin_value(user, "quota_status_success", "OK")
    if plugin.max_mail_size and size > plugin.max_mail_size:
        value = user.settings.plugin.get("quota_status_toolarge")
        if value is not None:
            return str(value)
        return plugin_value(user, "quota_status_overquota", f"554 5.2.2 {TOO_LARGE}")
    try:
        plugin.check_save("INBOX", max(size, 1))
    except QuotaExceeded as exc:
        return plugin_value(user, "quota_status_overquota", f"554 5.2.2 {exc}")
    return plugin_value(user, "quota_status_success", "OK")


def plugin_value(user: Any, name: str, default: str) -> str:
    value = user.settings.plugin.get(name)
    return default if value is None else str(value)


class QuotaStatusService:
    def __init__(self, tree: Any, auth: Any) -> None:
        self.tree = tree
        self.auth = auth
        self.node = tree.lookup(service="quota-status")

    @classmethod
    async def create(cls, tree: Any, *, auth_service: Any) -> QuotaStatusService:
        return cls(tree, auth_service)

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                                conn_info: Any) -> None:
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                writer.write(f"action={await self.answer(request)}\n\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            return
        finally:
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        request: dict[str, str] = {}
        for _ in range(MAX_LINES):
            line = await reader.readline()
            if not line:
                return None
            if len(line) > MAX_LINE:
                raise ValueError("request line too long")
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                return request
            key, _, value = text.partition("=")
            request[key] = value
        raise ValueError("too many request lines")

    async def answer(self, request: dict[str, str]) -> str:
        recipient = request.get("recipient")
        if not recipient:
            return "DUNNO"
        size = int(request["size"]) if request.get("size", "").isdigit() else 0
        username = strip_detail(recipient, str(self.node.get("recipient_delimiter") or ""))
        try:
            rules = getattr(getattr(self.auth, "settings", None), "username_rules", None)
            fixed = fix_username(username, rules)[0] if rules is not None else username
            answer = await self.auth.backend.lookup_user(fixed, RequestInfo(service="quota-status")) \
                if fixed is not None else None
            if answer is None or answer.result == UserdbResult.USER_UNKNOWN:
                return plugin_value_from_node(self.node, "quota_status_nouser", "REJECT Unknown user")
            if answer.result != UserdbResult.OK:
                raise RuntimeError("userdb lookup failed")
            fields = {f.key: f.value for f in answer.fields.items} if answer.fields is not None else {}
            user = await run_as(None, None, create_mail_user, self.node, answer.user or fixed, fields,
                                service="quota-status")
            return await run_as(user.uid, user.gid, quota_answer, user, size)
        except Exception:  # noqa: BLE001 - every failure is a temporary one for Postfix
            log.exception("quota-status: Failed to lookup user %s", username)
            return "DEFER_IF_PERMIT Temporary internal error"

    async def close(self) -> None:
        """Nothing held between connections."""


def plugin_value_from_node(node: Any, name: str, default: str) -> str:
    plugin = node.get("plugin") or {}
    value = plugin.get(name)
    return default if value is None else str(value)
