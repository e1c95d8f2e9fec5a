"""The inside of one worker process: its own asyncio loop accepting on inherited listeners.

A worker is forked from the master (see ``workers.py``) with the listening sockets of one
service.  It serves at most ``client_limit`` connections at a time and ``service_count``
connections in its life (0: no limit), then leaves.  Signals from the master:

- SIGHUP: retire -- stop accepting, let the open sessions finish, exit 0 (a reload);
- SIGTERM: stop -- as SIGHUP, but with ``shutdown_clients = yes`` the sessions are cancelled.

Accepting is done with ``add_reader`` + a non-blocking ``accept()`` in one callback rather than
``asyncio.start_server``: the callback accepts only while a slot is free, so the limits hold
exactly, and a worker at its limit stops watching the socket and leaves the connection in the
kernel's queue for a sibling.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import signal
import socket
import ssl
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydovecot.log import Log, LogSink

from .admin import start_worker_admin, verbose_proctitle
from .haproxy import ProxiedAddresses, accept_proxied, proxied_info
from .listeners import BoundListener
from .privileges import Identity, become
from .registry import ServiceHandler, SharedContext, connection_info, registered_services
from .services import ServiceSpec

# Dovecot's exit codes (lib/failures.h) that the master explains in its log.
FATAL_OUTOFMEM = 83
FATAL_DEFAULT = 89
_HANDSHAKE_TIMEOUT = 30.0


@dataclass
class WorkerJob:
    """What a worker needs, prepared by the master before fork()."""

    spec: ServiceSpec
    listeners: list[BoundListener]
    tree: object
    sink: LogSink
    base_dir: str
    tls: ssl.SSLContext | None
    shutdown_clients: bool
    auth_socket: str  # the master's auth-client socket, for services that need auth
    config_path: str | None = None  # re-read at a reload for the log paths (None: keep the log)
    life_fd: int | None = None  # end-of-file here: the master is gone
    status_fd: int | None = None  # "<pid>\n" here: this worker stopped accepting (service_count)
    # Privilege separation (separation.py): descriptors the child keeps (its hand-off and auth
    # socket pairs), what it sets up with them while still root, and whom it then becomes.
    keep_fds: tuple[int, ...] = ()
    prepare: Callable[[SharedContext], Awaitable[None]] | None = None
    drop_to: Identity | None = None


def child_main(job: WorkerJob) -> int:
    """Runs in the forked child; never returns into the master's code (the caller _exits)."""
    gc.freeze()  # objects inherited from the master are never collected here (their fds may be gone)
    _close_inherited_fds(job)
    asyncio.events._set_running_loop(None)  # the master's loop lives on in our memory; leave it alone
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C at a terminal: the master stops us
    # The master's mask (TERM, HUP blocked) stays until our loop handles them: a SIGTERM sent
    # right after fork waits instead of killing a half-started worker.
    log = Log(job.sink).for_service(
        job.spec.name, settings=job.tree.lookup(service=job.spec.protocol or None))  # type: ignore[attr-defined]
    _apply_vsz_limit(job.spec, log)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(WorkerServer(job, log).run())
    except MemoryError:
        return FATAL_OUTOFMEM
    finally:
        with contextlib.suppress(Exception):
            loop.close()


def _close_inherited_fds(job: WorkerJob) -> None:
    """fork() without exec copies every descriptor of the master: client connections it serves
    itself would stay open here after the master closes them.  Keep only what we use: stdio,
    our listeners, the log files, and datagram sockets (libc's syslog connection, which libc
    would go on writing to even if its number were reused)."""
    keep = {0, 1, 2, *job.keep_fds}
    keep.update(b.sock.fileno() for b in job.listeners if b.sock is not None)
    keep.update(b.fifo_fd for b in job.listeners if b.fifo_fd is not None)
    keep.update(fd for fd in (job.life_fd, job.status_fd) if fd is not None)
    close_fds_except(keep, job.sink)


def close_fds_except(keep: set[int], sink: LogSink) -> None:
    """Close every descriptor but ``keep``, the log files and datagram sockets."""
    keep = set(keep)
    for target in (sink.error, sink.info, sink.debug):
        fd = getattr(target, "_fd", None)
        if isinstance(fd, int):
            keep.add(fd)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in keep or _is_datagram_socket(fd):
            continue
        with contextlib.suppress(OSError):  # listdir's own descriptor is already gone
            os.close(fd)


