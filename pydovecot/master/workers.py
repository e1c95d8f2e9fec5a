"""The process model: worker processes sharing the master's listening sockets.

The master binds every listener (as root, before daemonizing), then forks for each service a
pool of workers; each inherits that service's sockets and runs its own asyncio loop
(``worker_process.py``).  The kernel hands each new connection to one of the workers waiting in
accept().  The master supervises: a worker that dies is logged as Dovecot logs it and replaced;
SIGHUP forks a fresh generation from the new configuration and retires the old one (it stops
accepting and finishes its sessions); SIGTERM stops them all.  docs/process-model.md has the
mapping of Dovecot's settings.

Which services get workers (``plan_workers``):
- ``PYDOVECOT_PROCESS_MODEL=single``: none -- one process serves everything (tests, tiny installs);
- ``auto`` (the default): a service gets ``process_min_avail`` workers (Dovecot's "keep this
  many processes started"; its own high-performance recipe sets it to the number of cores);
- ``workers``: every service gets ``process_min_avail`` workers, or one per CPU when that is 0.
Always bounded by ``process_limit``; a service with ``process_limit = 1`` or with shared state
(auth) stays in the master.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydovecot.log import Log

from .services import ServiceSpec
from .worker_process import FATAL_OUTOFMEM, WorkerJob, child_main

PROCESS_MODEL_ENV = "PYDOVECOT_PROCESS_MODEL"
MODELS = ("auto", "single", "workers", "separated")
STOP_GRACE = 10.0  # seconds a stopping worker gets before SIGKILL (shutdown_clients = yes)
_QUICK_DEATH = 1.0  # a worker that fails sooner than this after fork is throttled
_MAX_THROTTLE = 60.0


def process_model(environ: Mapping[str, str] | None = None) -> str:
    value = (os.environ if environ is None else environ).get(PROCESS_MODEL_ENV, "auto") or "auto"
    if value not in MODELS:
        raise ValueError(f"{PROCESS_MODEL_ENV}={value}: expected one of {', '.join(MODELS)}")
    return value


def plan_workers(spec: ServiceSpec, *, model: str, shared_state: bool, cpus: int | None = None) -> int:
    """How many worker processes serve ``spec``; 0 means the master serves it itself."""
    if model in ("single", "separated") or shared_state or spec.process_limit <= 1:
        return 0
    wanted = spec.process_min_avail
    if wanted == 0 and model == "workers":
        wanted = cpus or os.cpu_count() or 1
    return min(wanted, spec.process_limit)


def exit_message(service: ServiceSpec, pid: int, status: int) -> str | None:
    """Dovecot's words for a child's end (service-process.c), None for a clean exit.

    Real Dovecot 2.3.19 logs them with the child's prefix as ``Fatal: master: ...``
    (tests/master/goldens/child_exit_real_dovecot.txt)."""
    head = f"master: service({service.name}): child {pid}"
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return f"{head} killed with signal {signum}{_core_note(signum, status)}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0
    if code == 0:
        return None
    if code == FATAL_OUTOFMEM and service.vsz_limit:
        return (f"{head} returned error {code} (Out of memory (service {service.name} {{ vsz_limit="
                f"{service.vsz_limit // (1024 * 1024)} MB }}, you may need to increase it) - set "
                "CORE_OUTOFMEM=1 environment to get core dump)")
    return f"{head} returned error {code}"


def _core_note(signum: int, status: int) -> str:
    if signum not in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
        return ""
    if os.WCOREDUMP(status):
        return " (core dumped)"
    soft, _ = resource.getrlimit(resource.RLIMIT_CORE)
    if soft == 0:
        return " (core dumps disabled - https://dovecot.org/bugreport.html#coredumps)"
    return " (core not dumped - https://dovecot.org/bugreport.html#coredumps)"


def _failed_at_start(status: int) -> bool:
    """An error exit right after fork: the service could not start (a kill -9 is no such thing)."""
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0


def collect_exit(pid: int, pidfd: int) -> int:
    """A child watched through its pidfd has ended: stop watching, and collect its wait status
    (0 when it was already collected)."""
    asyncio.get_running_loop().remove_reader(pidfd)
    os.close(pidfd)
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


async def kill_after_grace(all_gone: asyncio.Event, pids: Callable[[], list[int]]) -> None:
    """Wait STOP_GRACE for ``all_gone``; then SIGKILL whatever ``pids()`` still lists and wait
    for it once more: nothing outlives a stopping master."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_gone.wait(), STOP_GRACE)
    for pid in pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_gone.wait(), STOP_GRACE)


def fork_worker(job: WorkerJob) -> int:
    """fork(): the child runs ``child_main`` and never comes back."""
    pid = os.fork()
    if pid:
        return pid
    code = 89
    try:
        code = child_main(job)
    except BaseException:  # noqa: BLE001 - nothing may unwind into the master's stack
        code = 89
    finally:
        os._exit(code)
    return 0  # pragma: no cover - os._exit does not return


@dataclass
class Worker:
    pid: int
    pidfd: int
    started: float
    retiring: bool = False


@dataclass
class Pool:
    """The workers of one service."""

    spec: ServiceSpec
    size: int
    job: WorkerJob
    workers: dict[int, Worker] = field(default_factory=dict)
    throttle: float = 0.0
    respawn: asyncio.TimerHandle | None = None

    def live(self) -> list[Worker]:
        return [w for w in self.workers.values() if not w.retiring]


