"""The master: an asyncio process serving the listeners of every registered service, itself or
through pools of forked worker processes (workers.py; docs/process-model.md).

Why asyncio and not Dovecot's process per connection: an idle IMAP client costs a few kilobytes
as a coroutine but megabytes as a process.  Workers (one asyncio loop each, sharing the
listening sockets) bring the other cores in; services with shared state (auth) stay here.
As root with ``PYDOVECOT_PROCESS_MODEL=separated`` the master serves no client itself: login
processes (dovenull) hand logged-in clients to mail processes running as each user's uid
(separation.py).

Life cycle: ``prepare()`` (synchronous: settings, base_dir, pid check, bind sockets -- before
daemonizing) then ``run()`` (asyncio: handlers, accept loops, signals) until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import ssl
from dataclasses import dataclass, field

from pydovecot.log import Log, LogSink, bridge

from .admin import AdminServer
from .auth_process import AuthProcess
from .haproxy import ProxiedAddresses, accept_proxied, proxied_info
from .listeners import BoundListener, bind_listener
from .pidfile import check_not_running, remove_pid, write_pid
from .registry import ConnInfo, ServiceHandler, SharedContext, connection_info, registration_for
from .separation import LOGIN_SERVICES, Separation, separation_enabled
from .services import ListenerSpec, MasterSettings, ServiceSpec, read_master_settings
from .signals import SignalInfo, SignalWatcher
from .tls import TLSConfigError, TLSSelector
from .worker_process import WorkerJob
from .workers import WorkerSupervisor, plan_workers, process_model

_ANY_ADDRESS = ("0.0.0.0", "::", "*")


class MasterError(Exception):
    """A reason not to start, worded as Dovecot's master logs it (after ``Fatal: ``).

    ``program`` names who reports it: real dovecot runs doveconf to read the configuration,
    so configuration errors come out as ``doveconf: Fatal: ...``."""

    def __init__(self, message: str, program: str = "", errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.program = program
        self.errors = errors  # logged as ``Error: `` lines before the fatal one


def load_tree(config_path: str) -> object:
    from pydovecot.config import load
    from pydovecot.config.errors import ConfigError

    try:
        os.stat(config_path)
    except OSError as e:
        raise MasterError(f"Error reading configuration: stat({config_path}) failed: "
                          f"{os.strerror(e.errno or 0)}") from None
    try:
        tree = load(config_path)
    except ConfigError as e:
        raise MasterError(str(e), "doveconf") from None
    if tree.fatal:
        raise MasterError(f"Error in configuration file {tree.path}: {tree.fatal}", "doveconf")
    if tree.errors:
        raise MasterError(f"Error in configuration file {tree.path}: {tree.errors[0]}", "doveconf")
    return tree


@dataclass
class Generation:
    """One configuration's handler of a service; retired ones live until their clients leave."""

    handler: ServiceHandler
    active: int = 0
    retired: bool = False


@dataclass
class ServiceRuntime:
    spec: ServiceSpec
    current: Generation
    old: list[Generation] = field(default_factory=list)
    limit_warned: bool = False

    @property
    def active(self) -> int:
        return self.current.active + sum(g.active for g in self.old)


