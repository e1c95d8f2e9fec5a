"""The userdb as a mail user's ``lookup_user`` (the owners of shared namespaces).

Protocol sessions hold the auth service; storage, which needs the owner's home and mail
fields, runs in worker threads. This turns the service's async userdb lookup into the
synchronous callable storage takes (:func:`pydovecot.storage.shared.threadsafe_lookup`):
the lookup runs on the session's event loop, the worker thread waits for its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydovecot.auth.service import RequestInfo, UserdbAnswer, UserdbResult
from pydovecot.auth.wire.fields import AuthFields
from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape
from pydovecot.storage.shared import LookupUser, UserLookupUnavailable, threadsafe_lookup

SOCKET_TIMEOUT = 30.0


def userdb_lookup(auth_service: Any, request: RequestInfo, userdb_socket: str | None = None) -> LookupUser | None:
    """``lookup_user(name) -> fields | None`` over ``auth_service``; without one (a mail process
    of the separated model) over the master's ``auth-userdb`` socket when it exists."""
    if auth_service is None:
        if userdb_socket and os.path.exists(userdb_socket):
            return socket_lookup(userdb_socket, request.service)
        return None
    backend = auth_service.backend

    async def lookup(name: str) -> dict[str, str] | None:
        answer = await backend.lookup_user(name, request)
        if answer.result is not UserdbResult.OK:
            return None
        fields = {f.key: f.value for f in answer.fields.items}
        fields.setdefault("user", answer.user or name)
        return fields

    return threadsafe_lookup(asyncio.get_running_loop(), lookup)


def socket_lookup(path: str, service: str) -> LookupUser:
    """A blocking :data:`LookupUser` over the auth master protocol (``USER`` on auth-userdb), for
    storage worker threads: one short connection per owner, as Dovecot's mail processes do."""

    def call(name: str) -> Mapping[str, str] | None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(SOCKET_TIMEOUT)
                sock.connect(path)
                sock.sendall(f"VERSION\t1\t0\nUSER\t1\t{tab_escape(name)}\tservice={tab_escape(service)}\n"
                             .encode())
                reply = _reply_line(sock.makefile("rb"))
        except OSError as exc:
            raise UserLookupUnavailable(f"userdb lookup of {name} failed: {exc}") from exc
        words = [tab_unescape(w) for w in reply.split("\t")]
        if words[0] == "NOTFOUND":
            return None
        if words[0] != "USER" or len(words) < 3:
            raise UserLookupUnavailable(f"userdb lookup of {name} failed: {reply[:200]}")
        fields = dict(w.split("=", 1) if "=" in w else (w, "") for w in words[3:])
        fields.setdefault("user", words[2])
        return fields

    return call


def _reply_line(stream: Any) -> str:
    """The first line that answers our request (the server's VERSION/SPID lines come first)."""
    while True:
        line = stream.readline()
        if not line:
            raise OSError("auth-userdb closed the connection")
        text = line.decode("utf-8", "surrogateescape").rstrip("\n")
        if text.split("\t", 1)[0] in ("USER", "NOTFOUND", "FAIL"):
            return text


class AuthMasterClient:
    """The auth master protocol's USER over one long-lived connection, for asyncio code of the
    root master (the hand-off's userdb lookup, LMTP's recipients, quota-status) when auth runs
    in its own process (``master/auth_process.py``).

    ``connect()`` gives a connected stream socket to auth; requests are multiplexed by id, as
    Dovecot's auth-master-client does.  A connection that breaks (the auth process died or was
    replaced by a reload) fails its waiting requests, which are asked once more on a new one."""

    def __init__(self, connect: Callable[[], Awaitable[socket.socket]]) -> None:
        self._connect = connect
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[list[str]]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def lookup_user(self, user: str, info: RequestInfo) -> UserdbAnswer:
        params = [f"service={tab_escape(info.service)}"]
        for key, value in (("lip", info.local_ip), ("rip", info.remote_ip),
                           ("lport", info.local_port), ("rport", info.remote_port)):
            if value:
                params.append(f"{key}={tab_escape(str(value))}")
        if info.secured:
            params.append("secured")
        for attempt in (1, 2):
            try:
                words = await self._request("USER", tab_escape(user), params)
                break
            except ConnectionError:
                if attempt == 2:
                    raise
        if words[0] == "USER" and len(words) >= 3:
            pairs = [tuple(w.split("=", 1)) if "=" in w else (w, "") for w in words[3:] if w]
            return UserdbAnswer(UserdbResult.OK, user=words[2], fields=AuthFields.of(pairs))  # type: ignore[arg-type]
        if words[0] == "NOTFOUND":
            return UserdbAnswer(UserdbResult.USER_UNKNOWN)
        reason = next((w[7:] for w in words[2:] if w.startswith("reason=")), None)
        return UserdbAnswer(UserdbResult.INTERNAL_FAILURE, reason=reason)

    async def _request(self, command: str, arg: str, params: list[str]) -> list[str]:
        writer = await self._connection()
        rid = next(self._ids)
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        try:
            writer.write("\t".join([command, str(rid), arg, *params]).encode("utf-8", "surrogateescape") + b"\n")
            return await asyncio.wait_for(future, SOCKET_TIMEOUT)
        finally:
            self._waiting.pop(rid, None)

    async def _connection(self) -> asyncio.StreamWriter:
        async with self._lock:
            if self._writer is None or self._writer.is_closing():
                sock = await self._connect()
                reader, writer = await asyncio.open_unix_connection(sock=sock)
                writer.write(b"VERSION\t1\t0\n")
                self._writer = writer
                self._reader_task = asyncio.ensure_future(self._read(reader, writer))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while raw := await reader.readline():
                words = [tab_unescape(w) for w in raw.decode("utf-8", "surrogateescape").rstrip("\n").split("\t")]
                if words[0] in ("USER", "NOTFOUND", "FAIL") and len(words) > 1 and words[1].isdigit():
                    future = self._waiting.get(int(words[1]))
                    if future is not None and not future.done():
                        future.set_result(words)
        except (ConnectionError, ValueError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()
            for future in list(self._waiting.values()):
                if not future.done():
                    future.set_exception(ConnectionError("auth connection lost"))

    def reset(self) -> None:
        """Drop the connection (a reload started a new auth process, which the old one waits
        for): requests still waiting on it are asked again on a new connection."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
