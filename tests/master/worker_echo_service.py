"""The test service of the worker tests: echoes lines, answers PID with the serving process's pid.

Loaded with PYDOVECOT_ONLY_SERVICE_MODULES=tests.master.worker_echo_service (see test_workers).
"""

from __future__ import annotations

import asyncio
import os

from pydovecot.log import Log
from pydovecot.login.auth_client import AuthClient, AuthParams
from pydovecot.master import ConnInfo, SharedContext, register_service


class PidEchoHandler:
    def __init__(self, tree: object, log: Log, context: SharedContext) -> None:
        self.log = log
        self.context = context
        self.greeting = str(tree.lookup().get("login_greeting"))  # type: ignore[attr-defined]

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        if writer is None:
            return
        writer.write(f"* {self.greeting} {os.getpid()}\r\n".encode())
        await writer.drain()
        while line := await reader.readline():
            text = line.decode().strip()
            if text == "QUIT":
                break
            if text == "PID":
                reply = str(os.getpid())
            elif text == "AUTH_SOCKET":
                reply = str(self.context.values.get("auth_socket"))
            elif text.startswith("AUTH "):
                reply = await self._auth(*text.split()[1:3])
            elif text == "ALLOC":  # for vsz_limit: more than the limit allows
                reply = str(len(bytearray(512 * 1024 * 1024)))
            else:
                reply = text
            writer.write(f"{reply}\r\n".encode())
            await writer.drain()

    async def _auth(self, user: str, password: str) -> str:
        """PLAIN over the master's auth-client socket: the one auth process of the server."""
        client = await AuthClient.connect_unix(str(self.context.values["auth_socket"]))
        try:
            reply = await client.begin("PLAIN", AuthParams("imap"), f"\0{user}\0{password}".encode())
        finally:
            await client.close()
        return f"{reply.kind} {reply.user} spid={client.server_pid}"

    async def close(self) -> None:
        pass


register_service("wecho", PidEchoHandler)


def _broken(tree: object, log: Log, context: SharedContext) -> PidEchoHandler:
    raise ValueError("wbroken cannot start")


register_service("wbroken", _broken)