class Master:
    def __init__(self, config_path: str, *, log_sink: LogSink | None = None) -> None:
        self.config_path = config_path
        self.config_abspath = os.path.abspath(config_path)  # for the processes we start (cwd moves)
        self._given_sink = log_sink
        self.tree: object = None
        self.settings: MasterSettings | None = None
        self.log: Log | None = None
        self.bound: dict[ListenerSpec, BoundListener] = {}
        self.servers: dict[ListenerSpec, asyncio.AbstractServer | asyncio.Task[None]] = {}
        self.runtimes: dict[str, ServiceRuntime] = {}
        self.context: SharedContext | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._stop: asyncio.Event | None = None
        self._watcher: SignalWatcher | None = None
        self.tls: ssl.SSLContext | None = None
        self._early_warnings: list[str] = []
        self._early_errors: list[str] = []
        self.model = "auto"  # the process model, see workers.py
        self.supervisor: WorkerSupervisor | None = None
        self.separated = False  # privilege separation (separation.py), decided in prepare()
        self.separation: Separation | None = None
        self.auth_process: AuthProcess | None = None  # auth out of the master when separated
        self.admin: AdminServer | None = None  # <base_dir>/anvil: doveadm who/kick (admin.py)
        # TLS contexts by protocol: local / local_name filters pick the certificate (tls.py)
        self.tls_selectors: dict[str | None, TLSSelector] = {}

    # --- before daemonizing -----------------------------------------------------------------

    def prepare(self) -> None:
        """Everything that can fail with a message on the terminal.  Raises MasterError."""
        from .listeners import ListenError

        if self.tree is None:
            self.tree = load_tree(self.config_path)
        settings = read_master_settings(self.tree)
        self.settings = settings
        try:
            self.model = process_model()
        except ValueError as e:
            raise MasterError(str(e)) from None
        self.separated = separation_enabled(self.model)
        if self.model == "separated" and not self.separated:
            raise MasterError("PYDOVECOT_PROCESS_MODEL=separated: privilege separation needs to start as root")
        if self.separated:
            self._check_login_user()
        os.makedirs(settings.base_dir, mode=0o755, exist_ok=True)
        from .pidfile import AlreadyRunning

        try:
            check_not_running(settings.pid_file)
        except AlreadyRunning as e:
            raise MasterError(str(e)) from None
        failures: list[str] = []
        for spec in self.wanted_listeners(settings):
            try:
                self._bind(spec)
            except ListenError as e:
                failures.append(str(e))
        if failures:
            self.close_listeners()
            raise MasterError("Failed to start listeners", errors=tuple(failures))
        self._tls()

    def _check_login_user(self) -> None:
        from .privileges import login_identity

        try:
            login_identity(self.tree.lookup())  # type: ignore[attr-defined]
        except KeyError:
            user = self.tree.lookup().get("default_login_user")  # type: ignore[attr-defined]
            raise MasterError(f"default_login_user doesn't exist: {user}") from None

    def wanted_listeners(self, settings: MasterSettings) -> list[ListenerSpec]:
        return [listener for service in settings.services if (registration := registration_for(service))
                for listener in service.listeners if registration.wants(listener)]

    def _bind(self, spec: ListenerSpec) -> None:
        bound = bind_listener(spec)
        if bound is not None:
            self.bound[spec] = bound

    def open_log(self) -> Log:
        root = self.tree.lookup()  # type: ignore[attr-defined]
        sink = self._given_sink or LogSink.from_settings(root)
        self.log = Log(sink)
        # The daemons below log through the standard logging module: into the same targets.
        bridge.install(sink, debug=bool(root.get("mail_debug")) or bool(root.get("auth_debug")))
        return self.log

    def write_pid(self) -> None:
        """Written by the process that will serve (after daemonizing), before dropping root."""
        assert self.settings is not None
        write_pid(self.settings.pid_file)

    def close_listeners_in_parent(self) -> None:
        """After daemonizing: the parent's copies of the sockets go, the files stay."""
        for bound in self.bound.values():
            bound.close(unlink=False)

    def close_listeners(self) -> None:
        for bound in self.bound.values():
            bound.close()
        self.bound.clear()

    # --- running ----------------------------------------------------------------------------

    async def run(self, *, handle_signals: bool = True, started: asyncio.Event | None = None) -> None:
        assert self.settings is not None
        log = self.log or self.open_log()
        self._stop = asyncio.Event()
        if not os.path.exists(self.settings.pid_file):
            self.write_pid()
        try:
            for line in self._early_warnings:
                log.warning(line)
            for line in self._early_errors:
                log.error(line)
            self.context = SharedContext(self.settings.base_dir, self.tls)
            self.context.values["auth_socket"] = os.path.join(self.settings.base_dir, "auth-client")
            await self._start_admin()
            if self.separated:
                self.separation = Separation(self)
                self.supervisor = WorkerSupervisor(log, fork=self.separation.fork)
                # auth as Dovecot runs it: its own process, as default_internal_user
                self.auth_process = AuthProcess(self)
                self.context.values["auth"] = self.auth_process.remote
                self.auth_process.start()
            else:
                self.supervisor = WorkerSupervisor(log)
            for service in self.settings.services:
                size = self._worker_count(service)
                if size:
                    self.supervisor.start(service, size, self._worker_job(service))
                elif not self._auth_elsewhere(service.name):
                    self._start_service(service)
            for spec in list(self.bound):
                if spec.service not in self.supervisor.services() and not self._auth_elsewhere(spec.service):
                    await self._serve(spec)
            if handle_signals:
                self._watcher = SignalWatcher(asyncio.get_running_loop(), self._on_signal)
                self._watcher.start()
            log.info(f"{self.version_line()} starting up for {', '.join(self.served_protocols())}"
                     f"{core_dump_note()}")
            if started is not None:
                started.set()
            await self._stop.wait()
        finally:
            await self._shutdown()

    def version_line(self) -> str:
        from pydovecot import DOVECOT_VERSION, __version__

        return f"Dovecot v{DOVECOT_VERSION} (pydovecot {__version__})"

    def served_protocols(self) -> list[str]:
        assert self.settings is not None
        return [p for p in self.settings.protocols if p != "none"]

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def _tls(self) -> None:
        """Built while still root (the key is often readable by root only); problems are kept
        for the log, and are fatal only when a listener needs TLS."""
        needs_tls = any(spec.ssl for spec in self.bound)
        try:
            self.tls_selectors = {}
            self.tls = self._selector(None).context()
            self._selector(None).preload()
            for spec in self.bound:
                if spec.ssl:
                    service = self.settings.service(spec.service) if self.settings else None
                    self._selector(service.protocol or None if service else None).preload(
                        None if spec.address in _ANY_ADDRESS else spec.address)
        except TLSConfigError as e:
            if needs_tls:
                self.close_listeners()
                raise MasterError(str(e)) from None
            self._early_errors.append(str(e))

    def _start_service(self, service: ServiceSpec) -> None:
        assert self.log is not None and self.context is not None
        registration = registration_for(service)
        if registration is None:
            return
        service_log = self.log.for_service(
            service.name, settings=self.tree.lookup(service=service.protocol or None))  # type: ignore[attr-defined]
        try:
            handler = registration.factory(self.tree, service_log, self.context)
        except Exception as e:  # noqa: BLE001 - like a Dovecot service failing to start: the rest runs
            service_log.fatal(str(e) or type(e).__name__)
            return
        runtime = self.runtimes.get(service.name)
        if runtime is None:
            self.runtimes[service.name] = ServiceRuntime(service, Generation(handler))
            return
        runtime.current.retired = True
        if runtime.current.active:
            runtime.old.append(runtime.current)
        else:
            self._spawn(runtime.current.handler.close())
        runtime.spec = service
        runtime.current = Generation(handler)

    async def _serve(self, spec: ListenerSpec) -> None:
        bound = self.bound[spec]

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(spec, reader, writer)

        if spec.kind == "fifo":
            self.servers[spec] = self._spawn(self._serve_fifo(bound))
            return
        if spec.kind == "unix":
            server = await asyncio.start_unix_server(on_connection, sock=bound.sock)
        elif spec.haproxy:
            self.servers[spec] = self._spawn(self._serve_haproxy(spec, bound))
            return
        else:
            ctx = self._listener_tls(spec, None if spec.address in _ANY_ADDRESS else spec.address)
            if spec.ssl and ctx is None:
                raise MasterError(f"service({spec.service}): inet_listener {spec.name}: ssl=yes but ssl=no")
            server = await asyncio.start_server(on_connection, sock=bound.sock, ssl=ctx,  # type: ignore[arg-type]
                                                ssl_handshake_timeout=30 if ctx else None)
        self.servers[spec] = server

    def _selector(self, protocol: str | None) -> TLSSelector:
        selector = self.tls_selectors.get(protocol)
        if selector is None:
            warn = self.log.warning if self.log is not None else self._early_warnings.append
            selector = self.tls_selectors[protocol] = TLSSelector(self.tree, protocol, warn=warn)
        return selector

    def _listener_tls(self, spec: ListenerSpec, local_ip: str | None) -> ssl.SSLContext | None:
        """An ssl=yes listener's context: its protocol's settings for the local address, with
        SNI switching to ``local_name`` certificates; the global context if those are unusable."""
        if not spec.ssl:
            return None
        service = self.settings.service(spec.service) if self.settings else None
        try:
            return self._selector(service.protocol or None if service else None).context(local_ip)
        except TLSConfigError as e:
            if self.log is not None:
                self.log.error(str(e))
            return self.context.tls if self.context else None

    async def _serve_haproxy(self, spec: ListenerSpec, bound: BoundListener) -> None:
        """Accept raw sockets: the PROXY header is read before TLS and before the service."""
        loop = asyncio.get_running_loop()
        assert bound.sock is not None
        bound.sock.setblocking(False)
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                conn, _ = await loop.sock_accept(bound.sock)
                task = self._spawn(self._haproxy_connection(spec, conn))
                pending.add(task)
                task.add_done_callback(pending.discard)
        finally:
            # connections still waiting for their header go with the listener; sessions
            # (in self.tasks) follow shutdown_clients
            for task in pending - self.tasks:  # type: ignore[operator]
                task.cancel()

    async def _haproxy_connection(self, spec: ListenerSpec, conn: socket.socket) -> None:
        from pydovecot.login.session_id import new_session_id

        try:
            lip, lport = conn.getsockname()[:2]
            rip, rport = conn.getpeername()[:2]
            proxied = await self._proxy_header(spec, conn, rip)
        except BaseException:
            conn.close()
            raise
        if proxied is None:
            conn.close()
            return
        info = ConnInfo(lip, lport, rip, rport, listener=spec.name, tls=spec.ssl, kind="inet",
                        session_id=new_session_id(rip, rport))
        await self._accepted(spec, conn, proxied_info(info, proxied))

    async def _proxy_header(self, spec: ListenerSpec, conn: socket.socket, rip: str) -> ProxiedAddresses | None:
        """The header's addresses, or None (logged as Dovecot does) when the connection goes."""
        assert self.log is not None
        service = self.settings.service(spec.service) if self.settings else None
        settings = self.tree.lookup(service=service.protocol or None if service else None)  # type: ignore[attr-defined]
        return await accept_proxied(conn, rip, settings, self.log.for_service(spec.service))

    async def _accepted(self, spec: ListenerSpec, conn: socket.socket, info: ConnInfo) -> None:
        """Streams (TLS for ssl=yes, its certificate chosen by the proxied local address) for an
        accepted socket, then the service."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        made: list[asyncio.StreamWriter] = []
        # a connected-callback makes the protocol server-side and builds the writer
        protocol = asyncio.StreamReaderProtocol(reader, lambda _r, w: made.append(w))
        ctx = self._listener_tls(spec, info.local_ip)
        try:
            await loop.connect_accepted_socket(lambda: protocol, conn, ssl=ctx,
                                               ssl_handshake_timeout=30 if ctx else None)
        except (TimeoutError, OSError, ssl.SSLError):
            conn.close()  # the handshake failed: nothing to serve
            return
        writer = made[0]
        try:
            await self._dispatch(spec, reader, writer, info)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_fifo(self, bound: BoundListener) -> None:
        assert bound.fifo_fd is not None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(os.dup(bound.fifo_fd), "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        try:
            await self._dispatch(bound.spec, reader, None, self._conn_info(bound.spec, None))
        finally:
            transport.close()

    def _conn_info(self, spec: ListenerSpec, writer: asyncio.StreamWriter | None) -> ConnInfo:
        return connection_info(spec, writer)

    async def _connection(self, spec: ListenerSpec, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            await self._dispatch(spec, reader, writer, self._conn_info(spec, writer))
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch(self, spec: ListenerSpec, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter | None, info: ConnInfo) -> None:
        assert self.log is not None
        runtime = self.runtimes.get(spec.service)
        if runtime is None:
            return
        if runtime.active >= runtime.spec.connection_limit:
            if not runtime.limit_warned:
                runtime.limit_warned = True
                self.log.warning(f"service({spec.service}): client_limit ({runtime.spec.connection_limit}) "
                                 "reached, client connections are being dropped")
            return
        runtime.limit_warned = False
        generation = runtime.current
        generation.active += 1
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)  # type: ignore[arg-type]
        try:
            await generation.handler.handle_connection(reader, writer, info)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - one client's failure must not stop the master
            self.log.for_service(spec.service).error(f"{type(e).__name__}: {e}")
        finally:
            if task is not None:
                self.tasks.discard(task)  # type: ignore[arg-type]
            generation.active -= 1
            if generation.retired and generation.active == 0 and generation in runtime.old:
                runtime.old.remove(generation)
                self._spawn(generation.handler.close())

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        return task

    # --- signals, reload, shutdown ----------------------------------------------------------

    def _on_signal(self, info: SignalInfo) -> None:
        assert self.log is not None
        import signal

        if info.signum == signal.SIGHUP:
            self.log.warning("SIGHUP received - reloading configuration")
            self._spawn(self.reload())
            return
        if info.signum == signal.SIGUSR1:  # `doveadm log reopen`
            self.reopen_log()
            return
        self.log.warning(info.killed_message())
        self.stop()

    async def reload(self) -> None:
        """Re-read the configuration: keep unchanged listeners, open new ones, close removed ones,
        and give new connections handlers made from the new settings."""
        assert self.log is not None
        try:
            tree = load_tree(self.config_path)
            settings = read_master_settings(tree)
        except MasterError as e:
            self.log.error(f"Config reload failed: {e}")
            return
        if self._given_sink is None:
            try:
                self.log.sink.reopen_from(tree.lookup())  # type: ignore[attr-defined]
            except OSError as e:
                self.log.error(f"Can't reopen log files: {e}")
        try:
            self.tls = TLSSelector(tree, None, warn=self.log.warning).context()
            self.tls_selectors = {}
        except TLSConfigError as e:
            self.log.error(f"{e} (keeping the previous TLS settings)")
        if self.context is not None:
            self.context.tls = self.tls
        wanted = set(self.wanted_listeners(settings))
        for spec in [s for s in self.bound if s not in wanted]:
            await self._close_listener(spec)
        self.tree, self.settings = tree, settings
        in_workers = self.supervisor.services() if self.supervisor else set()
        for service in settings.services:
            if service.name not in in_workers and not (self._worker_count(service) and
                                                       service.name not in self.runtimes) \
                    and not self._auth_elsewhere(service.name):
                self._start_service(service)
        for spec in wanted - set(self.bound):
            try:
                self._bind(spec)
                if spec in self.bound and spec.service not in in_workers and not self._auth_elsewhere(spec.service):
                    await self._serve(spec)
            except Exception as e:  # noqa: BLE001 - keep running with what we have
                self.log.error(str(e))
        if self.auth_process is not None:  # before the new login processes ask for auth
            self.auth_process.reload()
        self._reload_workers(settings)
        if self.separation is not None:
            self.separation.reload()

    def _auth_elsewhere(self, service: str) -> bool:
        """``service auth`` runs in its own process (auth_process.py), not in this one."""
        return self.auth_process is not None and service == "auth"

    async def _stop_auth_process(self) -> None:
        if self.auth_process is not None:
            self.auth_process.signal_stop()
            await self.auth_process.wait_stopped()

    # --- worker processes (workers.py) ------------------------------------------------------

    def _worker_count(self, service: ServiceSpec) -> int:
        registration = registration_for(service)
        if registration is None:
            return 0
        if self.separation is not None and service.name in LOGIN_SERVICES:
            return self.separation.worker_count(service)  # login processes read PROXY headers too
        if any(listener.haproxy for listener in service.listeners):
            return 0  # the PROXY header is read in the master (_serve_haproxy)
        return plan_workers(service, model=self.model, shared_state=registration.shared_state)

    def _worker_job(self, service: ServiceSpec) -> WorkerJob:
        assert self.settings is not None and self.log is not None
        listeners = [bound for spec, bound in self.bound.items() if spec.service == service.name]
        return WorkerJob(service, listeners, self.tree, self.log.sink, self.settings.base_dir, self.tls,
                         self.settings.shutdown_clients, os.path.join(self.settings.base_dir, "auth-client"),
                         self.config_path if self._given_sink is None else None)

    def _reload_workers(self, settings: MasterSettings) -> None:
        """A new generation of workers from the new settings.  A service keeps the process model
        it started with (moving its sockets between master and workers needs a restart)."""
        if self.supervisor is None or self.log is None:
            return
        names = {s.name for s in settings.services}
        for name in self.supervisor.services() - names:
            self.supervisor.remove(name)
        for service in settings.services:
            size = self._worker_count(service)
            pool = self.supervisor.pools.get(service.name)
            if pool is None:
                if size and service.name not in self.runtimes:
                    self.supervisor.start(service, size, self._worker_job(service))
                elif size:
                    self.log.warning(f"service({service.name}): process model change needs a restart")
                continue
            if not size:
                self.log.warning(f"service({service.name}): process model change needs a restart")
                size = pool.size
            self.supervisor.replace(service, size, self._worker_job(service))

    async def _close_listener(self, spec: ListenerSpec) -> None:
        server = self.servers.pop(spec, None)
        if isinstance(server, asyncio.Task):
            server.cancel()
        elif server is not None:
            server.close()
        bound = self.bound.pop(spec, None)
        if bound is not None:
            bound.close()

    async def _start_admin(self) -> None:
        from .admin import verbose_proctitle
        from .proctitle import ProcTitle

        assert self.settings is not None and self.log is not None
        self.admin = AdminServer(self.settings.base_dir, self.log)
        try:
            await self.admin.start()
        except OSError as e:  # who/kick unavailable; serving mail matters more
            self.log.error(f"net_listen_unix({self.admin.path}) failed: {e.strerror}")
            self.admin = None
        if verbose_proctitle(self.tree):
            ProcTitle("master", verbose=True).install()

    def reopen_log(self) -> None:
        if self.log is None or self._given_sink is not None:
            return
        try:
            self.log.sink.reopen_from(self.tree.lookup())  # type: ignore[attr-defined]
        except OSError as e:
            self.log.error(f"Can't reopen log files: {e}")
        for pid in self.supervisor.pids() if self.supervisor else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)
        # Mail processes and the auth process run as users that cannot open root's log files:
        # they get the master's new descriptors (login templates, root, reopen on SIGUSR1).
        files = self.log.sink.files()  # type: ignore[attr-defined]
        if files and (self.separation is not None or self.auth_process is not None):
            asyncio.ensure_future(self._pass_log_files(files))

    async def _pass_log_files(self, files: list[tuple[str, int]]) -> None:
        paths, fds = [path for path, _ in files], [fd for _, fd in files]
        channels = []
        if self.separation is not None:
            channels += self.separation.log_channels()
        if self.auth_process is not None:
            channels += self.auth_process.log_channels()
        for channel in channels:
            with contextlib.suppress(Exception):
                await channel.send({"log_reopen": paths}, fds)

    async def _shutdown(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self.admin is not None:
            await self.admin.close()
            self.admin = None
        if self.supervisor is not None:
            self.supervisor.signal_stop()
        if self.separation is not None:
            self.separation.signal_stop()
        for spec in list(self.servers):
            await self._close_listener(spec)
        self.close_listeners()
        if self.supervisor is not None and (self.settings is None or self.settings.shutdown_clients):
            # `dovecot stop` returns once the pid file is gone: by then no worker is left either.
            await self.supervisor.wait_stopped(shutdown_clients=True)
        if self.separation is not None and (self.settings is None or self.settings.shutdown_clients):
            await self.separation.wait_stopped(shutdown_clients=True)
        if self.settings is None or self.settings.shutdown_clients:
            await self._stop_auth_process()  # sessions may need auth until here
        if self.settings is not None:
            remove_pid(self.settings.pid_file)
        if self.settings is None or self.settings.shutdown_clients:
            for task in list(self.tasks):
                task.cancel()
        if self.tasks:
            # shutdown_clients=no: the clients keep their sessions until they log out.
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.supervisor is not None:
            await self.supervisor.wait_stopped(shutdown_clients=self.settings is None or
                                               self.settings.shutdown_clients)
        if self.separation is not None:
            await self.separation.wait_stopped(shutdown_clients=self.settings is None or
                                               self.settings.shutdown_clients)
        await self._stop_auth_process()
        for runtime in self.runtimes.values():
            for generation in [*runtime.old, runtime.current]:
                with contextlib.suppress(Exception):
                    await generation.handler.close()
        self.runtimes.clear()


def core_dump_note() -> str:
    """`` (core dumps disabled)`` when the core limit is zero, as Dovecot's start-up line says."""
    soft, _ = resource.getrlimit(resource.RLIMIT_CORE)
    return " (core dumps disabled)" if soft == 0 else ""
