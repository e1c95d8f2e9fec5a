"""Login processes' template: ``python -m pydovecot.master.login_process CONFIG JOB``.

Under privilege separation (``separation.py``) the login processes are the ones strangers talk
to before they have proved anything, so they must not hold what the master holds: a fork of the
master would carry the auth cache, the passdb's data (every user's password hash once a
passwd-file has been read), SQL credentials.  Dovecot execs imap-login; an exec'ed Python takes
a second to start, too slow for ``service_count = 1`` (a process per client, Dovecot's default
for login services).  So the master starts, per login service, one fresh interpreter -- this
template -- passing it only descriptors (the service's listening sockets, the master's life
pipe, a control socket) and a JSON description of the service.  Still root, the template reads
the configuration, opens the log files, builds the TLS contexts (the key is often root's) and
imports everything; then it keeps the service's pool of login processes with the ordinary
``WorkerSupervisor``, forking each from its own clean, single-threaded memory.  For each login
process it makes the hand-off and auth socket pairs and sends the master their other ends.  A
login process connects its auth client and becomes ``default_login_user`` before it accepts.

The master supervises the template like a worker (one per login service): SIGHUP (reload)
retires its login processes and it exits when they have finished (the master has started a new
template from the new configuration); SIGTERM stops them; when the master dies, the login
processes stop accepting and finish their sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import json
import signal
import socket
import sys
from dataclasses import asdict
from typing import Any

from .handoff import Channel, ChannelClosed
from .listeners import BoundListener
from .privileges import login_identity
from .separation import LOGIN_SERVICES, prepare_login
from .services import ListenerSpec, ServiceSpec
from .worker_process import FATAL_DEFAULT, WorkerJob
from .workers import WorkerSupervisor, fork_worker


def command(config_path: str, job: WorkerJob, control_fd: int) -> tuple[list[str], list[int]]:
    """(the command line, the descriptors it needs) for the template of ``job``'s service."""
    listeners = [{"spec": asdict(b.spec), "fd": b.sock.fileno() if b.sock is not None else None,
                  "fifo_fd": b.fifo_fd} for b in job.listeners]
    description = {"spec": asdict(job.spec), "listeners": listeners, "base_dir": job.base_dir,
                   "shutdown_clients": job.shutdown_clients, "life_fd": job.life_fd, "control_fd": control_fd}
    fds = [fd for item in listeners for fd in (item["fd"], item["fifo_fd"]) if fd is not None]
    fds += [fd for fd in (job.life_fd, control_fd) if fd is not None]
    return [sys.executable, "-m", "pydovecot.master.login_process", config_path, json.dumps(description)], fds


def _service_spec(data: dict[str, Any]) -> ServiceSpec:
    return ServiceSpec(**{**data, "listeners": tuple(ListenerSpec(**item) for item in data["listeners"])})


def pool_size(spec: ServiceSpec) -> int:
    """process_min_avail login processes (bounded by process_limit), at least one."""
    return max(1, min(spec.process_min_avail, spec.process_limit) if spec.process_limit else 1)


def main(argv: list[str]) -> int:
    """In the fresh interpreter, as root."""
    import importlib

    from pydovecot.log import Log, LogSink, bridge
    from pydovecot.storage.access import preload_modules

    from .server import MasterError, load_tree
    from .tls import TLSConfigError, TLSSelector

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)  # the mask (inherited, TERM/HUP blocked) holds them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C at a terminal: the master stops us
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # until run() handles log reopen
    config_path, blob = argv
    data = json.loads(blob)
    try:
        tree = load_tree(config_path)
    except MasterError as e:
        print(f"{data['spec']['name']}: Fatal: {e}", file=sys.stderr)
        return FATAL_DEFAULT
    root = tree.lookup()  # type: ignore[attr-defined]
    sink = LogSink.from_settings(root)
    bridge.install(sink, debug=bool(root.get("auth_debug")))
    for module in ("pydovecot.master.auth_service", "pydovecot.master.protocol_services"):
        importlib.import_module(module)  # the service registry, as in the master
    spec = _service_spec(data["spec"])
    listeners = [BoundListener(ListenerSpec(**item["spec"]),
                               socket.socket(fileno=item["fd"]) if item["fd"] is not None else None,
                               item["fifo_fd"]) for item in data["listeners"]]
    log = Log(sink).for_service(spec.name, settings=tree.lookup(service=spec.protocol or None))  # type: ignore[attr-defined]
    try:
        tls = TLSSelector(tree, None, warn=log.warning).context()  # ssl = yes listeners (as the master's)
    except TLSConfigError as e:
        log.error(str(e))
        tls = None
    preload_modules()  # after setuid, a Python dovenull cannot read could import nothing more
    _warm_for_forks()
    # Everything made so far lives as long as we do: out of the collector's sight, a collection
    # here or in a login process no longer writes to (and so copies) every page a fork shares
    gc.collect()
    gc.freeze()
    job = WorkerJob(spec, listeners, tree, sink, data["base_dir"], tls, data["shutdown_clients"], "")
    template = LoginTemplate(job, log, data["control_fd"], data["life_fd"])
    return asyncio.run(template.run())


