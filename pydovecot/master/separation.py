"""Privilege separation, as Dovecot does it: the master stays root, nothing that talks to a
client does (docs/process-model.md has the picture).

- Per login service, a template (``login_process.py``): a fresh interpreter, root, holding
  nothing of the master's memory; it forks the login processes, which become
  ``default_login_user`` and serve greeting, CAPABILITY, STARTTLS and the login itself, with
  auth over a socket pair the master serves.
- A logged-in client comes back here (``handoff.py``: its descriptor + a header): the master
  looks the user up, decides the uid/gid (``privileges.mail_identity``, first_valid_uid...) and
  passes the descriptor on to the mail process of that (protocol, uid, gid), started on demand
  as a fresh interpreter that setuids for good (``mail_process.py``).
- A TLS client stays in its login process, which copies between the TLS stream and a socket pair
  whose other end the mail process gets (Dovecot's login processes proxy TLS the same way).

``Separation.fork`` is the master's ``WorkerSupervisor`` fork: a login service's one "worker" is
its template.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

from .handoff import Channel, ChannelClosed, Handoff, LoginHandoff
from .privileges import Identity, IdentityError, mail_identity
from .registry import SharedContext
from .worker_process import WorkerJob
from .workers import STOP_GRACE, exit_message, fork_worker

# login service -> the protocol of its mail processes
LOGIN_SERVICES = {"imap-login": "imap", "pop3-login": "pop3"}
_REPLY_TIMEOUT = 30.0


def separation_enabled(model: str, euid: int | None = None) -> bool:
    """``separated`` asks for it; it needs root (someone must be able to become each user)."""
    return model == "separated" and (os.geteuid() if euid is None else euid) == 0


async def prepare_login(channel_fd: int, auth_fd: int, tree: Any, protocol: str, log: Any,
                         context: SharedContext) -> None:
    """In a fresh login process, still root: its auth connection, its hand-off channel, and its
    STARTTLS context (the key is often readable by root only)."""
    from pydovecot.login.auth_client import AuthClient

    from .tls import TLSConfigError, TLSSelector

    context.values["auth_client"] = await AuthClient.connect_socket(socket.socket(fileno=auth_fd))
    context.values["handoff"] = LoginHandoff(Channel.from_fd(channel_fd))
    try:
        selector = TLSSelector(tree, protocol)
        selector.preload()
        context.values["starttls"] = selector.context()
    except (TLSConfigError, OSError) as e:
        log.error(f"TLS is not available: {e}")
        context.values["starttls"] = None


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
    key: tuple[str, int, int]
    pid: int
    pidfd: int
    channel: Channel


class Separation:
    """The master's side of the model: login processes' requests, mail processes' lives."""

    def __init__(self, master: Any) -> None:
        self.master = master  # server.Master: tree, log, settings, context (auth)
        self.mail: dict[tuple[str, int, int], MailProc] = {}  # serving new sessions
        self.retired: dict[int, MailProc] = {}  # finishing theirs after a reload
        self.tasks: set[asyncio.Task[None]] = set()
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        self.stopping = False

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
                proc = self._mail_process(handoff.protocol, identity)
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
            try:
                reply = await proc.channel.request(handoff.message(), fds[:1], timeout=_REPLY_TIMEOUT)
                if not reply.get("ok"):
                    raise OSError(str(reply.get("error") or "refused"))
            except (ChannelClosed, TimeoutError, OSError) as e:  # the client is closed with our copy
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

    def _mail_process(self, protocol: str, identity: Identity) -> MailProc:
        """The process of this identity, started now if there is none (no await: no race).

        A fresh interpreter (fork+exec), not a fork of ours: our memory holds the TLS keys, the
        auth cache and the passdb's data, and thread pools whose threads a fork would not have.
        The request waits in the channel while it starts up."""
        from . import mail_process

        key = (protocol, identity.uid, identity.gid)
        proc = self.mail.get(key)
        if proc is not None and not proc.channel.closed:
            return proc
        if self.stopping:
            raise ChannelClosed("shutting down")
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
        return proc

    def _reap(self, proc: MailProc) -> None:
        asyncio.get_running_loop().remove_reader(proc.pidfd)
        os.close(proc.pidfd)
        try:
            _, status = os.waitpid(proc.pid, 0)
        except ChildProcessError:
            status = 0
        proc.channel.close()
        if self.mail.get(proc.key) is proc:
            del self.mail[proc.key]
        self.retired.pop(proc.pid, None)
        settings = self.master.settings
        spec = settings.service(proc.key[0]) if settings is not None else None
        if spec is None:
            from .services import ServiceSpec

            spec = ServiceSpec(proc.key[0], proc.key[0], (), 0, 0, 0, 0, 0, 0)
        message = exit_message(spec, proc.pid, status)
        if message is not None:
            self.master.log.for_service(proc.key[0]).fatal(message)
        if not self.mail and not self.retired:
            self._all_gone.set()

    def pids(self) -> list[int]:
        return [proc.pid for proc in (*self.mail.values(), *self.retired.values())]

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
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    async def wait_stopped(self, *, shutdown_clients: bool) -> None:
        """Until every mail process is gone; with shutdown_clients one still there after
        STOP_GRACE is killed."""
        if not shutdown_clients:
            await self._all_gone.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_gone.wait(), STOP_GRACE)
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_gone.wait(), STOP_GRACE)
        for task in list(self.tasks):
            task.cancel()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
