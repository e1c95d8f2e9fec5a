"""The master's admin socket: ``<base_dir>/anvil``, speaking Dovecot's anvil protocol (version 1).

Real `doveadm who` connects to ``<base_dir>/anvil``, writes ``VERSION\\tanvil\\t1\\t0`` and
``CONNECT-DUMP`` and reads ``<service>/<ip>/<user>\\t<pid>\\t<count>`` lines up to an empty
line.  We answer the same, so our `doveadm who` and the real one both work against our master.

What the table holds:
- the sessions of the master process itself: read straight from ``pydovecot.login.sessions``;
- the sessions of worker processes: each worker keeps one connection here and reports them
  with anvil's own ``CONNECT <pid> <ident>`` / ``DISCONNECT <pid> <ident>`` lines (the lines
  Dovecot's imap/pop3 processes send anvil).  When a worker's connection ends, its entries go.

`doveadm kick`: real doveadm SIGTERMs the pids anvil names, which here would end every session
of a process (or the master).  So ours sends ``KICK <ident>`` (our extension) and the master ends
just those sessions: its own through their kick callbacks, a worker's by passing ``KICK
<ident>`` down that worker's connection.  The reply is the number of sessions asked to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from dataclasses import dataclass, field

from pydovecot.log import Log
from pydovecot.login.sessions import REGISTRY, Session, SessionRegistry

ANVIL_SOCKET = "anvil"
HANDSHAKE = "VERSION\tanvil\t1\t0"
_MAX_LINE = 64 * 1024


def anvil_path(base_dir: str) -> str:
    return os.path.join(base_dir, ANVIL_SOCKET)


@dataclass(eq=False)
class _Peer:
    """One connection to the socket: a doveadm command or a worker's session reports."""

    writer: asyncio.StreamWriter
    sessions: Counter[tuple[str, int]] = field(default_factory=Counter)  # (ident, pid) -> count


class AdminServer:
    """The master's side."""

    def __init__(self, base_dir: str, log: Log, registry: SessionRegistry = REGISTRY) -> None:
        self.path = anvil_path(base_dir)
        self.log = log
        self.registry = registry
        self.peers: set[_Peer] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a stale socket of an earlier run
        old = os.umask(0o177)  # 0600 as Dovecot's anvil socket: the session table is root's business
        try:
            self._server = await asyncio.start_unix_server(self._client, self.path, limit=_MAX_LINE)
        finally:
            os.umask(old)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        for peer in list(self.peers):
            peer.writer.close()

    # --- the table --------------------------------------------------------------------------

    def dump(self) -> list[tuple[str, int, int]]:
        """(ident, pid, count) for every logged-in session group, this process's first."""
        table: Counter[tuple[str, int]] = Counter((s.ident, s.pid) for s in self.registry.sessions)
        for peer in self.peers:
            table.update(peer.sessions)
        return [(ident, pid, count) for (ident, pid), count in table.items() if count > 0]

    def kick(self, ident: str) -> int:
        count = self.registry.kick_ident(ident)
        for peer in self.peers:
            remote = sum(n for (peer_ident, _), n in peer.sessions.items() if peer_ident == ident)
            if remote:
                peer.writer.write(f"KICK\t{ident}\n".encode())
                count += remote
        return count

    # --- one connection ---------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _Peer(writer)
        self.peers.add(peer)
        try:
            first = await reader.readline()
            if not first.decode(errors="replace").startswith("VERSION\tanvil\t1\t"):
                self.log.error(f"anvil client not compatible with this server (mixed old and new binaries?) "
                               f"{first.decode(errors='replace').rstrip()}")
                return
            while line := await reader.readline():
                self._command(peer, line.decode(errors="replace").rstrip("\n").split("\t"))
                await writer.drain()
        except (ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            self.peers.discard(peer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _command(self, peer: _Peer, args: list[str]) -> None:
        name = args[0]
        if name == "CONNECT" and len(args) == 3:
            peer.sessions[(args[2], int(args[1]))] += 1
        elif name == "DISCONNECT" and len(args) == 3:
            key = (args[2], int(args[1]))
            peer.sessions[key] -= 1
            if peer.sessions[key] <= 0:
                del peer.sessions[key]
        elif name == "CONNECT-DUMP":
            lines = "".join(f"{ident}\t{pid}\t{count}\n" for ident, pid, count in self.dump())
            peer.writer.write(f"{lines}\n".encode())
        elif name == "KICK" and len(args) == 2:
            peer.writer.write(f"{self.kick(args[1])}\n".encode())
        else:
            self.log.error(f"anvil: Unknown command: {name}")


class WorkerReporter:
    """A worker's side: reports its sessions to the master, ends those the master kicks.

    A SessionObserver on this process's registry; writes are buffered by the transport, so
    reporting never blocks a session."""

    def __init__(self, base_dir: str, log: Log, registry: SessionRegistry = REGISTRY) -> None:
        self.path = anvil_path(base_dir)
        self.log = log
        self.registry = registry
        self.writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        try:
            reader, self.writer = await asyncio.open_unix_connection(self.path, limit=_MAX_LINE)
        except OSError as e:
            self.log.error(f"net_connect_unix({self.path}) failed: {e.strerror}")
            return False
        self.writer.write(f"{HANDSHAKE}\n".encode())
        for session in self.registry.sessions:
            self.session_added(session)
        self.registry.add_observer(self)
        self._reader_task = asyncio.ensure_future(self._read_kicks(reader))
        return True

    async def close(self) -> None:
        self.registry.remove_observer(self)
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def _read_kicks(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError, ValueError):
            while line := await reader.readline():
                args = line.decode(errors="replace").rstrip("\n").split("\t")
                if args[0] == "KICK" and len(args) == 2:
                    self.registry.kick_ident(args[1])

    def _send(self, verb: str, session: Session) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(f"{verb}\t{session.pid}\t{session.ident}\n".encode())

    def session_added(self, session: Session) -> None:
        self._send("CONNECT", session)

    def session_removed(self, session: Session) -> None:
        self._send("DISCONNECT", session)

    def session_changed(self, session: Session) -> None:
        pass


async def start_worker_admin(base_dir: str, service: str, *, verbose_proctitle: bool,
                             log: Log) -> WorkerReporter:
    """Called once in a freshly forked worker: forget the master's sessions, name the process,
    report to the master."""
    from .proctitle import ProcTitle

    REGISTRY.reset()
    ProcTitle(service, verbose=verbose_proctitle).install()
    reporter = WorkerReporter(base_dir, log)
    await reporter.start()
    return reporter


def verbose_proctitle(tree: object) -> bool:
    return bool(tree.lookup().get("verbose_proctitle"))  # type: ignore[attr-defined]
