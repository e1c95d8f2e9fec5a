"""A master serving the session test service (session_echo_service), and our doveadm against it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.master.harness import ROOT, TIMEOUT, free_port
from tests.support import server as our_server

SERVICE_MODULE = "tests.master.session_echo_service"


@dataclass
class AdminEnv:
    dir: Path
    port: int

    @property
    def conf(self) -> Path:
        return self.dir / "dovecot.conf"

    @property
    def base_dir(self) -> Path:
        return self.dir / "run"

    @property
    def log(self) -> Path:
        return self.dir / "dovecot.log"

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "master.pid"

    def write_conf(self, *, verbose: bool = False, workers: int = 0, extra: str = "") -> None:
        pool = f"  process_min_avail = {workers}\n  process_limit = {max(workers, 1) * 4}\n" if workers else ""
        self.conf.write_text(f"""\
protocols = imap
base_dir = {self.base_dir}
listen = 127.0.0.1
log_path = {self.log}
ssl = no
shutdown_clients = yes
verbose_proctitle = {"yes" if verbose else "no"}
{extra}
service secho {{
  executable = secho
  inet_listener secho {{
    port = {self.port}
  }}
{pool}}}
""")

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_log(self, needle: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if needle in (text := self.log_text()):
                return text
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not logged; log:\n{self.log_text()}")


def new_admin_env(tmp: Path, **conf: object) -> AdminEnv:
    env = AdminEnv(tmp, free_port())
    env.write_conf(**conf)  # type: ignore[arg-type]
    return env


def child_env(model: str = "single") -> dict[str, str]:
    return {**os.environ, "PYDOVECOT_ONLY_SERVICE_MODULES": SERVICE_MODULE, "PYTHONPATH": str(ROOT),
            "PYDOVECOT_PROCESS_MODEL": model}


@contextlib.contextmanager
def running(env: AdminEnv, model: str = "single") -> Iterator[subprocess.Popen[str]]:
    proc = our_server.start(env.conf, env=child_env(model), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not ("starting up" in env.log_text() and (env.base_dir / "anvil").exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"master did not start: {env.log_text()}")
            time.sleep(0.05)
        yield proc
    finally:
        our_server.stop(proc, TIMEOUT)


class Client:
    """One connection to the session service."""

    def __init__(self, env: AdminEnv) -> None:
        self.sock = socket.create_connection(("127.0.0.1", env.port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rwb", buffering=0)
        assert self.file.readline() == b"* ready\r\n"

    def send(self, line: str) -> str:
        self.file.write(f"{line}\r\n".encode())
        return self.file.readline().decode().strip()

    def closed_by_server(self) -> bool:
        return self.file.readline() == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def doveadm(env: AdminEnv, *args: str, binary: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [binary, "-c", str(env.conf), *args] if binary else [sys.executable, "-m", "doveadm", "-c",
                                                               str(env.conf), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_until(predicate: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
