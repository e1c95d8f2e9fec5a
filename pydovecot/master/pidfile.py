"""base_dir/master.pid: written at start, refused when another master is alive, removed at stop."""

from __future__ import annotations

import contextlib
import os


class AlreadyRunning(Exception):
    pass


def read_pid(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def running_pid(path: str) -> int | None:
    """The pid of a live master that wrote ``path``, or None (a stale file does not count)."""
    pid = read_pid(path)
    if pid is None or pid == os.getpid() or not pid_alive(pid):
        return None
    return pid


def check_not_running(path: str) -> None:
    pid = running_pid(path)
    if pid is not None:
        raise AlreadyRunning(f"Dovecot is already running with PID {pid} (read from {path})")


def write_pid(path: str, pid: int | None = None) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{os.getpid() if pid is None else pid}\n")
    os.replace(tmp, path)


def remove_pid(path: str) -> None:
    """Remove the pid file if it is still ours."""
    if read_pid(path) == os.getpid():
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.unlink(path)
