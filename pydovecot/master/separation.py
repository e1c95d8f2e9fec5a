"""Privilege separation, as Dovecot does it: the master stays root, nothing that talks to a
client does (docs/process-model.md has the picture).

- Per login service, a template (``login_process.py``): a fresh interpreter, root, holding
  nothing of the master's memory; it forks the login processes, which become
  ``default_login_user`` and serve greeting, CAPABILITY, STARTTLS and the login itself, with
  auth over a socket pair the master passes on to the auth process (``auth_process.py``).
- A logged-in client comes back here (``handoff.py``: its descriptor + a header): the master
  looks the user up, decides the uid/gid (``privileges.mail_identity``, first_valid_uid...) and
  passes the descriptor on to a mail process of that (protocol, uid, gid): each identity has a
  pool (``process_min_avail``, else one per CPU, at most ``process_limit``) and a stable hash of
  the user name picks the process, so a user's sessions meet (and share mailbox caches) in one.
  Each is started on demand as a fresh interpreter that setuids for good (``mail_process.py``).
  The service's limits hold across the pools: ``process_limit x client_limit`` sessions (then
  Dovecot's "... reached, client connections are being dropped" and the login waits for room),
  ``client_limit`` (above 1) per process, and ``mail_max_userip_connections`` counted over all
  mail processes (each tells us when a session ends).
- A TLS client stays in its login process, which copies between the TLS stream and a socket pair
  whose other end the mail process gets (Dovecot's login processes proxy TLS the same way).

``Separation.fork`` is the master's ``WorkerSupervisor`` fork: a login service's one "worker" is
its template.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import socket
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from .handoff import Channel, ChannelClosed, Handoff, LoginHandoff
from .privileges import Identity, IdentityError, mail_identity
from .registry import SharedContext
from .worker_process import WorkerJob
from .workers import collect_exit, exit_message, fork_worker, kill_after_grace

# login service -> the protocol of its mail processes
LOGIN_SERVICES = {"imap-login": "imap", "pop3-login": "pop3"}
_REPLY_TIMEOUT = 30.0


def separation_enabled(model: str, euid: int | None = None) -> bool:
    """Dovecot's privilege separation: what a master started as root does unless told
    otherwise (``auto``, the default, or ``separated``); it needs root (someone must be able to
    become each user). ``single`` and ``workers`` keep the old one-identity models."""
    return model in ("auto", "separated") and (os.geteuid() if euid is None else euid) == 0


async def prepare_login(channel_fd: int, auth_fd: int, tree: Any, protocol: str, log: Any,
                         context: SharedContext) -> None:
    """In a fresh login process, still root: its auth connection, its hand-off channel, and its
    STARTTLS context (the key is often readable by root only)."""
    from pydovecot.login.auth_client import AuthClient

    from .tls import TLSConfigError, TLSSelector

    client = await AuthClient.connect_socket(socket.socket(fileno=auth_fd))
    context.values["auth_client"] = client
    if client._reader_task is not None:
        client._reader_task.add_done_callback(_auth_lost)
    context.values["handoff"] = LoginHandoff(Channel.from_fd(channel_fd))
    try:
        selector = TLSSelector(tree, protocol)
        selector.preload()
        context.values["starttls"] = selector.context()
    except (TLSConfigError, OSError) as e:
        log.error(f"TLS is not available: {e}")
        context.values["starttls"] = None


def _auth_lost(task: asyncio.Task[None]) -> None:
    """The auth process died (or was stopped) under a login process: it cannot log anyone in
    any more, so it retires like at a reload (SIGHUP: no new clients, open sessions finish) and
    its template forks a fresh one, whose auth socket pair reaches the next auth process."""
    if not task.cancelled():  # cancelled: we closed it ourselves
        os.kill(os.getpid(), signal.SIGHUP)


def _child_env() -> dict[str, str]:
    """Our environment, with the directory pydovecot is imported from on PYTHONPATH (the master
    may have been started from the source tree, and a daemon's cwd is /)."""
    import pydovecot

    env = dict(os.environ)
    top = os.path.dirname(os.path.dirname(os.path.abspath(pydovecot.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (top, env.get("PYTHONPATH", "")) if p)
    return env


def spawn(argv: list[str], fds: list[int]) -> int:
    """fork + exec ``argv`` with ``fds`` (and stdio) as the only descriptors it gets.

    posix_spawn, not subprocess: the supervisors reap their children through pidfds, and a
    Popen left behind would one day waitpid() a reused pid.  Our descriptors are
    non-inheritable; the ones to pass are made inheritable just for the spawn.  The child starts
    with SIGTERM and SIGHUP blocked: a stop or reload during its start-up (a second or so of
    imports) waits until it has its handlers, instead of killing it half-made."""
    changed = [fd for fd in fds if not os.get_inheritable(fd)]
    for fd in changed:
        os.set_inheritable(fd, True)
    try:
        return os.posix_spawn(argv[0], argv, _child_env(), setsigmask=(signal.SIGTERM, signal.SIGHUP))
    finally:
        for fd in changed:
            os.set_inheritable(fd, False)


@dataclass
class MailProc:
    key: tuple[str, int, int, int]  # (protocol, uid, gid, slot in that identity's pool)
    pid: int
    pidfd: int
    channel: Channel
    # the sessions handed to it and not yet ended: session id -> (user, remote ip)
    sessions: dict[str, tuple[str, str | None]] = field(default_factory=dict)


class PoolFull(Exception):
    """No mail process can take another session (process_limit x client_limit) in time."""


_DROP_WARN_INTERVAL = 1.0  # Dovecot's SERVICE_DROP_WARN_INTERVAL_SECS
_QUEUE_TIMEOUT = 30.0  # how long a login waits for room in its service's mail processes


def mail_pool_size(spec: Any) -> int:
    """Mail processes per identity: ``process_min_avail`` if set, else one per CPU, never more
    than ``process_limit``."""
    wanted = spec.process_min_avail if spec is not None and spec.process_min_avail > 0 else (os.cpu_count() or 1)
    if spec is not None and spec.process_limit > 0:
        wanted = min(wanted, spec.process_limit)
    return max(1, wanted)


def pool_slot(user: str, size: int) -> int:
    """The user's process in a pool: a stable hash of the name, so that every session of one
    user meets in one process (and shares its mailbox caches), whatever the order of logins."""
    return zlib.crc32(user.encode("utf-8", "surrogateescape")) % size


def session_limits(spec: Any) -> tuple[int, int]:
    """(sessions per mail process, sessions of the whole service); 0 = no limit.

    Dovecot's default for imap/pop3 is a process per session (``client_limit = 1``): its
    ``process_limit`` then bounds the sessions.  Our mail processes serve many sessions each, so
    the service's capacity is Dovecot's, ``process_limit x client_limit`` sessions, and a
    ``client_limit`` above 1 (an admin's choice of multi-session processes) also caps each
    process."""
    if spec is None:
        return 0, 0
    per_process = spec.client_limit if spec.client_limit > 1 else 0
    return per_process, spec.process_limit * max(1, spec.client_limit)


def drop_warning(spec: Any) -> str:
    """Dovecot's words (master/service-monitor.c) when a service is at its limits."""
    if spec.process_limit > 1:
        name, limit = "process_limit", spec.process_limit
    elif spec.service_count == 1:
        name, limit = "client_limit/service_count", 1
    else:
        name, limit = "client_limit", spec.client_limit
    return f"service({spec.name}): {name} ({limit}) reached, client connections are being dropped"


class Separation:
    """The master's side of the model: login processes' requests, mail processes' lives."""

    def __init__(self, master: Any) -> None:
        self.master = master  # server.Master: tree, log, settings, context (auth)
        self.mail: dict[tuple[str, int, int, int], MailProc] = {}  # serving new sessions
        self.retired: dict[int, MailProc] = {}  # finishing theirs after a reload
        self.tasks: set[asyncio.Task[None]] = set()
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        self.stopping = False
        self._freed = asyncio.Event()  # set (and replaced) whenever a mail process has room again
        self._last_drop: dict[str, float] = {}

    # --- login processes --------------------------------------------------------------------

    def worker_count(self, spec: Any) -> int:
        """A login service runs in login processes, kept by one template (login_process.py)."""
        return 1

    def fork(self, job: WorkerJob) -> int:
        """The supervisor's fork for every pool: a login service gets its template, a fresh
        interpreter holding nothing of ours that forks the login processes (login_process.py);
        other services are forked as usual."""
        from . import login_process

        if job.spec.name not in LOGIN_SERVICES:
            return fork_worker(job)
        master_control, child_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            argv, fds = login_process.command(self.master.config_abspath, job, child_control.fileno())
            pid = spawn(argv, fds)
        finally:
            child_control.close()
        self._spawn(self._serve_template(Channel(master_control)))
        return pid

    async def _serve_template(self, control: Channel) -> None:
        """Each login process the template forks: its hand-off channel and auth connection."""
        while (received := await control.receive()) is not None:
            _, fds = received
            if len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            self._spawn(self._serve_auth(socket.socket(fileno=fds[1])))
            self._spawn(self._serve_login(Channel(socket.socket(fileno=fds[0]))))

    async def _serve_auth(self, sock: socket.socket) -> None:
        """A login process's auth connection, served as one of auth-client's: counted by the auth
        service's generation, so a reload closes the old auth only when its last login process
        (one that may still take a client) has gone."""
        from pydovecot.auth.__main__ import listener_role

        from .registry import connection_info

        processes = getattr(self.master, "auth_process", None)
        if processes is not None:  # auth runs in its own process (auth_process.py): pass it on
            with contextlib.suppress(ConnectionError):
                await processes.pass_connection(sock, "client")
            return
        await asyncio.sleep(0)  # the auth service starts in the same loop turn as the pools
        auth = self.master.settings.service("auth") if self.master.settings is not None else None
        spec = next((listener for listener in auth.listeners if listener.kind == "unix"
                     and listener_role(listener.name) == "client"), None) if auth is not None else None
        if spec is None:
            sock.close()
            return
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        try:
            await self.master._dispatch(spec, reader, writer, connection_info(spec, None))
        finally:
            writer.close()

    async def _serve_login(self, channel: Channel) -> None:
        while (received := await channel.receive()) is not None:
            self._spawn(self._handoff(channel, *received))

    async def _handoff(self, channel: Channel, message: dict[str, Any], fds: list[int]) -> None:
        """userdb, uid/gid, the mail process; the login process hears "ok, mpid=N" as soon as the
        process is chosen (it logs "Login:" then, as Dovecot's does, before the mail process
        answers the client), and the client goes on to the mail process."""
        handoff = Handoff.from_message(message)
        conn = handoff.connection_info()
        log = logging.getLogger(f"pydovecot.{handoff.protocol}")
        try:
            try:
                if not fds or handoff.protocol not in LOGIN_SERVICES.values():
                    raise IdentityError("bad hand-off request")
                node = self.master.tree.lookup(service=handoff.protocol, local=conn.local_ip, remote=conn.remote_ip)
                handoff.userdb, handoff.user = await self._userdb(handoff)
                identity = mail_identity(node, handoff.userdb)
                proc = await self._mail_process(handoff.protocol, identity, handoff.user, conn.session_id,
                                                conn.remote_ip)
            except PoolFull as e:  # the master's warning said why; the client hears an internal error
                with contextlib.suppress(ChannelClosed):
                    await channel.reply(message, {"ok": False, "error": str(e)})
                return
            except IdentityError as e:
                with contextlib.suppress(ChannelClosed):
                    await channel.reply(message, {"ok": False, "error": str(e)})
                # In Dovecot the mail process says it, after imap-login logged the login
                log.error("%s", e, extra={"dovecot_prefix": f"{handoff.protocol}({handoff.user}): "})
                return
            except Exception as e:  # noqa: BLE001 - shutting down, a userdb failing: the client is told
                with contextlib.suppress(ChannelClosed):
                    await channel.reply(message, {"ok": False, "error": str(e)})
                if not isinstance(e, ChannelClosed):
                    log.error("%s", f"userdb lookup failed: {e}",
                              extra={"dovecot_prefix": f"{handoff.protocol}({handoff.user}): "})
                return
            with contextlib.suppress(ChannelClosed):
                await channel.reply(message, {"ok": True, "mail_pid": proc.pid})
            # mail_max_userip_connections counts every mail process's sessions: the ones of this
            # user and address elsewhere (a sibling, a process finishing after a reload)
            request = {**handoff.message(),
                       "userip_others": self._userip_count(handoff.protocol, handoff.user, conn.remote_ip, proc)}
            try:
                reply = await proc.channel.request(request, fds[:1], timeout=_REPLY_TIMEOUT)
                if not reply.get("ok"):
                    raise OSError(str(reply.get("error") or "refused"))
            except (ChannelClosed, TimeoutError, OSError) as e:  # the client is closed with our copy
                self._session_ended(proc, conn.session_id)
                log.error("%s", f"mail process {proc.pid} did not take the client: {e}",
                          extra={"dovecot_prefix": f"{handoff.protocol}({handoff.user})<{conn.session_id}>: "})
        finally:
            for fd in fds:
                os.close(fd)

    async def _userdb(self, handoff: Handoff) -> tuple[dict[str, str], str]:
        from pydovecot.auth.service import RequestInfo, UserdbResult

        auth = self.master.context.values.get("auth")
        if auth is None:
            raise IdentityError("auth service is not running")
        conn = handoff.connection_info()
        info = RequestInfo(service=handoff.protocol, local_ip=conn.local_ip, remote_ip=conn.remote_ip,
                           local_port=None if conn.local_port is None else str(conn.local_port),
                           remote_port=None if conn.remote_port is None else str(conn.remote_port),
                           secured=conn.secured)
        answer = await auth.backend.lookup_user(handoff.user, info)
        if answer is None or answer.result is not UserdbResult.OK:
            reason = getattr(answer, "reason", None) or (
                "user doesn't exist" if answer is not None and answer.result is UserdbResult.USER_UNKNOWN
                else "internal failure")
            raise IdentityError(f"userdb lookup failed: {reason}")
        fields = {f.key: f.value for f in answer.fields.items}
        for key, value in handoff.auth_fields.items():  # passdb prefetch: userdb_<name>=value
            if key.startswith("userdb_"):
                fields.setdefault(key[len("userdb_"):], value)
        return fields, answer.user or handoff.user

    # --- mail processes ---------------------------------------------------------------------

    async def _mail_process(self, protocol: str, identity: Identity, user: str, session_id: str,
                            remote_ip: str | None) -> MailProc:
        """The mail process that takes this session, counted in it before we return.

        At the service's limits (process_limit, client_limit) the master logs Dovecot's warning
        and the login waits, as Dovecot's do, until a session ends somewhere; PoolFull after
        ``_QUEUE_TIMEOUT``."""
        deadline = time.monotonic() + _QUEUE_TIMEOUT
        while True:
            if self.stopping:
                raise ChannelClosed("shutting down")
            proc = self._choose(protocol, identity, user)
            if proc is not None:
                proc.sessions[session_id] = (user, remote_ip)
                return proc
            spec = self._service_spec(protocol)
            now = time.monotonic()
            if now - self._last_drop.get(protocol, float("-inf")) >= _DROP_WARN_INTERVAL:
                self._last_drop[protocol] = now
                self.master.log.warning(drop_warning(spec))
            if now >= deadline:
                raise PoolFull(drop_warning(spec))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._freed.wait(), deadline - now)

    def _service_spec(self, protocol: str) -> Any:
        from .services import ServiceSpec

        settings = self.master.settings
        spec = settings.service(protocol) if settings is not None else None
        return spec if spec is not None else ServiceSpec(protocol, protocol, (), 0, 1024, 1, 1, 0, 0)

    def _choose(self, protocol: str, identity: Identity, user: str) -> MailProc | None:
        """The user's process in the identity's pool (started now if there is none), another of
        the pool's with room when that one is full, None at the service's limits.  No await:
        the choice and the count that follows it cannot race."""
        spec = self._service_spec(protocol)
        per_process, total = session_limits(spec)
        serving = [proc for key, proc in self.mail.items() if key[0] == protocol]
        if total and sum(len(proc.sessions) for proc in serving) >= total:
            return None

        def has_room(proc: MailProc | None) -> bool:
            return proc is not None and not proc.channel.closed and (
                not per_process or len(proc.sessions) < per_process)

        size = mail_pool_size(spec)
        base = (protocol, identity.uid, identity.gid)
        home = (*base, pool_slot(user, size))
        proc = self.mail.get(home)
        if has_room(proc):
            return proc
        can_start = len(serving) < spec.process_limit
        if (proc is None or proc.channel.closed) and can_start:
            return self._start(protocol, identity, home)
        siblings = [p for key, p in self.mail.items() if key[:3] == base and has_room(p)]
        if siblings:
            return min(siblings, key=lambda p: len(p.sessions))
        if can_start:  # beyond the pool, up to process_limit: the first free slot
            slot = next(i for i in itertools.count() if (*base, i) not in self.mail)
            return self._start(protocol, identity, (*base, slot))
        return None

    def _start(self, protocol: str, identity: Identity, key: tuple[str, int, int, int]) -> MailProc:
        """A new mail process for this identity's pool slot.

        A fresh interpreter (fork+exec), not a fork of ours: our memory holds the TLS keys, the
        auth cache and the passdb's data, and thread pools whose threads a fork would not have.
        The request waits in the channel while it starts up."""
        from . import mail_process

        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = spawn(mail_process.command(self.master.config_abspath, protocol, identity, child.fileno()),
                        [child.fileno()])
        finally:
            child.close()
        pidfd = os.pidfd_open(pid)
        proc = MailProc(key, pid, pidfd, Channel(parent))
        self.mail[key] = proc
        self._all_gone.clear()
        asyncio.get_running_loop().add_reader(pidfd, self._reap, proc)
        self._spawn(self._serve_mail(proc))
        return proc

    async def _serve_mail(self, proc: MailProc) -> None:
        """What a mail process tells us on its own: a session has ended."""
        while (received := await proc.channel.receive()) is not None:
            message, fds = received
            for fd in fds:
                os.close(fd)
            if "ended" in message:
                self._session_ended(proc, str(message["ended"]))

    def _session_ended(self, proc: MailProc, session_id: str) -> None:
        if proc.sessions.pop(session_id, None) is not None:
            self._wake()

    def _wake(self) -> None:
        """Logins waiting for room try again."""
        self._freed.set()
        self._freed = asyncio.Event()

    def _userip_count(self, protocol: str, user: str, remote_ip: str | None, exclude: MailProc) -> int:
        return sum(1 for proc in (*self.mail.values(), *self.retired.values())
                   if proc is not exclude and proc.key[0] == protocol
                   for who in proc.sessions.values() if who == (user, remote_ip))

    def _reap(self, proc: MailProc) -> None:
        status = collect_exit(proc.pid, proc.pidfd)
        proc.channel.close()
        if self.mail.get(proc.key) is proc:
            del self.mail[proc.key]
        self.retired.pop(proc.pid, None)
        proc.sessions.clear()
        self._wake()
        settings = self.master.settings
        spec = settings.service(proc.key[0]) if settings is not None else None
        if spec is None:
            spec = self._service_spec(proc.key[0])
        message = exit_message(spec, proc.pid, status)
        if message is not None:
            self.master.log.for_service(proc.key[0]).fatal(message)
        if not self.mail and not self.retired:
            self._all_gone.set()

    def pids(self) -> list[int]:
        return [proc.pid for proc in (*self.mail.values(), *self.retired.values())]

    def log_channels(self) -> list[Channel]:
        """Where `doveadm log reopen` sends the new log descriptors: every mail process."""
        return [proc.channel for proc in (*self.mail.values(), *self.retired.values())]

    def reload(self) -> None:
        """New sessions go to mail processes forked from the new configuration; the old ones
        finish their sessions (SIGHUP) and exit, as Dovecot's do after a reload."""
        for proc in list(self.mail.values()):
            del self.mail[proc.key]
            self.retired[proc.pid] = proc
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGHUP)

    def signal_stop(self) -> None:
        """SIGTERM to every mail process: they cancel (shutdown_clients) or finish their sessions."""
        self.stopping = True
        self._wake()  # logins waiting for room give up now
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    async def wait_stopped(self, *, shutdown_clients: bool) -> None:
        """Until every mail process is gone; with shutdown_clients one still there after
        STOP_GRACE is killed."""
        if not shutdown_clients:
            await self._all_gone.wait()
        else:
            await kill_after_grace(self._all_gone, self.pids)
        for task in list(self.tasks):
            task.cancel()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
