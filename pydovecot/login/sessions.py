"""Logged-in sessions of this process: what `doveadm who` lists and `doveadm kick` ends.

Dovecot's imap/pop3 processes tell anvil ``CONNECT <pid> <service>/<ip>/<user>`` after a login
and ``DISCONNECT`` when the session ends; `doveadm who` dumps anvil's table and `doveadm kick`
SIGTERMs the pids.  Our processes serve many sessions each, so a session registers here with a
callback that ends just that session, and the master (``pydovecot/master/admin.py``) reads this
registry directly, or, in a worker process, gets it reported over its ``anvil`` socket.

A protocol handler calls, once the user is logged in::

    session = register_session("imap", user, conn.remote_ip, kick_callback=self.kick)
    ...
    session.set_state("IDLE")   # optional: shown in the process title (verbose_proctitle)
    ...
    session.unregister()        # at logout / disconnect (idempotent)

Lives in ``login/`` so that protocols import it without importing the master.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

KickCallback = Callable[[], None]


@dataclass(eq=False)
class Session:
    service: str
    user: str
    remote_ip: str | None
    pid: int
    kick_callback: KickCallback | None = None
    state: str = ""  # the command in progress ("IDLE"), for the process title
    registry: SessionRegistry | None = field(default=None, repr=False)

    @property
    def ident(self) -> str:
        """anvil's ident: ``service/ip/user``, or ``service/user`` without an IP (lmtp)."""
        return f"{self.service}/{self.remote_ip}/{self.user}" if self.remote_ip else f"{self.service}/{self.user}"

    def set_state(self, state: str) -> None:
        self.state = state
        if self.registry is not None:
            self.registry.changed(self)

    def kick(self) -> None:
        if self.kick_callback is not None:
            self.kick_callback()

    def unregister(self) -> None:
        if self.registry is not None:
            registry, self.registry = self.registry, None
            registry.remove(self)


class SessionObserver(Protocol):
    def session_added(self, session: Session) -> None: ...

    def session_removed(self, session: Session) -> None: ...

    def session_changed(self, session: Session) -> None: ...


class SessionRegistry:
    """The sessions of one process, and who wants to hear about them (master, proctitle)."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.observers: list[SessionObserver] = []

    def register(self, service: str, user: str, remote_ip: str | None, pid: int | None = None,
                 kick_callback: KickCallback | None = None) -> Session:
        session = Session(service, user, remote_ip or None, os.getpid() if pid is None else pid,
                          kick_callback, registry=self)
        self.sessions.append(session)
        for observer in list(self.observers):
            observer.session_added(session)
        return session

    def remove(self, session: Session) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
            for observer in list(self.observers):
                observer.session_removed(session)

    def changed(self, session: Session) -> None:
        for observer in list(self.observers):
            observer.session_changed(session)

    def kick_ident(self, ident: str) -> int:
        """End every session with this anvil ident; how many were asked to end."""
        matched = [s for s in self.sessions if s.ident == ident]
        for session in matched:
            session.kick()
        return len(matched)

    def add_observer(self, observer: SessionObserver) -> None:
        self.observers.append(observer)

    def remove_observer(self, observer: SessionObserver) -> None:
        if observer in self.observers:
            self.observers.remove(observer)

    def reset(self) -> None:
        """In a freshly forked worker: the master's sessions and observers are not ours."""
        self.sessions.clear()
        self.observers.clear()


REGISTRY = SessionRegistry()


def register_session(service: str, user: str, remote_ip: str | None, pid: int | None = None,
                     kick_callback: KickCallback | None = None) -> Session:
    """Register a logged-in session with this process's registry (see the module doc)."""
    return REGISTRY.register(service, user, remote_ip, pid, kick_callback)


# --- the filters of `doveadm who` / `doveadm kick` (who_parse_args, who_line_filter_match) -----


@dataclass
class WhoFilter:
    username: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def matches(self, user: str, ips: list[str]) -> bool:
        if self.username is not None and not wildcard_match_icase(user, self.username):
            return False
        if self.network is not None:
            return any(_in_network(ip, self.network) for ip in ips)
        return True


class WhoFilterError(ValueError):
    pass


def parse_who_masks(masks: list[str]) -> WhoFilter:
    """A mask that parses as ip[/bits] is the network; anything else the username mask."""
    result = WhoFilter()
    for mask in masks:
        network = _parse_range(mask)
        if network is not None:
            if result.network is not None:
                raise WhoFilterError("Multiple network masks not supported")
            result.network = network
        else:
            if result.username is not None:
                raise WhoFilterError("Multiple username masks not supported")
            result.username = mask
    return result


def _parse_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _in_network(ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(ip) in network
    except ValueError:
        return False


def wildcard_match_icase(text: str, mask: str) -> bool:
    """Dovecot's wildcard_match_icase: ``*`` and ``?`` only, case-insensitive."""
    pattern = "".join("[[]" if c == "[" else c for c in mask.lower())
    return fnmatch.fnmatchcase(text.lower(), pattern)