def _is_datagram_socket(fd: int) -> bool:
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        sock = socket.socket(fileno=fd)
    except OSError:
        return False
    try:
        return sock.type == socket.SOCK_DGRAM
    finally:
        sock.detach()


def _apply_vsz_limit(spec: ServiceSpec, log: Log) -> None:
    if spec.vsz_limit <= 0:
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (spec.vsz_limit, spec.vsz_limit))
    except (ValueError, OSError) as e:  # above the hard limit we were given: keep that one
        log.warning(f"vsz_limit {spec.vsz_limit} not applied: {e}")


class WorkerServer:
    def __init__(self, job: WorkerJob, log: Log) -> None:
        self.job = job
        self.log = log
        self.spec = job.spec
        self.handler: ServiceHandler | None = None
        self.active = 0
        self.accepted = 0
        self.accepting = False
        self.closing = False
        self.sessions: set[asyncio.Task[None]] = set()
        self.done = asyncio.Event()
        self._log_task: asyncio.Future[None] | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        registration = registered_services()[self.spec.name]
        context = SharedContext(self.job.base_dir, self.job.tls)
        context.values["auth_socket"] = self.job.auth_socket
        context.values["worker_pid"] = os.getpid()
        # Sessions reported to the master's anvil socket (doveadm who/kick), the process title.
        reporter = await start_worker_admin(self.job.base_dir, self.spec.name, log=self.log,
                                            verbose_proctitle=verbose_proctitle(self.job.tree))
        try:
            if self.job.prepare is not None:  # connections made while still root
                await self.job.prepare(context)
            if self.job.drop_to is not None:
                become(self.job.drop_to)
        except Exception as e:  # noqa: BLE001 - a login process that cannot drop root must not serve
            self.log.fatal(f"Couldn't drop privileges: {e}")
            return FATAL_DEFAULT
        try:
            self.handler = registration.factory(self.job.tree, self.log, context)
        except Exception as e:  # noqa: BLE001 - reported like a Dovecot service failing to start
            self.log.fatal(str(e) or type(e).__name__)
            return FATAL_DEFAULT
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        loop.add_signal_handler(signal.SIGTERM, self.retire, self.job.shutdown_clients)
        loop.add_signal_handler(signal.SIGUSR1, self._log_reopen)  # passed on by the master
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if self.job.life_fd is not None:
            loop.add_reader(self.job.life_fd, self._master_gone)
        for bound in self.job.listeners:
            if bound.fifo_fd is not None:
                self._spawn_session(self._serve_fifo(bound))
        self._resume()
        await self.done.wait()
        with contextlib.suppress(Exception):
            await self.handler.close()
        await reporter.close()
        return 0

    # --- accepting within the limits ------------------------------------------------------

    def _has_slot(self) -> bool:
        if self.closing or self.active >= self.spec.client_limit:
            return False
        return self.spec.service_count == 0 or self.accepted < self.spec.service_count

    def _resume(self) -> None:
        if self.accepting or not self._has_slot():
            return
        loop = asyncio.get_running_loop()
        for bound in self._sockets():
            loop.add_reader(bound.sock.fileno(), self._on_readable, bound)  # type: ignore[union-attr]
        self.accepting = True

    def _pause(self) -> None:
        if not self.accepting:
            return
        loop = asyncio.get_running_loop()
        for bound in self._sockets():
            loop.remove_reader(bound.sock.fileno())  # type: ignore[union-attr]
        self.accepting = False

    def _sockets(self) -> list[BoundListener]:
        return [b for b in self.job.listeners if b.sock is not None]

    def _on_readable(self, bound: BoundListener) -> None:
        assert bound.sock is not None
        while self._has_slot():
            try:
                conn, _ = bound.sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # a sibling was faster
            except OSError as e:  # EMFILE and friends: keep the worker, drop the attempt
                self.log.error(f"accept() failed: {e}")
                return
            self.accepted += 1
            self.active += 1
            self._spawn_session(self._session(bound, conn))
        self._pause()
        if self.spec.service_count and self.accepted >= self.spec.service_count:
            self.retire(False)  # Dovecot's service_count: this process has served its clients
            self._tell_retired()

    def _tell_retired(self) -> None:
        """The master forks a replacement now rather than when our sessions end (a login
        process proxying a TLS session lives as long as that session)."""
        if self.job.status_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self.job.status_fd, f"{os.getpid()}\n".encode())  # < PIPE_BUF: atomic

    def _spawn_session(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self.sessions.add(task)
        task.add_done_callback(self._session_done)

    def _session_done(self, task: asyncio.Task[None]) -> None:
        self.sessions.discard(task)
        self._resume()
        self._check_done()

    # --- sessions ---------------------------------------------------------------------------

    async def _session(self, bound: BoundListener, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            conn.setblocking(False)
            proxied = None
            if bound.spec.haproxy:  # the PROXY header comes before TLS and before the service
                proxied = await self._proxy_header(bound, conn)
                if proxied is None:
                    conn.close()
                    return
            reader = asyncio.StreamReader()
            made: list[asyncio.StreamWriter] = []
            # A connected-callback makes the protocol server-side (StreamWriter.start_tls asks it)
            # and builds the writer; the session itself runs here, where it is counted.
            protocol = asyncio.StreamReaderProtocol(reader, lambda _r, w: made.append(w))
            ctx = self.job.tls if bound.spec.ssl else None
            await loop.connect_accepted_socket(
                lambda: protocol, conn, ssl=ctx, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT if ctx else None)
            writer = made[0]
            try:
                assert self.handler is not None
                info = connection_info(bound.spec, writer)
                if proxied is not None:
                    info = proxied_info(info, proxied)
                await self.handler.handle_connection(reader, writer, info)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - one client's failure must not stop the worker
                self.log.error(f"{type(e).__name__}: {e}")
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        except (TimeoutError, OSError, ssl.SSLError):
            conn.close()  # the handshake failed: nothing to serve
        finally:
            self.active -= 1

    async def _proxy_header(self, bound: BoundListener, conn: socket.socket) -> ProxiedAddresses | None:
        """``haproxy = yes``: read here (a login process under privilege separation), from
        haproxy_trusted_networks only, with Dovecot's log lines."""
        rip = conn.getpeername()[0]
        settings = self.job.tree.lookup(service=self.spec.protocol or None)  # type: ignore[attr-defined]
        return await accept_proxied(conn, rip, settings, self.log)

    async def _serve_fifo(self, bound: BoundListener) -> None:
        """Every worker reads the service's fifos; a write of up to PIPE_BUF reaches one of them."""
        assert bound.fifo_fd is not None and self.handler is not None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(os.dup(bound.fifo_fd), "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        try:
            await self.handler.handle_connection(reader, None, connection_info(bound.spec, None))
        finally:
            transport.close()

    # --- leaving ----------------------------------------------------------------------------

    def _master_gone(self) -> None:
        """As Dovecot's processes do when the master dies: no new clients, the open ones finish."""
        asyncio.get_running_loop().remove_reader(self.job.life_fd)  # type: ignore[arg-type]
        self.log.error("master process died, not accepting new connections")
        self.retire(False)

    def _reload(self) -> None:
        """The master reloaded: retire, and follow the new log paths as Dovecot's log process
        does for every process (the sessions that stay write to the new log)."""
        self.retire(False)
        if self.job.config_path is not None and self._log_task is None:
            self._log_task = asyncio.ensure_future(self._reopen_log(self.job.config_path))

    def _log_reopen(self) -> None:
        """`doveadm log reopen` (after a log rotation): the master passes SIGUSR1 on to us."""
        if self.job.config_path is not None:
            asyncio.ensure_future(self._reopen_log(self.job.config_path))

    async def _reopen_log(self, config_path: str) -> None:
        from .server import load_tree

        try:
            tree = await asyncio.to_thread(load_tree, config_path)  # parsing blocks: not on the loop
            self.job.sink.reopen_from(tree.lookup())  # type: ignore[attr-defined]
        except Exception as e:  # noqa: BLE001 - the old log is still a log
            self.log.error(f"Can't reopen log files: {e}")

    def retire(self, cancel_sessions: bool) -> None:
        """Stop accepting for good; the sockets go too so that a removed listener really closes."""
        self._pause()
        if not self.closing:
            self.closing = True
            for bound in self.job.listeners:
                bound.close(unlink=False)
        fifo_or_cancelled = [t for t in self.sessions if cancel_sessions or self._is_fifo(t)]
        for task in fifo_or_cancelled:
            task.cancel()
        self._check_done()

    def _is_fifo(self, task: asyncio.Task[None]) -> bool:
        coro = task.get_coro()
        return getattr(coro, "__name__", "") == "_serve_fifo"

    def _check_done(self) -> None:
        if self.closing and not self.sessions:
            self.done.set()
