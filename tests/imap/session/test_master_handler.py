"""The master's view: `service imap-login` runs our ImapService through the master's handler."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

from pydovecot.config import load
from pydovecot.login.connection import ConnectionInfo

from .cases import LOGIN, write_config


def test_master_serves_imap_login_with_our_service() -> None:
    from pydovecot.master.protocol_services import PROTOCOL_SERVICES, ProtocolHandler
    from pydovecot.master.registry import registered_services

    assert PROTOCOL_SERVICES["imap-login"] == ("pydovecot.imap.server", "ImapService")
    assert "imap-login" in registered_services()
    tmp = Path(tempfile.mkdtemp(prefix="pyimap"))
    tmp.chmod(0o755)
    try:
        tree = load(str(write_config(tmp, 0)))
        handler = ProtocolHandler("imap-login", tree, None, SimpleNamespace(values={}, tls=None))  # type: ignore[arg-type]
        asyncio.run(_session(handler))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _session(handler: object) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info = ConnectionInfo("127.0.0.1", 143, "127.0.0.1", 5000, "imap")
        await handler.handle_connection(reader, writer, info)  # type: ignore[attr-defined]

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    greeting = await asyncio.wait_for(reader.readline(), 10)
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1")
    writer.write(f"{LOGIN}\r\nb LOGOUT\r\n".encode())
    replies = await asyncio.wait_for(reader.read(), 10)
    assert b"a OK [CAPABILITY" in replies and replies.endswith(b"b OK Logout completed.\r\n")
    writer.close()
    server.close()
    await handler.close()  # type: ignore[attr-defined]
