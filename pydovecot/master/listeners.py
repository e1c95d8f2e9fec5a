"""Creating listener sockets, synchronously and before daemonizing (as Dovecot does), so that a
port in use is reported on the terminal with a non-zero exit, and so that root can bind
privileged ports before privileges are dropped."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from dataclasses import dataclass

from .privileges import chown_listener
from .services import ListenerSpec


class ListenError(Exception):
    pass


@dataclass
class BoundListener:
    spec: ListenerSpec
    sock: socket.socket | None  # None for fifos
    fifo_fd: int | None = None

    def close(self, *, unlink: bool = True) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.fifo_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fifo_fd)
            self.fifo_fd = None
        if unlink and self.spec.kind in ("unix", "fifo"):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                os.unlink(self.spec.path)


def bind_listener(spec: ListenerSpec) -> BoundListener | None:
    """Bind one listener.  None for an IPv6 wildcard on a host without IPv6 (Dovecot skips it)."""
    if spec.kind == "inet":
        return _bind_inet(spec)
    os.makedirs(os.path.dirname(spec.path), exist_ok=True)
    if spec.kind == "unix":
        return _bind_unix(spec)
    return _make_fifo(spec)


def _bind_inet(spec: ListenerSpec) -> BoundListener | None:
    family = socket.AF_INET6 if ":" in spec.address else socket.AF_INET
    try:
        # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
        # they are TCP, and accepted sockets inherit the protocol. With Nagle on, a reply written
        # in two parts (FETCH's data, then its tagged OK) waited for the client's delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as e:
        if e.errno == errno.EAFNOSUPPORT:
            return None
        raise
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if spec.reuse_port and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            # "*, ::" binds both families; each socket must keep to its own.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((spec.address, spec.port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if family == socket.AF_INET6 and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            return None
        raise ListenError(f"service({spec.service}): listen({spec.address}, {spec.port}) failed: "
                          f"{os.strerror(e.errno or 0)}") from None
    sock.setblocking(False)
    return BoundListener(spec, sock)


def _bind_unix(spec: ListenerSpec) -> BoundListener:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _remove_stale(spec.path)
        sock.bind(spec.path)
        os.chmod(spec.path, spec.mode)
        chown_listener(spec.path, spec.user, spec.group)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise ListenError(f"service({spec.service}): listen({spec.path}) failed: "
                          f"{os.strerror(e.errno or 0)}") from None
    sock.setblocking(False)
    return BoundListener(spec, sock)


def _make_fifo(spec: ListenerSpec) -> BoundListener:
    try:
        with contextlib.suppress(FileExistsError):
            os.mkfifo(spec.path, spec.mode)
        os.chmod(spec.path, spec.mode)
        chown_listener(spec.path, spec.user, spec.group)
        # O_RDWR: the fifo never reports end-of-file when its last writer goes away.
        fd = os.open(spec.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise ListenError(f"service({spec.service}): mkfifo({spec.path}) failed: "
                          f"{os.strerror(e.errno or 0)}") from None
    return BoundListener(spec, None, fd)


def _remove_stale(path: str) -> None:
    """A socket left by a master that died is in the way; anything else we leave alone."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(st.st_mode):
        os.unlink(path)
