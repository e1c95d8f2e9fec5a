"""The protocol services the master runs: imap-login, pop3-login and lmtp.

Each protocol package offers a service with ``create(tree, auth_service=...)``,
``handle_connection`` and ``close`` and knows nothing of the master (layers point down); this
module plugs them into the master's registry. Dovecot splits each protocol into a login
service and a post-login one (imap-login + imap); we serve a connection from greeting to
logout in one handler registered under the login service's name, whose listeners clients
reach. The post-login services' unix listeners (imap-master, login/imap...) have no client
of ours and are not served.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from pydovecot.log import Log

from .registry import ConnInfo, SharedContext, register_service

# master service name -> (module, class) of the protocol service that serves it.
PROTOCOL_SERVICES = {
    "imap-login": ("pydovecot.imap.server", "ImapService"),
    "pop3-login": ("pydovecot.pop3.server", "Pop3Service"),
    "lmtp": ("pydovecot.lmtp.server", "LmtpService"),
    "quota-status": ("pydovecot.plugins.quota.status", "QuotaStatusService"),
}


class ProtocolHandler:
    """Runs one protocol service, created on the first connection (creating is asynchronous:
    it opens the auth client connection; the master's factories are not)."""

    def __init__(self, service_name: str, tree: Any, log: Log, context: SharedContext) -> None:
        self.service_name = service_name
        self.tree = tree
        self.context = context
        self._service: Any = None
        self._lock = asyncio.Lock()
        if "worker_pid" in context.values:
            # A worker is made before it accepts: what the service would otherwise do on its
            # first client (e.g. LMTP's imports before the first delivery) is done now.
            module_name, class_name = PROTOCOL_SERVICES[service_name]
            prepare = getattr(getattr(importlib.import_module(module_name), class_name), "prepare_worker", None)
            if prepare is not None:
                prepare()

    async def _get(self) -> Any:
        async with self._lock:
            if self._service is None:
                module_name, class_name = PROTOCOL_SERVICES[self.service_name]
                cls = getattr(importlib.import_module(module_name), class_name)
                handoff = self.context.values.get("handoff")
                if handoff is not None:
                    # a login process (separation.py): auth over its socket pair, no userdb here;
                    # logged-in clients go to a mail process
                    self._service = await cls.create(self.tree, auth_service=None,
                                                     auth_client=self.context.values["auth_client"],
                                                     tls_context=self.context.values.get("starttls"))
                    self._service.handoff = handoff
                else:
                    self._service = await cls.create(self.tree, auth_service=self._auth())
            return self._service

    def _auth(self) -> Any:
        """The master's auth service; a worker process (no shared one) makes its own from the
        same settings, so its auth cache is per worker (docs/process-model.md)."""
        auth = self.context.values.get("auth")
        if auth is None:
            from pydovecot.auth.backend import service_from_settings

            auth = self.context.values["auth"] = service_from_settings(self.tree.lookup(service="auth"))
        return auth

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        if writer is None:  # fifo listeners carry no client
            return
        service = await self._get()
        await service.handle_connection(reader, writer, conn_info)

    async def close(self) -> None:
        if self._service is not None:
            await self._service.close()


def _factory(service_name: str) -> Any:
    def make(tree: Any, log: Log, context: SharedContext) -> ProtocolHandler:
        return ProtocolHandler(service_name, tree, log, context)
    return make


for _name, (_module, _class) in PROTOCOL_SERVICES.items():
    # Imported now, while the master may still read everything: after it drops root, a Python
    # installed where the mail user cannot read could not import them any more.
    try:
        importlib.import_module(_module)
    except ImportError as exc:  # a broken protocol package must not stop the others
        import logging

        logging.getLogger("pydovecot.master").error("%s: %s", _module, exc)
        continue
    register_service(_name, _factory(_name))
