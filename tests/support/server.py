"""Our server (``python -m pydovecot -F -c CONF``) as a child process: start, wait, stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from tests.support.net import wait_for

ROOT = Path(__file__).resolve().parents[2]
STARTED = "starting up"  # the master's first log line once every listener is bound


def command(conf: Path | str) -> list[str]:
    """The command line that runs our master in the foreground on ``conf``."""
    return [sys.executable, "-m", "pydovecot", "-F", "-c", str(conf)]


def start(conf: Path | str, *, env: dict[str, str] | None = None, text: bool = True,
          stdout: int | IO[Any] | None = subprocess.PIPE,
          stderr: int | IO[Any] | None = subprocess.PIPE) -> subprocess.Popen[Any]:
    """Start our master from the repository root, with ``env`` as its whole environment (None:
    ours). Does not wait."""
    return subprocess.Popen(command(conf), cwd=ROOT, env=env, stdout=stdout, stderr=stderr, text=text)


def wait_started(proc: subprocess.Popen[Any], log: Path, timeout: float = 30.0) -> None:
    """Wait for "starting up" in ``log``; fail with the server's stderr if it exits or never says it."""
    wait_for(lambda: log.exists() and STARTED in log.read_text() or proc.poll() is not None, timeout)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else "server exited"
    assert log.exists() and STARTED in log.read_text(), f"no {STARTED!r} in {log} after {timeout}s"


def stop(proc: subprocess.Popen[Any], timeout: float = 30.0, *, close: bool = True) -> None:
    """SIGTERM (how Dovecot's master is told to shut down), then SIGKILL after ``timeout``;
    closes the pipes unless ``close`` is false."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if close:
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
