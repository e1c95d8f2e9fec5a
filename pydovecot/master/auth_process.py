"""``service auth`` in its own process under privilege separation, as Dovecot runs it
(``service auth { user = $default_internal_user }``).

The root master binds the auth listeners (auth-client, auth-master, auth-userdb, Postfix's
``private/auth``... with their mode/user/group) as before, then starts ONE auth process -- a
fresh interpreter through ``separation.spawn``, given only those listening sockets and a control
socket -- which reads the configuration, builds the AuthService (one cache, one failure-penalty
table for the whole server), becomes ``default_internal_user`` for good (setgroups, setgid,
setuid) and serves every auth socket.  The passdb's data (password hashes once a passwd-file is
read, SQL credentials) is then in that process only: not in the master, not in any process that
talks to clients.

Over the control socket (SOCK_SEQPACKET, ``handoff.Channel``) the master passes connections the
auth process serves as if accepted on one of its listeners: each login process's auth socket
pair (role ``client``) and the master's own connection for the auth master protocol (role
``userdb``: the hand-off's userdb lookup, LMTP's recipients, quota-status -- ``RemoteAuth``).

Blocking drivers that need root run in Dovecot's auth-worker, which stays root.  For ``shadow``
(without ``blocking=no``) the master starts, beside each auth process, a root auth-worker -- a
fresh interpreter that does nothing but read /etc/shadow entries for the auth process over a
socket pair (``worker_main``); the auth process still drops to the dovecot user.  A driver we
have no worker for (``pam``) keeps the whole auth process root (docs/process-model.md).

Lives: a dead auth process is logged in Dovecot's words (``auth: Fatal: master: service(auth):
child N killed with signal 9``) and started again (throttled when it fails at start-up); a reload
starts a new one from the new configuration while the old one finishes the connections it has
(login processes of the old generation) and exits; a stop ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from .handoff import Channel, ChannelClosed
from .listeners import BoundListener
from .privileges import Identity
from .services import ListenerSpec, ServiceSpec
from .worker_process import FATAL_DEFAULT
from .workers import collect_exit, exit_message, kill_after_grace

SERVICE = "auth"
# Drivers Dovecot runs in its root auth-worker (blocking ones that read what only root may).
ROOT_DRIVERS = frozenset({"shadow", "pam"})
_QUICK_DEATH = 1.0
_MAX_THROTTLE = 60.0


def internal_identity(settings: object) -> Identity:
    """``default_internal_user`` (dovecot): what the auth process runs as."""
    import pwd

    name = str(settings.get("default_internal_user") or "dovecot")  # type: ignore[attr-defined]
    entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    return Identity(entry.pw_uid, entry.pw_gid, entry.pw_name)


def root_drivers(settings: object) -> list[str]:
    """The passdb/userdb drivers that keep the auth process root (see the module's doc)."""
    found = []
    for section in ("passdb", "userdb"):
        for db in settings.get(section) or ():  # type: ignore[attr-defined]
            driver = str(db.get("driver"))
            if driver in ROOT_DRIVERS and "blocking=no" not in str(db.get("args") or "").split():
                found.append(f"{section} {driver}")
    return found


# Drivers whose root-only reads the auth-worker does for the auth process.
WORKER_DRIVERS = frozenset({"shadow"})


def command(config_path: str, listeners: list[BoundListener], control_fd: int,
            worker_fd: int | None = None) -> tuple[list[str], list[int]]:
    """(the command line, the descriptors it needs) of an auth process."""
    items = [{"spec": asdict(b.spec), "fd": b.sock.fileno()} for b in listeners if b.sock is not None]
    description = {"listeners": items, "control_fd": control_fd, "worker_fd": worker_fd}
    fds = [item["fd"] for item in items] + [control_fd] + ([worker_fd] if worker_fd is not None else [])
    return [sys.executable, "-m", "pydovecot.master.auth_process", config_path, json.dumps(description)], fds


def worker_command(fd: int) -> list[str]:
    return [sys.executable, "-m", "pydovecot.master.auth_process", "--worker", str(fd)]


def worker_main(fd: int) -> int:
    """The root auth-worker: ``SHADOW<TAB>user`` -> ``OK<TAB>hash`` / ``NOTFOUND`` / ``FAIL<TAB>why``,
    one request at a time, for the auth process at the other end; it exits when that goes.
    Only /etc/shadow, only one user's hash per request: what Dovecot's shadow passdb gets from
    its auth-worker too."""
    from pydovecot.auth.passdb.passwd import SHADOW_PATH, read_shadow_entry
    from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    lines = sock.makefile("rb")
    for raw in lines:
        words = raw.decode("utf-8", "surrogateescape").rstrip("\n").split("\t")
        if words[0] == "SHADOW" and len(words) == 2:
            try:
                entry = read_shadow_entry(SHADOW_PATH, tab_unescape(words[1]))
                reply = "NOTFOUND" if entry is None else f"OK\t{tab_escape(entry)}"
            except OSError as e:
                reply = f"FAIL\t{e.strerror}"
        else:
            reply = "FAIL\tunknown request"
        try:
            sock.sendall(reply.encode("utf-8", "surrogateescape") + b"\n")
        except OSError:
            break
    return 0


class WorkerClient:
    """The auth process's side of its auth-worker (installed as ShadowPassdb's reader)."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.attached = asyncio.Event()
        self.lock = asyncio.Lock()

    async def attach(self, sock: socket.socket) -> None:
        """A (new) worker connection: the master restarts a worker that died."""
        if self.writer is not None:
            self.writer.close()
        self.reader, self.writer = await asyncio.open_unix_connection(sock=sock)
        self.attached.set()

    async def read_shadow(self, user: str) -> str | None:
        from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape

        async with self.lock:
            if self.writer is None:
                try:
                    await asyncio.wait_for(self.attached.wait(), 5)
                except TimeoutError:
                    raise OSError(0, "auth-worker is not available") from None
            assert self.reader is not None and self.writer is not None
            self.writer.write(f"SHADOW\t{tab_escape(user)}\n".encode("utf-8", "surrogateescape"))
            line = await self.reader.readline()
            if not line:
                self.writer.close()
                self.reader = self.writer = None
                self.attached.clear()
                raise OSError(0, "auth-worker connection lost")
        words = line.decode("utf-8", "surrogateescape").rstrip("\n").split("\t")
        if words[0] == "OK" and len(words) == 2:
            return tab_unescape(words[1])
        if words[0] == "NOTFOUND":
            return None
        raise OSError(0, words[1] if len(words) > 1 else "auth-worker failed")


# --- inside the auth process --------------------------------------------------------------------

def main(argv: list[str]) -> int:
    """In the fresh interpreter, as root."""
    from pydovecot.log import Log, LogSink, bridge

    from .server import MasterError, load_tree

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)  # the mask (inherited, TERM/HUP blocked) holds them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C at a terminal: the master stops us
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # log reopen: the master passes us its new files
    if argv[0] == "--worker":
        return worker_main(int(argv[1]))
    config_path, blob = argv
    data = json.loads(blob)
    try:
        tree = load_tree(config_path)
    except MasterError as e:
        print(f"{SERVICE}: Fatal: {e}", file=sys.stderr)
        return FATAL_DEFAULT
    root = tree.lookup()  # type: ignore[attr-defined]
    sink = LogSink.from_settings(root)
    bridge.install(sink, debug=bool(root.get("auth_debug")))
    node = tree.lookup(service=SERVICE)  # type: ignore[attr-defined]
    log = Log(sink).for_service(SERVICE, settings=node)
    listeners = [BoundListener(ListenerSpec(**item["spec"]), socket.socket(fileno=item["fd"]))
                 for item in data["listeners"]]
    return asyncio.run(AuthServer(node, log, listeners, data["control_fd"], data.get("worker_fd")).run())


class AuthServer:
    def __init__(self, node: Any, log: Any, listeners: list[BoundListener], control_fd: int,
                 worker_fd: int | None = None) -> None:
        self.node = node
        self.log = log
        self.listeners = listeners
        self.control_fd = control_fd
        self.worker_fd = worker_fd
        self.worker: WorkerClient | None = None
        self.servers: list[asyncio.AbstractServer] = []
        self.sessions: set[asyncio.Task[None]] = set()
        self.leaving = False
        self.done = asyncio.Event()

    async def run(self) -> int:
        from pydovecot.auth.__main__ import connection_handler, listener_role
        from pydovecot.auth.backend import service_from_settings
        from pydovecot.storage.access import preload_modules

        from .privileges import become

        loop = asyncio.get_running_loop()
        try:
            service = service_from_settings(self.node, log_callback=self.log.callback)
        except Exception as e:  # noqa: BLE001 - like Dovecot's auth failing to start
            self.log.fatal(str(e) or type(e).__name__)
            return FATAL_DEFAULT
        handlers = {role: connection_handler(service, role) for role in ("client", "master", "userdb")}
        needs_root = root_drivers(self.node)
        if self.worker_fd is not None:
            from pydovecot.auth.passdb.passwd import set_shadow_reader

            self.worker = WorkerClient()
            await self.worker.attach(socket.socket(fileno=self.worker_fd))
            set_shadow_reader(self.worker.read_shadow)
            needs_root = [d for d in needs_root if d.split()[-1] not in WORKER_DRIVERS]
        try:
            preload_modules()  # after setuid, a Python the dovecot user cannot read imports nothing
            if not needs_root:
                become(internal_identity(self.node))
        except Exception as e:  # noqa: BLE001 - auth must not serve as root by accident
            self.log.fatal(f"Couldn't drop privileges: {e}")
            return FATAL_DEFAULT
        self._check_passwd_files(service.backend.chain)  # type: ignore[attr-defined]
        for bound in self.listeners:
            role = listener_role(bound.spec.name)
            if role is None or bound.sock is None:
                continue
            server = await asyncio.start_unix_server(self._accepted(handlers[role]), sock=bound.sock)
            self.servers.append(server)
        control = Channel.from_fd(self.control_fd)
        loop.add_signal_handler(signal.SIGHUP, self._leave, False)
        loop.add_signal_handler(signal.SIGTERM, self._leave, True)
        early = signal.sigpending() & {signal.SIGTERM, signal.SIGHUP}
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if early:
            self._leave(signal.SIGTERM in early)
        receiving = asyncio.ensure_future(self._receive(control, handlers))
        await self.done.wait()
        receiving.cancel()
        signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM, signal.SIGHUP))
        control.close()
        with contextlib.suppress(Exception):
            await service.close()
            await service.backend.chain.close()  # type: ignore[attr-defined]
        return 0

    def _check_passwd_files(self, chain: Any) -> None:
        """Dovecot's auth opens each passwd-file when it starts, as its own user: one it may not
        read is logged then (once per passdb/userdb), and again at each lookup."""
        from pydovecot.auth.passdb.passwd_file import PasswdFileDb, eacces_error

        for entry in [*chain.passdbs, *chain.masterdbs, *chain.userdbs]:
            db = getattr(entry.db, "db", None)
            if isinstance(db, PasswdFileDb) and not db.templated and os.path.exists(db.path) \
                    and not os.access(db.path, os.R_OK):
                self.log.error(f"passwd-file {db.path}:{eacces_error('open', db.path)}")

    def _accepted(self, handler: Any) -> Any:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._session(handler, reader, writer)
        return on_connection

    async def _session(self, handler: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        except Exception as e:  # noqa: BLE001 - one connection's failure must not end auth
            self.log.error(f"{type(e).__name__}: {e}")
        finally:
            writer.close()
            self.sessions.discard(task)  # type: ignore[arg-type]
            self._check_done()

    async def _receive(self, control: Channel, handlers: dict[str, Any]) -> None:
        """Connections the master passes: login processes' (client) and its own (userdb)."""
        while (received := await control.receive()) is not None:
            message, fds = received
            if "log_reopen" in message:
                self.log.sink.adopt(list(message["log_reopen"]), fds)
                continue
            for fd in fds[1:]:
                os.close(fd)
            handler = handlers.get(str(message.get("role")))
            if not fds:
                continue
            if message.get("role") == "worker" and self.worker is not None:
                await self.worker.attach(socket.socket(fileno=fds[0]))
                continue
            if handler is None or self.leaving:
                os.close(fds[0])
                continue
            sock = socket.socket(fileno=fds[0])
            try:
                reader, writer = await asyncio.open_unix_connection(sock=sock)
            except OSError:
                sock.close()
                continue
            asyncio.ensure_future(self._session(handler, reader, writer))
        self._leave(False)  # the master is gone (or has let us go): finish what we have

    def _leave(self, stop: bool) -> None:
        """SIGHUP (a reload: a new auth process takes new connections) or the master gone: no
        new connections, the open ones finish; SIGTERM: they end now."""
        self.leaving = True
        for server in self.servers:
            server.close()
        self.servers.clear()
        if stop:
            for task in list(self.sessions):
                task.cancel()
        self._check_done()

    def _check_done(self) -> None:
        if self.leaving and not self.sessions:
            self.done.set()


# --- the master's side --------------------------------------------------------------------------

@dataclass
class AuthProc:
    pid: int
    pidfd: int
    channel: Channel
    started: float


@dataclass
class WorkerProc:
    pid: int
    pidfd: int
    owner: AuthProc | None  # the auth process it reads for


class RemoteAuth:
    """What the master's own code uses of an AuthService (``context.values["auth"]``) when auth
    runs in its process: userdb lookups over the auth master protocol.  ``settings`` is None:
    the auth process applies the username rules to each USER itself."""

    settings = None

    def __init__(self, processes: AuthProcess) -> None:
        from pydovecot.login.userdb_lookup import AuthMasterClient

        self.processes = processes
        self.backend = AuthMasterClient(lambda: processes.connection("userdb"))

    def new_client_session(self) -> _ClientRelay:
        """For ``AuthClient.in_process``: a login service the master still serves itself
        (haproxy listeners) reaches the auth process through a relay."""
        return _ClientRelay(self.processes)

    async def close(self) -> None:
        await self.backend.close()


class _ClientRelay:
    """An auth-client connection of the master's own, copied to and from the auth process."""

    def __init__(self, processes: AuthProcess) -> None:
        self.processes = processes

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            sock = await self.processes.connection("client")
            auth_reader, auth_writer = await asyncio.open_unix_connection(sock=sock)
        except (ConnectionError, OSError):
            writer.close()
            return

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.close()

        await asyncio.gather(pump(reader, auth_writer), pump(auth_reader, writer), return_exceptions=True)


class AuthProcess:
    """Starts, restarts, reloads and stops the auth process; passes it connections."""

    def __init__(self, master: Any) -> None:
        self.master = master  # server.Master: config_abspath, bound, log
        self.current: AuthProc | None = None
        self.procs: dict[int, AuthProc] = {}
        self.workers: dict[int, WorkerProc] = {}
        self.ready = asyncio.Event()  # self.current can take connections
        self.stopping = False
        self.throttle = 0.0
        self._respawn: asyncio.TimerHandle | None = None
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        self.remote = RemoteAuth(self)

    def _spec(self) -> ServiceSpec:
        settings = self.master.settings
        spec = settings.service(SERVICE) if settings is not None else None
        return spec if spec is not None else ServiceSpec(SERVICE, SERVICE, (), 0, 0, 0, 0, 0, 0)

    def start(self) -> None:
        """A new auth process on the listeners the master has bound now."""
        from .separation import spawn

        self._respawn = None
        if self.stopping:
            return
        listeners = [bound for spec, bound in self.master.bound.items() if spec.service == SERVICE]
        wants_worker = any(d.split()[-1] in WORKER_DRIVERS
                           for d in root_drivers(self.master.tree.lookup(service=SERVICE)))
        worker = self._start_worker(None) if wants_worker else None
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            argv, fds = command(self.master.config_abspath, listeners, child.fileno(),
                                worker[1].fileno() if worker is not None else None)
            pid = spawn(argv, fds)
        except OSError as e:
            parent.close()
            self.master.log.error(f"service({SERVICE}): spawn failed: {e}")
            self._throttled()
            return
        finally:
            child.close()
            if worker is not None:
                worker[1].close()
        proc = AuthProc(pid, os.pidfd_open(pid), Channel(parent), time.monotonic())
        if worker is not None:
            worker[0].owner = proc
        self.procs[pid] = proc
        self.current = proc
        self._all_gone.clear()
        self.ready.set()
        asyncio.get_running_loop().add_reader(proc.pidfd, self._reap, proc)

    def _start_worker(self, owner: AuthProc | None) -> tuple[WorkerProc, socket.socket] | None:
        """A root auth-worker; the returned socket is the auth process's end (ours to close)."""
        from .separation import spawn

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = spawn(worker_command(theirs.fileno()), [theirs.fileno()])
        except OSError as e:
            ours.close()
            self.master.log.error(f"service(auth-worker): spawn failed: {e}")
            return None
        finally:
            theirs.close()
        worker = WorkerProc(pid, os.pidfd_open(pid), owner)
        self.workers[pid] = worker
        self._all_gone.clear()
        asyncio.get_running_loop().add_reader(worker.pidfd, self._reap_worker, worker)
        return worker, ours

    def _reap_worker(self, worker: WorkerProc) -> None:
        """A worker that died while its auth process lives is replaced (Dovecot's master starts
        auth-workers on demand); one whose auth process went leaves quietly (exit 0)."""
        status = collect_exit(worker.pid, worker.pidfd)
        self.workers.pop(worker.pid, None)
        message = exit_message(ServiceSpec("auth-worker", "auth-worker", (), 0, 0, 0, 0, 0, 0), worker.pid, status)
        if message is not None:
            self.master.log.for_service("auth-worker").fatal(message)
        owner = worker.owner
        if owner is not None and owner is self.current and not self.stopping and owner.pid in self.procs:
            started = self._start_worker(owner)
            if started is not None:
                asyncio.ensure_future(self._give_worker(owner, started[1]))
        if not self.procs and not self.workers:
            self._all_gone.set()

    async def _give_worker(self, owner: AuthProc, sock: socket.socket) -> None:
        try:
            await owner.channel.send({"role": "worker"}, [sock.fileno()])
        except ChannelClosed:
            pass
        finally:
            sock.close()

    def _reap(self, proc: AuthProc) -> None:
        status = collect_exit(proc.pid, proc.pidfd)
        proc.channel.close()
        self.procs.pop(proc.pid, None)
        message = exit_message(self._spec(), proc.pid, status)
        if message is not None:
            self.master.log.for_service(SERVICE).fatal(message)
        if self.current is proc:
            self.current = None
            if not self.stopping:  # a stop keeps it set: waiters must see the stop
                self.ready.clear()
            self.remote.backend.reset()
            failed_at_start = os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0 and \
                time.monotonic() - proc.started < _QUICK_DEATH
            if failed_at_start:
                self._throttled()
            elif not self.stopping:
                self.throttle = 0.0
                self.start()
        if not self.procs and not self.workers:
            self._all_gone.set()

    def _throttled(self) -> None:
        """Dovecot's throttling of a service that fails to start: 2 s, doubling up to 60 s."""
        if self.stopping:
            return
        self.throttle = min(_MAX_THROTTLE, max(2.0, self.throttle * 2))
        self.master.log.error(f"service({SERVICE}): command startup failed, throttling for "
                              f"{int(self.throttle)} secs")
        self._respawn = asyncio.get_running_loop().call_later(self.throttle, self.start)

    async def connection(self, role: str) -> socket.socket:
        """A new connection to the auth process, served as one accepted on a ``role`` listener."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            await self.pass_connection(theirs, role)
        except BaseException:
            ours.close()
            raise
        return ours

    async def pass_connection(self, sock: socket.socket, role: str = "client") -> None:
        """Hand ``sock`` (ours to close) to the auth process; waits while it is (re)starting."""
        try:
            while True:
                if self.stopping:
                    raise ConnectionError("auth service is stopping")
                await self.ready.wait()
                proc = self.current
                if proc is None:
                    continue
                try:
                    await proc.channel.send({"role": role}, [sock.fileno()])
                    return
                except ChannelClosed:
                    await asyncio.sleep(0.05)  # it died: its reaper starts the next one
        finally:
            sock.close()

    def pids(self) -> list[int]:
        return [*self.procs, *self.workers]

    def reload(self) -> None:
        """A new auth process from the new configuration; the old one finishes its connections."""
        old = self.current
        self.current = None
        self.ready.clear()
        if self._respawn is not None:
            self._respawn.cancel()
            self._respawn = None
        self.throttle = 0.0
        self.start()
        self.remote.backend.reset()
        if old is not None:
            old.channel.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(old.pid, signal.SIGHUP)

    def signal_stop(self) -> None:
        self.stopping = True
        self.ready.set()  # waiters see stopping
        if self._respawn is not None:
            self._respawn.cancel()
            self._respawn = None
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def log_channels(self) -> list[Channel]:
        """Where `doveadm log reopen` sends the new log descriptors: every auth process."""
        return [proc.channel for proc in self.procs.values()]

    async def wait_stopped(self) -> None:
        await kill_after_grace(self._all_gone, self.pids)
        await self.remote.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
