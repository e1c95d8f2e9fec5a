"""Loopback ports and polling waits for the harnesses that start servers as processes."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"
# Our rules keep test servers on high loopback ports, away from the kernel's ephemeral range.
PORT_RANGE = (20000, 40000)


def free_port() -> int:
    """A loopback port in 20000-40000 that nothing is bound to right now."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise OSError("no free port in 20000-40000")


def port_open(port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts a TCP connection on the loopback port."""
    try:
        socket.create_connection((LOOPBACK, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _exit_reason(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> str:
    stderr = proc.stderr.read() if proc.stderr else ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return stderr or f"server exited with {proc.returncode}"


def wait_port(port: int, proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None, *,
              timeout: float = 30.0, interval: float = 0.05,
              error: type[Exception] = AssertionError) -> None:
    """Return once the port accepts connections; raise ``error`` when ``proc`` (the server
    expected to listen) exits first, with its stderr, or when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise error(_exit_reason(proc))
        if port_open(port):
            return
        time.sleep(interval)
    raise error(f"nothing listens on port {port}")


def wait_paths(*paths: Path, timeout: float = 10.0, error: type[Exception] = RuntimeError) -> None:
    """Return once every path exists (a server's sockets, say); raise ``error`` after ``timeout``."""
    if not wait_for(lambda: all(path.exists() for path in paths), timeout):
        raise error(f"{' '.join(map(str, paths))} did not appear")


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true (returns True) or ``timeout`` passes (returns False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