class WorkerSupervisor:
    """The master's side: forks, watches (a pidfd per child), replaces, retires, stops."""

    def __init__(self, log: Log, fork: Callable[[WorkerJob], int] = fork_worker) -> None:
        self.log = log
        self.fork = fork
        self.pools: dict[str, Pool] = {}
        self.stopping = False
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        # Every worker keeps the read end; only the master holds the write end, so when the master
        # is gone (even by kill -9) the workers read end-of-file and stop accepting.
        self.life_r, self._life_w = os.pipe()
        # Workers that reached service_count write their pid here: replaced at once.
        self._status_r, self._status_w = os.pipe()
        os.set_blocking(self._status_r, False)
        self._status_buf = b""
        self._status_watched = False

    def services(self) -> set[str]:
        return set(self.pools)

    def pids(self) -> list[int]:
        return [pid for pool in self.pools.values() for pid in pool.workers]

    def start(self, spec: ServiceSpec, size: int, job: WorkerJob) -> None:
        pool = Pool(spec, size, job)
        self.pools[spec.name] = pool
        self._fill(pool)

    def replace(self, spec: ServiceSpec, size: int, job: WorkerJob) -> None:
        """A reload: new workers from the new settings first, then the old ones retire."""
        pool = self.pools.get(spec.name)
        if pool is None:
            self.start(spec, size, job)
            return
        old = pool.live()
        for worker in old:  # not counted any more: the new generation is forked in full
            worker.retiring = True
        pool.spec, pool.size, pool.job, pool.throttle = spec, size, job, 0.0
        self._cancel_respawn(pool)
        self._fill(pool)
        for worker in old:
            self._retire(worker, signal.SIGHUP, force=True)

    def remove(self, name: str) -> None:
        """The service is gone from the configuration (or moved to the master)."""
        pool = self.pools.get(name)
        if pool is None:
            return
        pool.size = 0
        self._cancel_respawn(pool)
        for worker in pool.live():
            self._retire(worker, signal.SIGHUP)

    def signal_stop(self) -> None:
        """SIGTERM to all: they close their sockets at once and cancel (or finish) their sessions."""
        self.stopping = True
        for pool in self.pools.values():
            self._cancel_respawn(pool)
            for worker in pool.workers.values():
                self._retire(worker, signal.SIGTERM, force=True)

    async def wait_stopped(self, *, shutdown_clients: bool) -> None:
        """With shutdown_clients, a worker still there after STOP_GRACE is killed: nothing
        outlives the master.  Without, the master waits for the sessions, as it does itself."""
        if not shutdown_clients:
            await self._all_gone.wait()
            return
        await kill_after_grace(self._all_gone, self.pids)

    # --- internals --------------------------------------------------------------------------

    def _fill(self, pool: Pool) -> None:
        while not self.stopping and len(pool.live()) < pool.size:
            self._spawn(pool)

    def _spawn(self, pool: Pool) -> None:
        pool.job.life_fd = self.life_r
        pool.job.status_fd = self._status_w
        if not self._status_watched:
            asyncio.get_running_loop().add_reader(self._status_r, self._status)
            self._status_watched = True
        pid = self.fork(pool.job)
        pidfd = os.pidfd_open(pid)
        pool.workers[pid] = Worker(pid, pidfd, time.monotonic())
        self._all_gone.clear()
        asyncio.get_running_loop().add_reader(pidfd, self._reap, pool.spec.name, pid)

    def _status(self) -> None:
        try:
            self._status_buf += os.read(self._status_r, 4096)
        except (BlockingIOError, InterruptedError):
            return
        *lines, self._status_buf = self._status_buf.split(b"\n")
        for line in lines:
            pid = int(line) if line.strip().isdigit() else 0
            for pool in self.pools.values():
                worker = pool.workers.get(pid)
                if worker is not None and not worker.retiring:
                    worker.retiring = True  # finishing its sessions; no longer counted
                    if not self.stopping:
                        self._fill(pool)

    def _retire(self, worker: Worker, signum: int, *, force: bool = False) -> None:
        if worker.retiring and not force:
            return
        worker.retiring = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signum)

    def _reap(self, service: str, pid: int) -> None:
        pool = self.pools[service]
        worker = pool.workers.pop(pid)
        status = collect_exit(pid, worker.pidfd)
        message = exit_message(pool.spec, pid, status)
        if message is not None:
            self.log.for_service(service).fatal(message)
        if not self.pids():
            self._all_gone.set()
        if self.stopping or worker.retiring:
            return
        if _failed_at_start(status) and time.monotonic() - worker.started < _QUICK_DEATH:
            self._throttle(pool)
            return
        self._fill(pool)

    def _throttle(self, pool: Pool) -> None:
        """A worker that fails at once would fail again: Dovecot waits before trying."""
        if pool.respawn is not None:  # its siblings failed the same way a moment ago
            return
        pool.throttle = min(_MAX_THROTTLE, max(2.0, pool.throttle * 2))
        self.log.error(f"service({pool.spec.name}): command startup failed, throttling for "
                       f"{int(pool.throttle)} secs")
        pool.respawn = asyncio.get_running_loop().call_later(pool.throttle, self._after_throttle, pool)

    def _after_throttle(self, pool: Pool) -> None:
        pool.respawn = None
        self._fill(pool)

    def _cancel_respawn(self, pool: Pool) -> None:
        if pool.respawn is not None:
            pool.respawn.cancel()
            pool.respawn = None
