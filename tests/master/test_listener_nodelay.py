"""Inet listeners say they are TCP, so that asyncio turns Nagle's algorithm off on every
accepted connection: a reply written in two parts must not wait for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

from pydovecot.master.listeners import bind_listener
from pydovecot.master.services import ListenerSpec
from tests.support.net import free_port


def test_accepted_connections_have_nodelay() -> None:
    bound = bind_listener(ListenerSpec("imap", "inet", "imap", "127.0.0.1", free_port()))
    assert bound is not None
    seen: list[int] = []

    async def main() -> None:
        done = asyncio.Event()

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            done.set()

        server = await asyncio.start_server(on_connection, sock=bound.sock)
        _, writer = await asyncio.open_connection(*bound.sock.getsockname()[:2])
        await asyncio.wait_for(done.wait(), 10)
        writer.close()
        server.close()
        await server.wait_closed()

    try:
        asyncio.run(main())
    finally:
        bound.sock.close()
    assert seen and seen[0] != 0
