"""Inside a mail process: one uid/gid for good, serving the logged-in sessions the master gives it.

Started by the root master (``separation.py``) for one slot of the pool of a (protocol, uid, gid)
the first time a user whose name hashes to that slot logs in: ``python -m pydovecot.master.mail_process CONFIG PROTOCOL UID GID FD``,
a fresh interpreter (fork+exec, as Dovecot execs its imap/pop3 binaries), so nothing of the
master's memory comes along -- not the TLS keys, not the auth cache or the passdb's data, not
its thread pools and their locks.  Still root, it reads the configuration, opens the log files,
imports everything it will need and connects to the master's anvil socket (doveadm who/kick);
then it ``become``s the identity -- setgroups, setgid, setuid: root cannot be regained.  From
then on every session of that identity runs here, each from the state the login process left it
in (``Handoff``).  Dovecot's imap/pop3 processes do the same per user, with ``service_count = 1``
by default; here a few asyncio processes per identity serve many sessions each.  The service's
``vsz_limit`` is our RLIMIT_AS (exit 83, which the master explains, when it is hit); each
session's end is told to the master, which counts sessions for the service's limits and for
``mail_max_userip_connections`` (``_USERIP_OTHERS``).

SIGTERM (``dovecot stop``): with ``shutdown_clients = yes`` the sessions are cancelled, otherwise
they finish; SIGHUP (a reload): no new sessions, the open ones finish.  End of file on the
master's channel: the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

from pydovecot.log import Log, LogSink

from .admin import start_worker_admin, verbose_proctitle
from .handoff import Channel, ChannelClosed, Handoff
from .privileges import Identity, become
from .worker_process import FATAL_DEFAULT, FATAL_OUTOFMEM, _apply_vsz_limit

# The sessions of the user and address that the master counts in other mail processes
# (mail_max_userip_connections is global, as Dovecot's anvil counts it), for the session being
# resumed in this task.
_USERIP_OTHERS: contextvars.ContextVar[int] = contextvars.ContextVar("userip_others", default=0)

# protocol -> (module, class) whose ``resume(reader, writer, handoff)`` continues a session
MAIL_SERVICES = {
    "imap": ("pydovecot.imap.server", "ImapService"),
    "pop3": ("pydovecot.pop3.server", "Pop3Service"),
}


@dataclass
class MailJob:
    protocol: str
    identity: Identity
    tree: object
    sink: LogSink
    base_dir: str
    channel_fd: int
    shutdown_clients: bool


def command(config_path: str, protocol: str, identity: Identity, channel_fd: int) -> list[str]:
    """The command line the master starts a mail process with."""
    return [sys.executable, "-m", "pydovecot.master.mail_process", config_path, protocol,
            str(identity.uid), str(identity.gid), str(channel_fd)]


def main(argv: list[str]) -> int:
    """In the fresh interpreter, as root."""
    from pydovecot.log import bridge
    from pydovecot.storage.access import preload_modules

    from .server import MasterError, load_tree
    from .services import read_master_settings

    config_path, protocol, uid, gid, channel_fd = argv
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)  # the mask (inherited, TERM/HUP blocked) holds them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C at a terminal: the master stops us
    # `doveadm log reopen`: the log files are root's, a mail process could not reopen them
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    try:
        tree = load_tree(config_path)
    except MasterError as e:
        print(f"{protocol}: Fatal: {e}", file=sys.stderr)
        return FATAL_DEFAULT
    root = tree.lookup()  # type: ignore[attr-defined]
    sink = LogSink.from_settings(root)
    bridge.install(sink, debug=bool(root.get("mail_debug")))
    settings = read_master_settings(tree)
    log = Log(sink).for_service(protocol, settings=tree.lookup(service=protocol))  # type: ignore[attr-defined]
    spec = settings.service(protocol)
    if spec is not None and spec.vsz_limit > 0:
        _share_malloc_arenas()
        _apply_vsz_limit(spec, log)  # service { vsz_limit }: the master explains an exit 83
    try:
        preload_modules()  # after setuid, a Python the user cannot read could import nothing more
        job = MailJob(protocol, Identity(int(uid), int(gid), uid), tree, sink, settings.base_dir, int(channel_fd),
                      settings.shutdown_clients)
        return asyncio.run(MailProcess(job, log).run())
    except MemoryError:
        with contextlib.suppress(BaseException):
            log.fatal("Out of memory")
        return FATAL_OUTOFMEM


class MailProcess:
    def __init__(self, job: MailJob, log: Log) -> None:
        self.job = job
        self.log = log
        self.service: Any = None
        self.sessions: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.channel: Channel | None = None
        self.receiver: asyncio.Task[None] | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        reporter = await start_worker_admin(self.job.base_dir, self.job.protocol, log=self.log,
                                            verbose_proctitle=verbose_proctitle(self.job.tree))
        try:
            become(self.job.identity)
        except OSError as e:
            self.log.fatal(f"Couldn't drop privileges: {e}")
            return FATAL_DEFAULT
        channel = self.channel = Channel.from_fd(self.job.channel_fd)
        loop.add_signal_handler(signal.SIGTERM, self._stop, self.job.shutdown_clients)
        loop.add_signal_handler(signal.SIGHUP, self._stop, False)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        module_name, class_name = MAIL_SERVICES[self.job.protocol]
        cls = getattr(importlib.import_module(module_name), class_name)
        self.service = await cls.create_mail(self.job.tree)
        _count_userip_globally(self.service)
        # the channel stays open after a stop: the master still hears which sessions end
        self.receiver = asyncio.ensure_future(self._receive(channel))
        with contextlib.suppress(asyncio.CancelledError):
            await self.receiver
        while self.sessions:
            await asyncio.gather(*self.sessions, return_exceptions=True)
        channel.close()
        # leaving: a stop now must not kill us on the way out (the loop's handlers go with it)
        signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM, signal.SIGHUP))
        with contextlib.suppress(Exception):
            await self.service.close()
        await reporter.close()
        return 0

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.sessions.add(task)
        task.add_done_callback(self.sessions.discard)

    async def _receive(self, channel: Channel) -> None:
        while not self.stopping:
            received = await channel.receive()
            if received is None:
                return  # the master is gone: finish what we have
            message, fds = received
            if "log_reopen" in message:
                self.log.sink.adopt(list(message["log_reopen"]), fds)
                continue
            self._spawn(self._session(channel, message, fds))

    def _stop(self, cancel: bool) -> None:
        self.stopping = True
        if cancel:
            for task in list(self.sessions):
                task.cancel()
        if self.receiver is not None:
            self.receiver.cancel()  # no new sessions

    async def _session(self, channel: Channel, message: dict[str, Any], fds: list[int]) -> None:
        for extra in fds[1:]:
            os.close(extra)
        if not fds:
            with contextlib.suppress(ChannelClosed):
                await channel.reply(message, {"ok": False, "error": "no descriptor"})
            return
        sock = socket.socket(fileno=fds[0])
        with contextlib.suppress(ChannelClosed):
            await channel.reply(message, {"ok": True, "mail_pid": os.getpid()})
        handoff = Handoff.from_message(message)
        _USERIP_OTHERS.set(int(message.get("userip_others") or 0))
        try:
            await self._serve_session(sock, handoff)
        finally:
            with contextlib.suppress(ChannelClosed):
                await channel.send({"ended": handoff.connection_info().session_id})

    async def _serve_session(self, sock: socket.socket, handoff: Handoff) -> None:
        loop = asyncio.get_running_loop()
        try:
            sock.setblocking(False)
            reader = asyncio.StreamReader()
            made: list[asyncio.StreamWriter] = []
            protocol = asyncio.StreamReaderProtocol(reader, lambda _r, w: made.append(w))
            await loop.connect_accepted_socket(lambda: protocol, sock)
        except OSError:
            sock.close()
            return
        writer = made[0]
        try:
            await self.service.resume(reader, writer, handoff)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - one session's failure (a MemoryError of vsz_limit too) must not end the process
            self.log.error(f"{type(e).__name__}: {e}")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _share_malloc_arenas() -> None:
    """Under vsz_limit (256 MB by default): glibc reserves 64 MB of address space for each
    thread's own malloc arena, so a mail process with a few storage threads would reach the
    limit with almost nothing allocated.  With the GIL, threads gain little from arenas of
    their own: one for the whole process (M_ARENA_MAX, before any thread exists)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX


def _count_userip_globally(service: Any) -> None:
    """IMAP counts mail_max_userip_connections in its service object (its own sessions); the
    master adds those of the user and address in other mail processes (``_USERIP_OTHERS``)."""
    local = getattr(service, "connection_slot", None)
    if local is None:
        return

    def connection_slot(user: str, remote_ip: str | None, limit: int) -> bool:
        others = _USERIP_OTHERS.get()
        if limit and others:
            return others < limit and bool(local(user, remote_ip, limit - others))
        return bool(local(user, remote_ip, limit))

    service.connection_slot = connection_slot


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
