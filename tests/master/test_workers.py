"""The process model: worker processes sharing the master's sockets (pydovecot/master/workers.py).

A master subprocess serves the ``wecho`` test service (worker_echo_service.py, which answers PID)
with 4 workers; the tests look at which processes answer, kill one, reload, stop.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pydovecot.master.services import ServiceSpec
from pydovecot.master.workers import exit_message, plan_workers, process_model
from tests.master.harness import ROOT, TIMEOUT, free_port
from tests.support import server as our_server

GOLDENS = Path(__file__).parent / "goldens"


# --- the mapping, without processes ------------------------------------------------------------

def spec(**kw: int) -> ServiceSpec:
    values = {"process_limit": 100, "client_limit": 1000, "service_count": 0, "process_min_avail": 0,
              "vsz_limit": 0, **kw}
    return ServiceSpec("imap", "imap", (), values["process_limit"] * values["client_limit"], **values)


def test_plan_follows_process_min_avail_bounded_by_process_limit() -> None:
    assert plan_workers(spec(process_min_avail=4), model="auto", shared_state=False) == 4
    assert plan_workers(spec(process_min_avail=8, process_limit=3), model="auto", shared_state=False) == 3
    assert plan_workers(spec(), model="auto", shared_state=False) == 0  # on demand: the master serves
    assert plan_workers(spec(), model="workers", shared_state=False, cpus=6) == 6
    assert plan_workers(spec(process_limit=2), model="workers", shared_state=False, cpus=6) == 2


def test_plan_keeps_single_process_cases_in_the_master() -> None:
    assert plan_workers(spec(process_min_avail=4), model="single", shared_state=False) == 0
    assert plan_workers(spec(process_min_avail=4), model="workers", shared_state=True) == 0  # auth
    assert plan_workers(spec(process_min_avail=4, process_limit=1), model="workers", shared_state=False) == 0


def test_process_model_from_environment() -> None:
    assert process_model({}) == "auto"
    assert process_model({"PYDOVECOT_PROCESS_MODEL": "single"}) == "single"
    with pytest.raises(ValueError, match="PYDOVECOT_PROCESS_MODEL=many"):
        process_model({"PYDOVECOT_PROCESS_MODEL": "many"})


def test_exit_messages_have_real_dovecots_words() -> None:
    golden = [line for line in (GOLDENS / "child_exit_real_dovecot.txt").read_text().splitlines()
              if not line.startswith("#")]
    imap_login = ServiceSpec("imap-login", "imap", (), 1)
    ours = []
    for line in golden:
        pid = int(re.search(r"child (\d+)", line).group(1))  # type: ignore[union-attr]
        signum = int(re.search(r"signal (\d+)", line).group(1))  # type: ignore[union-attr]
        status = signum  # waitpid status of a child killed by signum without a core
        ours.append(f"imap-login: Fatal: {exit_message(imap_login, pid, status)}")
    if "core dumps disabled" in golden[1] and _core_limit() != 0:
        golden[1] = golden[1].replace("core dumps disabled", "core not dumped")
    assert ours == golden
    assert exit_message(imap_login, 7, 89 << 8) == "master: service(imap-login): child 7 returned error 89"
    assert exit_message(imap_login, 7, 0) is None


def _core_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_CORE)[0]


# --- a master with workers -----------------------------------------------------------------------

@dataclass
class WEnv:
    dir: Path
    conf: Path
    base_dir: Path
    log: Path
    port: int

    def write_conf(self, extra: str = "", greeting: str = "gen1") -> None:
        self.conf.write_text(f"""\
