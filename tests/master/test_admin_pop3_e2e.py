"""End to end: `dovecot -F` serving POP3 (pydovecot.master.protocol_services), a client logged in,
`doveadm who` (ours and, when installed, real 2.3.19's) lists it and `doveadm kick` ends it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import real_dovecot_available
from tests.master.harness import ROOT, TIMEOUT, free_port
from tests.pop3.server_env import PASSWORD, write_env
from tests.support import server as our_server

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the set-up's Maildirs belong to the vmail user"),
    pytest.mark.skipif(importlib.util.find_spec("pydovecot.master.protocol_services") is None,
                       reason="the master's protocol services are not there"),
]


@pytest.fixture
def master() -> Iterator[tuple[Path, int, subprocess.Popen[str]]]:
    root = Path(tempfile.mkdtemp(prefix="pop3e2e-"))
    port = free_port()
    conf = write_env(root, port=port)
    proc = our_server.start(conf, env={**os.environ, "PYTHONPATH": str(ROOT), "PYDOVECOT_PROCESS_MODEL": "single",
                                       "PYDOVECOT_ONLY_SERVICE_MODULES":
                                           "pydovecot.master.auth_service,pydovecot.master.protocol_services"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (root / "run" / "anvil").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "master did not start"
            time.sleep(0.05)
        yield conf, port, proc
    finally:
        our_server.stop(proc, TIMEOUT)
        shutil.rmtree(root, ignore_errors=True)


def doveadm(conf: Path, *args: str, binary: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [binary] if binary else [sys.executable, "-m", "doveadm"]
    return subprocess.run([*cmd, "-c", str(conf), *args], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_pop3_session_listed_and_kicked(master: tuple[Path, int, subprocess.Popen[str]]) -> None:
    conf, port, proc = master
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock, \
            sock.makefile("rwb", buffering=0) as f:
        f.readline()
        f.write(b"USER tester\r\n")
        f.readline()
        f.write(f"PASS {PASSWORD}\r\n".encode())
        assert f.readline().startswith(b"+OK")
        who = doveadm(conf, "who")
        assert who.stdout.splitlines()[1].split() == ["tester", "1", "pop3", f"({proc.pid})", "(127.0.0.1)"]
        if real_dovecot_available():
            assert doveadm(conf, "who", binary="/usr/bin/doveadm").stdout == who.stdout
        kick = doveadm(conf, "kick", "tester")
        assert (kick.returncode, kick.stdout) == (0, "tester kicked connections from the following users:\n\n")
        assert f.readline() == b""
    log = (conf.parent / "dovecot.log").read_text()
    deadline = time.monotonic() + TIMEOUT
    while "Disconnected: Server shutting down." not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = (conf.parent / "dovecot.log").read_text()
    assert "pop3(tester)" in log and "Disconnected: Server shutting down." in log
    assert doveadm(conf, "who").stdout.count("\n") == 1  # only the title line is left
