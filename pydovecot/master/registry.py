"""The handler registry: services plug into the master by name.

``register_service("imap-login", factory)``: when the configuration has ``service imap-login``
(and its protocol is enabled), the master calls ``factory(tree, log, context)`` once per
configuration load and hands every connection of that service's listeners to the returned
handler's ``handle_connection``.  Services without a registered handler are not started.

``register_executable("script", factory)`` serves any service, whatever its name, whose
``executable`` runs that binary (``executable = script /path/decode2text.sh``); its factory also
gets the service's ServiceSpec (``registration_for`` binds it).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pydovecot.log import Log
from pydovecot.login.connection import ConnectionInfo
from pydovecot.login.session_id import new_session_id

from .services import ListenerSpec, ServiceSpec

# The master hands protocol handlers the connection description of the login layer.
ConnInfo = ConnectionInfo


def connection_info(spec: ListenerSpec, writer: asyncio.StreamWriter | None) -> ConnInfo:
    """The ConnInfo of a connection accepted on ``spec`` (the master's and the workers' alike)."""
    local = writer.get_extra_info("sockname") if writer and spec.kind == "inet" else None
    remote = writer.get_extra_info("peername") if writer and spec.kind == "inet" else None
    rip, rport = (remote[0], remote[1]) if remote else (None, None)
    lip, lport = (local[0], local[1]) if local else (None, None)
    return ConnInfo(lip, lport, rip, rport, listener=spec.name, tls=spec.ssl, kind=spec.kind,
                    session_id=new_session_id(rip, rport))


@dataclass
class SharedContext:
    """Shared by all services of one master: the TLS context, base_dir, and a place for services
    to find each other (``context.values["auth"]`` set by the auth service, for example)."""

    base_dir: str
    tls: ssl.SSLContext | None = None
    values: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class ServiceHandler(Protocol):
    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        """Serve one connection (``writer`` is None for fifo listeners, which are read-only)."""

    async def close(self) -> None:
        """Release what the handler holds; called once no connection uses it any more."""


ServiceFactory = Callable[[object, Log, SharedContext], ServiceHandler]

ListenerFilter = Callable[[ListenerSpec], bool]


@dataclass(frozen=True)
class Registration:
    factory: ServiceFactory
    # Which of the service's listeners it serves (auth serves auth-client, not token-login);
    # decided before any handler exists, since sockets are bound before daemonizing.
    serves: ListenerFilter | None = None
    # Its state must be one for the whole server (auth's cache and penalty): it always runs in
    # the master process, never in worker processes (see workers.py).
    shared_state: bool = False

    def wants(self, listener: ListenerSpec) -> bool:
        return self.serves is None or self.serves(listener)


_REGISTRY: dict[str, Registration] = {}


def register_service(name: str, factory: ServiceFactory, *, serves: ListenerFilter | None = None,
                     shared_state: bool = False) -> None:
    _REGISTRY[name] = Registration(factory, serves, shared_state)


def unregister_service(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered_services() -> dict[str, Registration]:
    return dict(_REGISTRY)


_EXECUTABLES: dict[str, Registration] = {}


def register_executable(binary: str, factory: Callable[..., ServiceHandler], *,
                        shared_state: bool = False) -> None:
    """Serve every service whose executable's first word is ``binary`` (or a path ending in it);
    ``factory(tree, log, context, service)``."""
    _EXECUTABLES[binary] = Registration(factory, None, shared_state)


def registration_for(service: ServiceSpec) -> Registration | None:
    """The registration serving ``service``: by its name, else by its executable."""
    found = _REGISTRY.get(service.name)
    if found is not None or not service.executable:
        return found
    binary = service.executable.split()[0].rsplit("/", 1)[-1]
    by_executable = _EXECUTABLES.get(binary)
    if by_executable is None:
        return None
    factory = by_executable.factory

    def bound(tree: object, log: Log, context: SharedContext) -> ServiceHandler:
        return factory(tree, log, context, service)  # type: ignore[call-arg]

    return Registration(bound, by_executable.serves, by_executable.shared_state)
