"""A private copy of examples/seed, served by our server, for the end-to-end tests.

The seed tree names fixed places (/tmp/pydovecot-seed, the database pydovecot_seed, ports
10024...10995). Two runs on one machine must not share them, so the copy gets its own: every
``/tmp/pydovecot-seed`` becomes a fresh temporary directory, ``pydovecot_seed`` a database
name of its own, and local.conf's ports free ones. Nothing else changes: the seed's
dovecot.conf and conf.d/ are copied byte for byte, and the copy's own prepare.sh loads the
database and makes the data directory, as a user would.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.net import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed"
FIXED_DATA_DIR = "/tmp/pydovecot-seed"
FIXED_DB = "pydovecot_seed"
# local.conf's listener ports, by listener name.
SEED_PORTS = {"imap": 10143, "imaps": 10993, "pop3": 10110, "pop3s": 10995, "lmtp": 10024}
MARIADB = ("127.0.0.1", 3306)


def require_seed_environment() -> None:
    """Skip (fail under CI) when the seed cannot run here: it needs root (mail as uid 10000)
    and the MariaDB on 127.0.0.1:3306 with its command-line client."""
    problem = None
    if os.geteuid() != 0:
        problem = "the seed runs as root (its mail processes switch to uid 10000)"
    elif not (shutil.which("mariadb") or shutil.which("mysql")):
        problem = "no mariadb/mysql client (scripts/setup.sh installs MariaDB)"
    else:
        try:
            with socket.create_connection(MARIADB, timeout=3):
                pass
        except OSError as exc:
            problem = f"MariaDB is not reachable on {MARIADB[0]}:{MARIADB[1]} ({exc})"
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {problem}")
    pytest.skip(problem)


def mysql(sql: str) -> None:
    client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
    subprocess.run([client, "-h", MARIADB[0], "-P", str(MARIADB[1]), "-u", "root", "-e", sql],
                   check=True, capture_output=True, timeout=60)


@dataclass
class SeedInstance:
    """One copy of the seed tree with its data directory, database, ports and server."""

    base: Path
    db: str
    ports: dict[str, int]
    extra_local_conf: str = ""
    # The server: ours, or the real Dovecot (["/usr/sbin/dovecot"]) when recording goldens.
    server: tuple[str, ...] = (sys.executable, "-m", "pydovecot")
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def tree(self) -> Path:
        return self.base / "tree"

    @property
    def conf(self) -> Path:
        return self.tree / "dovecot.conf"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log_path(self) -> Path:
        return self.data / "dovecot.log"

    @property
    def pid_file(self) -> Path:
        return self.data / "run" / "master.pid"

    def maildir(self, user: str) -> Path:
        local, domain = user.split("@")
        return self.data / "vmail" / domain / local / "Maildir"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []

    # --- set-up -------------------------------------------------------------------------------

    def make_tree(self) -> None:
        shutil.copytree(SEED, self.tree)
        for path in self.tree.rglob("*"):
            if not path.is_file():
                continue
            text = path.read_text()
            new = text.replace(FIXED_DATA_DIR, str(self.data)).replace(FIXED_DB, self.db)
            if path.name == "local.conf":
                new = self._local_ports(new) + self.extra_local_conf
            if new != text:
                path.write_text(new)

    def _local_ports(self, text: str) -> str:
        for name, fixed in SEED_PORTS.items():
            text, count = re.subn(rf"(port = ){fixed}\b", rf"\g<1>{self.ports[name]}", text)
            assert count == 1, f"local.conf: port {fixed} of {name} not found once"
        return text

    def prepare(self) -> None:
        """The copy's prepare.sh: database, data directory, link to dovecot-sql.conf.ext."""
        done = subprocess.run(["sh", str(self.tree / "prepare.sh")], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    # --- the server ---------------------------------------------------------------------------

    def command(self, *args: str) -> list[str]:
        return [*self.server, "-c", str(self.conf), *args]

    def start(self, timeout: float = 60.0) -> None:
        out = open(self.base / "server.out", "wb")  # noqa: SIM115 - kept open for the server's life
        self.proc = subprocess.Popen(self.command("-F"), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output()}")
            if all(port_open(port) for port in self.ports.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"server did not listen on {self.ports} within {timeout}s: {self.output()}")

    def output(self) -> str:
        path = self.base / "server.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> int | None:
        """``pydovecot stop`` as a user would; returns its exit code (None if not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        done = subprocess.run(self.command("stop"), cwd=ROOT, capture_output=True, timeout=90)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        return done.returncode

    def processes(self) -> list[int]:
        """Pids of any process still running with this copy's configuration."""
        needle = str(self.conf).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def cleanup(self) -> None:
        self.stop()
        for pid in self.processes():  # only ours: their command line names our private copy
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            mysql(f"DROP DATABASE IF EXISTS `{self.db}`")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def new_instance(extra_local_conf: str = "") -> SeedInstance:
    base = Path(tempfile.mkdtemp(prefix="pdseed", dir="/tmp"))
    base.chmod(0o755)  # uid 10000 and Postfix must reach the data directory and sockets
    ports = {name: free_port() for name in SEED_PORTS}
    return SeedInstance(base, f"pydovecot_seed_t{secrets.token_hex(4)}", ports, extra_local_conf)
