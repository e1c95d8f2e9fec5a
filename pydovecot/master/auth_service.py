"""``service auth`` inside the master: the auth service of pydovecot.auth, fed by master sockets.

It serves the unix listeners whose protocol we speak (auth-client, auth-master, auth-userdb; see
``pydovecot.auth.__main__``) and publishes the AuthService as ``context.values["auth"]`` so that
login services in the same process can call it directly instead of over a socket.
"""

from __future__ import annotations

import asyncio

from pydovecot.auth.__main__ import connection_handler, listener_role
from pydovecot.auth.backend import service_from_settings
from pydovecot.log import Log

from .registry import ConnInfo, SharedContext, register_service
from .services import ListenerSpec


class AuthHandler:
    def __init__(self, tree: object, log: Log, context: SharedContext) -> None:
        settings = tree.lookup(service="auth")  # type: ignore[attr-defined]
        self.service = service_from_settings(settings, log_callback=log.callback)
        context.values["auth"] = self.service
        self._handlers = {role: connection_handler(self.service, role) for role in ("client", "master", "userdb")}

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        role = listener_role(conn_info.listener)
        if role is None or writer is None:
            return
        await self._handlers[role](reader, writer)  # type: ignore[misc]

    async def close(self) -> None:
        await self.service.close()
        await self.service.backend.chain.close()  # type: ignore[attr-defined]


def _serves(listener: ListenerSpec) -> bool:
    return listener.kind == "unix" and listener_role(listener.name) is not None


register_service("auth", AuthHandler, serves=_serves, shared_state=True)
