"""The userdb as a mail user's ``lookup_user`` (the owners of shared namespaces).

Protocol sessions hold the auth service; storage, which needs the owner's home and mail
fields, runs in worker threads. This turns the service's async userdb lookup into the
synchronous callable storage takes (:func:`pydovecot.storage.shared.threadsafe_lookup`):
the lookup runs on the session's event loop, the worker thread waits for its answer.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping
from typing import Any

from pydovecot.auth.service import RequestInfo, UserdbResult
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