protocols = imap
base_dir = {self.base_dir}
listen = 127.0.0.1
log_path = {self.log}
login_greeting = {greeting}
ssl = no
shutdown_clients = yes
service wecho {{
  executable = wecho
  inet_listener wecho {{
    port = {self.port}
  }}
  unix_listener wecho-sock {{
    mode = 0600
  }}
  process_min_avail = 4
{extra}
}}
""")

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def wenv(tmp_path: Path) -> WEnv:
    env = WEnv(tmp_path, tmp_path / "dovecot.conf", tmp_path / "run", tmp_path / "dovecot.log", free_port())
    env.write_conf()
    return env


def child_env(**extra: str) -> dict[str, str]:
    modules = "pydovecot.master.auth_service,tests.master.worker_echo_service"
    # The worker model, named: as root the default model is privilege separation.
    env = {**os.environ, "PYDOVECOT_ONLY_SERVICE_MODULES": modules, "PYTHONPATH": str(ROOT),
           "PYDOVECOT_PROCESS_MODEL": "workers", **extra}
    return env


@contextlib.contextmanager
def master(env: WEnv, **extra_env: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = our_server.start(env.conf, env=child_env(**extra_env), text=False, stdout=subprocess.DEVNULL)
    try:
        until(lambda: "starting up" in env.log_text() and (env.base_dir / "master.pid").exists(),
              lambda: f"master did not start: {env.log_text()}", proc)
        yield proc
    finally:
        our_server.stop(proc, TIMEOUT, close=False)
        for pid in workers_of(proc.pid):  # never leave a worker behind, even when a test failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.stderr:
            proc.stderr.close()


def until(check: object, what: object, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():  # type: ignore[operator]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"master exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(what() if callable(what) else what)
        time.sleep(0.05)


def workers_of(master_pid: int) -> set[int]:
    """Live children of the master (zombies are not workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master_pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


class Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rwb", buffering=0)
        greeting = self.file.readline().decode().split()
        self.greeting, self.pid = greeting[1], int(greeting[2])

    def say(self, line: str) -> str:
        self.file.write(f"{line}\r\n".encode())
        return self.file.readline().decode().strip()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@contextlib.contextmanager
def client(env: WEnv, *, unix: bool = False) -> Iterator[Client]:
    if unix:
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(TIMEOUT)
        sock.connect(str(env.base_dir / "wecho-sock"))
    else:
        sock = socket.create_connection(("127.0.0.1", env.port), timeout=TIMEOUT)
    c = Client(sock)
    try:
        yield c
    finally:
        c.close()


def test_connections_spread_over_four_workers(wenv: WEnv) -> None:
    # client_limit = 1: a worker with a client leaves the next connection to a sibling, so four
    # connections held open at once must be served by four different processes.
    wenv.write_conf(extra="  client_limit = 1\n")
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        with contextlib.ExitStack() as stack:
            clients = [stack.enter_context(client(wenv, unix=i % 2 == 1)) for i in range(4)]
            pids = {c.pid for c in clients}
            assert all(c.say(f"hello {i}") == f"hello {i}" for i, c in enumerate(clients))
            assert all(int(c.say("PID")) == c.pid for c in clients)
        assert len(pids) == 4
        assert pids <= workers_of(proc.pid) and proc.pid not in pids


def test_a_killed_worker_is_replaced_and_logged(wenv: WEnv) -> None:
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        before = workers_of(proc.pid)
        with client(wenv) as c:
            victim = c.pid
        os.kill(victim, signal.SIGKILL)
        line = f"wecho: Fatal: master: service(wecho): child {victim} killed with signal 9\n"
        until(lambda: line in wenv.log_text(), lambda: f"not logged: {line!r}\n{wenv.log_text()}")
        until(lambda: len(workers_of(proc.pid)) == 4 and victim not in workers_of(proc.pid),
              "the killed worker was not replaced")
        assert len(workers_of(proc.pid) - before) == 1
        with client(wenv) as c:
            assert c.say("after") == "after" and c.pid != victim
        assert "throttling" not in wenv.log_text()


def test_reload_replaces_workers_without_dropping_an_open_connection(wenv: WEnv) -> None:
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        old_workers = workers_of(proc.pid)
        with client(wenv) as old:
            assert old.greeting == "gen1"
            wenv.write_conf(greeting="gen2")
            proc.send_signal(signal.SIGHUP)

            def new_generation_serves() -> bool:
                with client(wenv) as c:
                    return c.greeting == "gen2"

            until(new_generation_serves, "the new generation does not serve")
            until(lambda: not any(alive(pid) for pid in old_workers - {old.pid}),
                  "retired workers without clients did not leave")
            assert old.say("still here") == "still here"  # the open session goes on, in its process
            assert old.pid in workers_of(proc.pid)
            assert len(workers_of(proc.pid) - old_workers) == 4
        until(lambda: not alive(old.pid), "the retired worker did not leave after its client")
        assert "Fatal" not in wenv.log_text()


def test_stop_leaves_no_processes(wenv: WEnv) -> None:
    with master(wenv) as proc, client(wenv) as c:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        pids = workers_of(proc.pid)
        assert c.say("x") == "x"
        stopped = subprocess.run([sys.executable, "-m", "pydovecot", "-c", str(wenv.conf), "stop"],
                                 capture_output=True, timeout=TIMEOUT, cwd=ROOT, env=child_env())
        assert stopped.returncode == 0
        proc.wait(timeout=TIMEOUT)
        assert proc.returncode == 0
        assert c.file.readline() == b""  # shutdown_clients = yes: the session was closed
    assert not any(alive(pid) for pid in pids)
    assert not (wenv.base_dir / "master.pid").exists() and not (wenv.base_dir / "wecho-sock").exists()


def test_service_count_one_means_one_connection_per_process(wenv: WEnv) -> None:
    wenv.write_conf(extra="  service_count = 1\n  process_min_avail = 2\n")
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 2, "2 workers did not start")
        seen = []
        for i in range(3):
            with client(wenv) as c:
                assert c.say(f"n{i}") == f"n{i}"
                seen.append(c.pid)
            until(lambda pid=seen[-1]: not alive(pid), "a service_count=1 worker stayed")  # type: ignore[misc]
        assert len(set(seen)) == 3
        until(lambda: len(workers_of(proc.pid)) == 2, "workers were not replaced")
        assert "Fatal" not in wenv.log_text()


def test_vsz_limit_is_the_workers_address_space_limit(wenv: WEnv) -> None:
    wenv.write_conf(extra="  vsz_limit = 400M\n")
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        with client(wenv) as c:
            limits = Path(f"/proc/{c.pid}/limits").read_text()
            assert re.search(r"Max address space\s+419430400\s+419430400 ", limits), limits
            c.say("ALLOC")  # 512 MB does not fit: the handler fails, the worker goes on
        until(lambda: "wecho: Error: MemoryError" in wenv.log_text(), "MemoryError not logged")
        with client(wenv) as c:
            assert c.say("fine") == "fine"


