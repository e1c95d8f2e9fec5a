"""The login side of the auth client protocol: what imap-login and pop3-login speak to auth.

One connection per login service, multiplexing requests by id as Dovecot's login processes
do. In our single-process server the connection is a socket pair to the in-process
:class:`~pydovecot.auth.service.AuthService`; it can as well be a UNIX socket to a separate
auth process (``auth-client`` in base_dir), since the wire is the same.

    client = await AuthClient.in_process(service)
    reply = await client.begin("PLAIN", AuthParams(service="imap", remote_ip=...), initial=b"\\0u\\0p")
    while reply.kind == "CONT":
        reply = await client.cont(reply.id, await ask_client(reply.data))
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import socket
import time
from dataclasses import dataclass, field

from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape

AUTH_TEMP_FAILED_MSG = "Temporary authentication failure."


def temp_failure_text() -> str:
    """What login processes tell a client when auth answers a temporary failure: the message
    with this host's name and the local time, so that the admin can find it in the log."""
    return f"{AUTH_TEMP_FAILED_MSG} [{socket.gethostname()}:{time.strftime('%Y-%m-%d %H:%M:%S')}]"


class AuthClientError(ConnectionError):
    """The auth connection is gone or spoke something unexpected; logins get a temporary failure."""


@dataclass(frozen=True)
class AuthParams:
    service: str
    local_ip: str | None = None
    remote_ip: str | None = None
    local_port: int | None = None
    remote_port: int | None = None
    secured: bool = False
    session: str | None = None
    no_penalty: bool = False
    # A TLS client certificate that verified against ssl_ca, and the name in it (login's
    # ssl_cert_username_field); auth uses the name only with auth_ssl_username_from_cert.
    valid_client_cert: bool = False
    cert_username: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def wire(self) -> str:
        parts = [f"service={tab_escape(self.service)}"]
        for key, value in (("lip", self.local_ip), ("rip", self.remote_ip), ("lport", self.local_port),
                           ("rport", self.remote_port), ("session", self.session)):
            if value is not None:
                parts.append(f"{key}={tab_escape(str(value))}")
        if self.secured:
            parts.append("secured")
        if self.no_penalty:
            parts.append("no-penalty")
        if self.valid_client_cert:
            parts.append("valid-client-cert")
        if self.cert_username is not None:
            parts.append(f"cert_username={tab_escape(self.cert_username)}")
        parts.extend(f"{k}={tab_escape(v)}" for k, v in self.extra)
        return "\t".join(parts)


@dataclass(frozen=True)
class AuthReply:
    kind: str  # OK | FAIL | CONT
    id: int
    data: bytes = b""  # the server's challenge (CONT)
    fields: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()

    @property
    def user(self) -> str | None:
        return self.fields.get("user")

    @property
    def temporary(self) -> bool:
        return "temp" in self.flags or self.fields.get("code") == "temp_fail"

    @property
    def reason(self) -> str | None:
        return self.fields.get("reason")


def _parse_reply(line: str) -> AuthReply | None:
    parts = line.split("\t")
    if len(parts) < 2 or parts[0] not in ("OK", "FAIL", "CONT") or not parts[1].isdigit():
        return None
    kind, rid = parts[0], int(parts[1])
    if kind == "CONT":
        data = base64.b64decode(parts[2]) if len(parts) > 2 else b""
        return AuthReply(kind, rid, data)
    fields: dict[str, str] = {}
    flags: set[str] = set()
    for arg in parts[2:]:
        key, eq, value = arg.partition("=")
        if eq:
            fields[key] = tab_unescape(value)
        else:
            flags.add(key)
    return AuthReply(kind, rid, b"", fields, frozenset(flags))


class AuthClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.mechanisms: dict[str, frozenset[str]] = {}
        self.server_pid: str | None = None
        self.cookie: str | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[AuthReply]] = {}
        self._reader_task: asyncio.Task[None] | None = None
        self._handshake = asyncio.get_running_loop().create_future()
        self.closed = False

    # --- connecting --------------------------------------------------------------------------

    @classmethod
    async def connect_unix(cls, path: str) -> AuthClient:
        reader, writer = await asyncio.open_unix_connection(path)
        return await cls._start(reader, writer)

    @classmethod
    async def connect_socket(cls, sock: socket.socket) -> AuthClient:
        """Over an already connected socket (a login process's socket pair to the master)."""
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return await cls._start(reader, writer)

    @classmethod
    async def in_process(cls, service: object) -> AuthClient:
        """A connection to an AuthService in this process, over a socket pair."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        s_reader, s_writer = await asyncio.open_unix_connection(sock=theirs)
        session = service.new_client_session()  # type: ignore[attr-defined]
        task = asyncio.create_task(session.serve(s_reader, s_writer))
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        client = await cls._start(reader, writer)
        client._server_task = task  # keep a reference: the session lives as long as we do
        return client

    @classmethod
    async def _start(cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AuthClient:
        client = cls(reader, writer)
        writer.write(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
        client._reader_task = asyncio.create_task(client._read_loop())
        await client._handshake
        return client

    async def close(self) -> None:
        self.closed = True
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
        self._fail_all()
        # The in-process auth session ends when it reads our end of file; wait for it, so no
        # task is left pending when the loop closes.
        server_task = getattr(self, "_server_task", None)
        if server_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(server_task), 1)
            except Exception:  # noqa: BLE001 - closing (a timeout included): nothing left to report
                server_task.cancel()

    # --- requests ----------------------------------------------------------------------------

    async def begin(self, mechanism: str, params: AuthParams, initial: bytes | None = None) -> AuthReply:
        rid = next(self._ids)
        line = f"AUTH\t{rid}\t{mechanism}\t{params.wire()}"
        if initial is not None:
            line += "\tresp=" + base64.b64encode(initial).decode()
        return await self._request(rid, line)

    async def cont(self, request_id: int, data: bytes) -> AuthReply:
        return await self._request(request_id, f"CONT\t{request_id}\t{base64.b64encode(data).decode()}")

    def cancel(self, request_id: int) -> None:
        future = self._waiting.pop(request_id, None)
        if future is not None and not future.done():
            future.cancel()
        if not self.closed:
            self.writer.write(f"CANCEL\t{request_id}\n".encode())

    async def _request(self, rid: int, line: str) -> AuthReply:
        if self.closed:
            raise AuthClientError("auth connection closed")
        future: asyncio.Future[AuthReply] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        self.writer.write(line.encode("utf-8", "surrogateescape") + b"\n")
        return await future

    # --- reading -----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                raw = await self.reader.readline()
                if not raw:
                    break
                self._line(raw.rstrip(b"\n").decode("utf-8", "surrogateescape"))
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.closed = True
            self._fail_all()

    def _line(self, line: str) -> None:
        if not self._handshake.done():
            self._handshake_line(line)
            return
        reply = _parse_reply(line)
        if reply is None:
            return
        future = self._waiting.pop(reply.id, None)
        if future is not None and not future.done():
            future.set_result(reply)

    def _handshake_line(self, line: str) -> None:
        parts = line.split("\t")
        if parts[0] == "MECH" and len(parts) > 1:
            self.mechanisms[parts[1].upper()] = frozenset(parts[2:])
        elif parts[0] == "SPID" and len(parts) > 1:
            self.server_pid = parts[1]
        elif parts[0] == "COOKIE" and len(parts) > 1:
            self.cookie = parts[1]
        elif parts[0] == "DONE":
            self._handshake.set_result(None)

    def _fail_all(self) -> None:
        if not self._handshake.done():
            self._handshake.set_exception(AuthClientError("auth connection closed during handshake"))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(AuthClientError("auth connection lost"))
        self._waiting.clear()
