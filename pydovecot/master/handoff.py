"""Passing a logged-in client from a login process, through the master, to a mail process.

Dovecot's imap-login does not serve mail: once auth says yes it gives the client's socket to the
master (``login/imap``), which starts an ``imap`` process that looks the user up, becomes the
user and goes on from where imap-login stopped.  Here the same hand-off runs over
``SOCK_SEQPACKET`` socket pairs made by the master before it forks (``separation.py``): each
message is one JSON header plus, with ``SCM_RIGHTS``, the descriptor of the client connection.

The header (``Handoff``) carries what the mail process cannot learn from the socket: the user,
the connection's addresses and session id (the descriptor of a TLS client is a socket pair, see
below), the bytes the login process read but did not consume (a command pipelined after LOGIN),
and the protocol state the first reply depends on (IMAP's tag, whether CAPABILITY was sent).

A TLS session cannot move: its keys live in the login process's OpenSSL state.  As Dovecot's
login processes do, the login process then keeps the TLS connection and passes one end of a
socket pair instead, copying bytes between the two for the rest of the session (``proxy``).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from pydovecot.login.connection import ConnectionInfo

# One header, pending input included: login literals are at most 64 KiB (imap/session.py).
MAX_MESSAGE = 256 * 1024
_PROXY_CHUNK = 65536


class ChannelClosed(ConnectionError):
    """The peer process is gone."""


class Channel:
    """Messages (a JSON object + descriptors) over a SOCK_SEQPACKET socket, for asyncio.

    Requests carry an ``id``; ``request()`` waits for the reply with the same id, anything else
    goes to ``on_message`` (the serving side)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.closed = False
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._incoming: asyncio.Queue[tuple[dict[str, Any], list[int]] | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        return cls(socket.socket(fileno=fd))

    def _readable(self) -> None:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MESSAGE, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self.close()
                return
            try:
                message = json.loads(data)
            except ValueError:
                for fd in fds:
                    os.close(fd)
                continue
            reply_to = message.get("reply_to")
            future = self._waiting.pop(reply_to, None) if reply_to is not None else None
            if future is not None:
                for fd in fds:  # replies carry no descriptors
                    os.close(fd)
                if not future.done():
                    future.set_result(message)
            else:
                self._incoming.put_nowait((message, list(fds)))

    async def send(self, message: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        while True:
            if self.closed:
                raise ChannelClosed("channel closed")
            try:
                if fds:
                    self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                else:
                    self.sock.send(data)
                return
            except (BlockingIOError, InterruptedError):
                await self._writable()
            except OSError as e:
                self.close()
                raise ChannelClosed(str(e)) from e

    async def _writable(self) -> None:
        future: asyncio.Future[None] = self._loop.create_future()

        def ready() -> None:
            self._loop.remove_writer(self.sock.fileno())
            if not future.done():
                future.set_result(None)

        self._loop.add_writer(self.sock.fileno(), ready)
        try:
            await future
        finally:
            with contextlib.suppress(Exception):
                self._loop.remove_writer(self.sock.fileno())

    async def request(self, message: dict[str, Any], fds: list[int] | tuple[int, ...] = (),
                      timeout: float | None = None) -> dict[str, Any]:
        rid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._waiting[rid] = future
        try:
            await self.send({**message, "id": rid}, fds)
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(rid, None)

    async def reply(self, request: dict[str, Any], message: dict[str, Any]) -> None:
        await self.send({**message, "reply_to": request.get("id")})

    async def receive(self) -> tuple[dict[str, Any], list[int]] | None:
        """The next message that is not a reply; None once the peer has gone."""
        if self.closed and self._incoming.empty():
            return None
        return await self._incoming.get()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.sock.fileno())
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ChannelClosed("peer gone"))
        self._waiting.clear()
        self._incoming.put_nowait(None)
        self.sock.close()