def _warm_for_forks() -> None:
    """Work every login process would repeat, done once here before the forks (with
    ``service_count = 1`` a login process per client: this was a third of its CPU time)."""
    import ctypes.util

    with contextlib.suppress(ImportError):
        import setproctitle  # noqa: F401 - imported by each process's first title otherwise
    # find_library runs `ldconfig -p` on every call (the IMAP service's inotify watcher and the
    # process title ask for libc); asyncio's add_signal_handler rebuilds valid_signals() as
    # enums each time.  Both answers are fixed for our life.
    ctypes.util.find_library = functools.lru_cache(maxsize=None)(ctypes.util.find_library)
    ctypes.util.find_library("c")
    signal.valid_signals = functools.lru_cache(maxsize=1)(signal.valid_signals)
    signal.valid_signals()


class LoginTemplate:
    def __init__(self, job: WorkerJob, log: Any, control_fd: int, master_life_fd: int | None) -> None:
        self.job = job
        self.log = log
        self.control_fd = control_fd
        self.master_life_fd = master_life_fd
        self.login_as = login_identity(job.tree.lookup())  # type: ignore[attr-defined]
        self.protocol = LOGIN_SERVICES[job.spec.name]
        self.control: Channel | None = None
        self.supervisor: WorkerSupervisor | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.leaving: asyncio.Task[None] | None = None
        self.done = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self.control = Channel.from_fd(self.control_fd)
        self.supervisor = WorkerSupervisor(self.log, fork=self._fork)
        loop.add_signal_handler(signal.SIGHUP, self._leave, False)
        loop.add_signal_handler(signal.SIGTERM, self._leave, True)
        loop.add_signal_handler(signal.SIGUSR1, self._reopen_log)  # `doveadm log reopen`, passed on
        # a stop or reload that came while we started (blocked since spawn): no pool at all
        early = signal.sigpending() & {signal.SIGTERM, signal.SIGHUP}
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if self.master_life_fd is not None:
            loop.add_reader(self.master_life_fd, self._master_gone)
        if early:
            self._leave(signal.SIGTERM in early)
        else:
            self.supervisor.start(self.job.spec, pool_size(self.job.spec), self.job)
        await self.done.wait()
        # leaving: a stop now must not kill us on the way out (the loop's handlers go with it)
        signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM, signal.SIGHUP))
        self.control.close()
        return 0

    def _reopen_log(self) -> None:
        """Still root: open the log files again; login processes forked from now on write there
        (the running ones serve one client each and keep theirs)."""
        try:
            self.job.sink.reopen_from(self.job.tree.lookup())  # type: ignore[attr-defined]
        except OSError as e:
            self.log.error(f"Can't reopen log files: {e}")

    def _fork(self, job: WorkerJob) -> int:
        master_channel, child_channel = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        master_auth, child_auth = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        channel_fd, auth_fd = child_channel.fileno(), child_auth.fileno()
        # config_path=None: as dovenull it could not reopen root's log files at a reload
        login_job = dataclasses.replace(
            job, keep_fds=(channel_fd, auth_fd), config_path=None, drop_to=self.login_as,
            prepare=functools.partial(prepare_login, channel_fd, auth_fd, job.tree, self.protocol, self.log))
        # the child keeps TERM/HUP blocked until its loop handles them (worker_process.child_main)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM, signal.SIGHUP))
        try:
            pid = fork_worker(login_job)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            child_channel.close()
            child_auth.close()
        task = asyncio.ensure_future(self._tell_master(pid, master_channel, master_auth))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return pid

    async def _tell_master(self, pid: int, channel: socket.socket, auth: socket.socket) -> None:
        """The master serves the other ends: the login process's hand-offs and its auth."""
        try:
            assert self.control is not None
            await self.control.send({"login": pid}, [channel.fileno(), auth.fileno()])
        except ChannelClosed:
            pass
        finally:
            channel.close()
            auth.close()

    def _master_gone(self) -> None:
        assert self.master_life_fd is not None
        asyncio.get_running_loop().remove_reader(self.master_life_fd)
        self._leave(False)

    def _leave(self, stop: bool) -> None:
        """SIGHUP (reload, or the master gone): the login processes finish and leave; SIGTERM:
        they are stopped (shutdown_clients).  We exit when none is left."""
        if self.leaving is not None and not stop:
            return
        self.leaving = asyncio.ensure_future(self._wait_children(stop))

    async def _wait_children(self, stop: bool) -> None:
        assert self.supervisor is not None
        if stop:
            self.supervisor.signal_stop()
            await self.supervisor.wait_stopped(shutdown_clients=self.job.shutdown_clients)
        else:
            self.supervisor.remove(self.job.spec.name)
            await self.supervisor.wait_stopped(shutdown_clients=False)
        self.done.set()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
