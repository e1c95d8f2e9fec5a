"""A tiny service for the master's tests: echoes lines, answers WHO with its connection info.

Loaded into a master subprocess with PYDOVECOT_SERVICE_MODULES=tests.master.echo_service.
``STARTTLS`` upgrades the stream with pydovecot.master.start_tls; ``LOG <text>`` writes a log line.
"""

from __future__ import annotations

import asyncio

from pydovecot.log import Log
from pydovecot.master import ConnInfo, SharedContext, register_service, start_tls


class EchoHandler:
    def __init__(self, tree: object, log: Log, context: SharedContext) -> None:
        self.log = log
        self.context = context
        # A setting read at load time, so a reload's effect is visible to the client.
        self.greeting = str(tree.lookup().get("login_greeting"))  # type: ignore[attr-defined]

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        if writer is None:  # fifo: log what arrives
            while line := await reader.readline():
                self.log.info(f"fifo: {line.decode().strip()}")
            return
        writer.write(f"* {self.greeting}\r\n".encode())
        await writer.drain()
        while line := await reader.readline():
            text = line.decode().strip()
            if text == "WHO":
                reply = (f"{conn_info.listener} {conn_info.kind} {conn_info.remote_ip} {conn_info.local_port} "
                         f"tls={conn_info.tls} secured={conn_info.secured} session={conn_info.session_id}")
            elif text == "STARTTLS":
                writer.write(b"OK begin TLS\r\n")
                await writer.drain()
                assert self.context.tls is not None
                await start_tls(writer, self.context.tls)
                continue
            elif text.startswith("LOG "):
                self.log.info(text[4:])
                reply = "logged"
            elif text == "QUIT":
                break
            else:
                reply = text
            writer.write(f"{reply}\r\n".encode())
            await writer.drain()

    async def close(self) -> None:
        self.log.info("echo handler closed")


register_service("echo", EchoHandler)


def _broken(tree: object, log: Log, context: SharedContext) -> EchoHandler:
    raise ValueError("No passdbs specified in configuration file. At least one is needed")


register_service("broken", _broken)