@dataclass
class Handoff:
    """A logged-in client, as the login process hands it over."""

    protocol: str  # "imap" / "pop3"
    user: str  # the name auth logged in
    conn: dict[str, Any]  # ConnectionInfo's fields
    mechanism: str = ""
    pending: str = ""  # bytes read but not consumed, latin-1 (JSON has no bytes)
    tag: str = ""  # IMAP: the LOGIN/AUTHENTICATE tag, latin-1
    capability_sent: bool = False  # IMAP: the client asked CAPABILITY before logging in
    proxied: bool = False  # the descriptor is a socket pair to a TLS session kept by the login process
    userdb: dict[str, str] = field(default_factory=dict)  # filled in by the master
    auth_fields: dict[str, str] = field(default_factory=dict)  # passdb's reply (userdb_* prefetch)

    def message(self) -> dict[str, Any]:
        return {"handoff": asdict(self)}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Handoff:
        return cls(**message["handoff"])

    def connection_info(self) -> ConnectionInfo:
        return ConnectionInfo(**self.conn)

    @property
    def pending_bytes(self) -> bytes:
        return self.pending.encode("latin-1")

    @property
    def tag_bytes(self) -> bytes:
        return self.tag.encode("latin-1")


def conn_fields(conn: ConnectionInfo) -> dict[str, Any]:
    return asdict(conn)


@dataclass
class HandoffResult:
    ok: bool
    mail_pid: int | None = None
    error: str = ""  # why not: the client gets the protocol's internal-error reply


def stream_socket(writer: asyncio.StreamWriter) -> socket.socket | None:
    sock = writer.get_extra_info("socket")
    return sock if sock is not None else None


def unread_input(reader: asyncio.StreamReader) -> bytes:
    """What the StreamReader holds beyond what the session has taken (read ahead of LOGIN's end)."""
    buffer = getattr(reader, "_buffer", b"")
    data = bytes(buffer)
    if data:
        buffer.clear()
    return data


async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: socket.socket) -> None:
    """Copy between the client's (TLS) stream and the mail process's end, until either side ends."""
    inner_reader, inner_writer = await asyncio.open_unix_connection(sock=pair)

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while data := await src.read(_PROXY_CHUNK):
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(Exception):
            if dst.can_write_eof():
                dst.write_eof()
            else:
                dst.close()

    up = asyncio.ensure_future(pump(reader, inner_writer))
    down = asyncio.ensure_future(pump(inner_reader, writer))
    try:
        # the mail process closing its side ends the session; the client closing ends it too
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        if down.done():
            up.cancel()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(down), 5)
    finally:
        for task in (up, down):
            task.cancel()
        inner_writer.close()


class LoginHandoff:
    """The login process's side: asks the master to give a logged-in client to a mail process."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def hand_off(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       handoff: Handoff) -> tuple[HandoffResult, socket.socket | None]:
        """(result, the socket-pair end to proxy through for a TLS client, else None).

        After a successful plain hand-off the caller only closes its copy of the socket: the
        connection lives on in the mail process."""
        transport = writer.transport
        with contextlib.suppress(Exception):
            transport.pause_reading()  # nothing more may be read here: the mail process reads now
        handoff.pending += unread_input(reader).decode("latin-1")
        keep: socket.socket | None = None
        if writer.get_extra_info("ssl_object") is not None:
            keep, give = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            handoff.proxied = True
            fd = give.detach()
        else:
            sock = writer.get_extra_info("socket")
            if sock is None:
                return HandoffResult(False, error="no socket to hand over"), None
            fd = os.dup(sock.fileno())
        try:
            reply = await self.channel.request(handoff.message(), [fd])
        except ChannelClosed:
            reply = {"ok": False, "error": "master process is gone"}
        finally:
            os.close(fd)
        result = HandoffResult(bool(reply.get("ok")), reply.get("mail_pid"), str(reply.get("error") or ""))
        if not result.ok and keep is not None:
            keep.close()
            keep = None
        if keep is not None:
            with contextlib.suppress(Exception):
                transport.resume_reading()
        return result, keep