def test_single_process_model_serves_in_the_master(wenv: WEnv) -> None:
    with master(wenv, PYDOVECOT_PROCESS_MODEL="single") as proc, client(wenv) as c:
        assert c.pid == proc.pid
        assert workers_of(proc.pid) == set()


def test_workers_authenticate_through_the_masters_auth_service(wenv: WEnv) -> None:
    # auth has shared state (cache, penalty): it stays in the master and the workers reach it on
    # the auth-client socket -- one auth for all of them.
    users = wenv.dir / "users"
    users.write_text("alice@example.test:{PLAIN}secret::::::\n")
    wenv.write_conf()
    wenv.conf.write_text(wenv.conf.read_text() + f"passdb {{\n  driver = passwd-file\n  args = {users}\n}}\n"
                         "userdb {\n  driver = static\n  args = uid=vmail gid=vmail home=/tmp/%u\n}\n")
    with master(wenv) as proc, client(wenv) as c:
        assert c.pid != proc.pid
        assert c.say("AUTH_SOCKET") == str(wenv.base_dir / "auth-client")
        assert c.say("AUTH alice@example.test secret") == f"OK alice@example.test spid={proc.pid}"
        assert c.say("AUTH alice@example.test wrong").startswith("FAIL alice@example.test ")


def test_a_service_failing_to_start_in_workers_is_throttled(wenv: WEnv) -> None:
    port = free_port()
    wenv.write_conf()
    wenv.conf.write_text(wenv.conf.read_text() + f"service wbroken {{\n  executable = wbroken\n"
                         f"  process_min_avail = 2\n  inet_listener b {{\n    port = {port}\n  }}\n}}\n")
    with master(wenv) as proc:
        until(lambda: "throttling" in wenv.log_text(), lambda: f"not throttled:\n{wenv.log_text()}")
        log = wenv.log_text()
        assert "wbroken: Fatal: wbroken cannot start\n" in log
        assert re.search(r"wbroken: Fatal: master: service\(wbroken\): child \d+ returned error 89\n", log)
        assert "master: Error: service(wbroken): command startup failed, throttling for 2 secs\n" in log
        with client(wenv) as c:  # the other service is not affected
            assert c.say("fine") == "fine" and c.pid in workers_of(proc.pid)


def test_shutdown_clients_no_lets_worker_sessions_finish(wenv: WEnv) -> None:
    wenv.write_conf()
    wenv.conf.write_text(wenv.conf.read_text().replace("shutdown_clients = yes", "shutdown_clients = no"))
    with master(wenv) as proc, client(wenv) as c:
        proc.send_signal(signal.SIGTERM)
        until(lambda: not (wenv.base_dir / "master.pid").exists(), "the pid file stayed")
        others = workers_of(proc.pid) - {c.pid}
        until(lambda: not any(alive(pid) for pid in others), "idle workers did not stop")
        assert c.say("after stop") == "after stop"
        assert proc.poll() is None and alive(c.pid)
        c.say("QUIT")
        proc.wait(timeout=TIMEOUT)
    assert proc.returncode == 0 and not alive(c.pid)


def socket_inodes(pid: int) -> set[str]:
    fds = Path(f"/proc/{pid}/fd")
    found = set()
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:"):
                found.add(target)
    return found


def test_a_worker_does_not_inherit_the_masters_connections(wenv: WEnv) -> None:
    wenv.write_conf(extra="  process_min_avail = 2\n")
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 2, "2 workers did not start")
        idle = sorted(workers_of(proc.pid))

        def shared_with_master(pid: int) -> set[str]:
            return socket_inodes(pid) & socket_inodes(proc.pid)

        listeners = shared_with_master(idle[0])
        assert listeners == shared_with_master(idle[1]) and len(listeners) == 2  # inet + unix
        with socket.socket(socket.AF_UNIX) as held:  # a connection served by the master (auth)
            held.connect(str(wenv.base_dir / "auth-client"))
            held.sendall(b"VERSION\t1\t2\nCPID\t1\n")
            assert held.recv(100).startswith(b"VERSION")
            before = socket_inodes(proc.pid)
            os.kill(idle[0], signal.SIGKILL)
            until(lambda: len(workers_of(proc.pid) - set(idle)) == 1, "no replacement")
            (fresh,) = workers_of(proc.pid) - set(idle)
            # the held connection's server end (in the master since before the fork) is not there
            until(lambda: socket_inodes(fresh) & before == listeners,
                  lambda: f"{socket_inodes(fresh) & before} != {listeners}")


def test_workers_leave_when_the_master_is_killed(wenv: WEnv) -> None:
    with master(wenv) as proc:
        until(lambda: len(workers_of(proc.pid)) == 4, "4 workers did not start")
        pids = workers_of(proc.pid)
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        until(lambda: not any(alive(pid) for pid in pids), "orphaned workers stayed")
