"""A private real Dovecot 2.3.19 (the oracle) on a generated config, and the files it needs.

The config must give it its own base_dir (and high loopback ports, if any); ``running`` always
stops it again, so no real daemon outlives a test or a benchmark."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
IMAP = "/usr/lib/dovecot/imap"
NOBODY = 65534  # the uid real Dovecot's mail processes may drop to on any machine


def start(conf: Path | str, timeout: float | None = None) -> None:
    """``dovecot -c CONF``: returns once the master has daemonised (its listeners are bound)."""
    subprocess.run([DOVECOT, "-c", str(conf)], check=True, timeout=timeout)


def stop(conf: Path | str, timeout: float | None = None, *, quiet: bool = True) -> None:
    """``dovecot -c CONF stop``, then wait for the master to be gone (``stop`` may return first,
    and a caller that deletes the directory then would leave an orphan); never raises for a
    master that is already gone."""
    output = subprocess.DEVNULL if quiet else None
    pid = _master_pid(conf)
    subprocess.run([DOVECOT, "-c", str(conf), "stop"], check=False, timeout=timeout,
                   stdout=output, stderr=output)
    if pid is None:
        return
    _poll(lambda: not _alive(pid), tries=200)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _master_pid(conf: Path | str) -> int | None:
    base = subprocess.run(["/usr/bin/doveconf", "-c", str(conf), "-h", "base_dir"], capture_output=True,
                          text=True, check=False).stdout.strip()
    try:
        return int(Path(base, "master.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _poll(predicate: Callable[[], object], tries: int = 100, interval: float = 0.05) -> None:
    for _ in range(tries):
        if predicate():
            return
        time.sleep(interval)


@contextlib.contextmanager
def running(conf: Path | str, *, ready: Callable[[], object] | None = None,
            pid_file: Path | None = None, timeout: float | None = None) -> Iterator[Path]:
    """Real Dovecot on ``conf`` for the ``with`` body. ``ready`` is polled (for 5 s) before the
    body runs, e.g. for a socket to appear; on leaving, waits (5 s) for ``pid_file`` to go."""
    start(conf, timeout)
    try:
        if ready is not None:
            _poll(ready)
        yield Path(conf)
    finally:
        stop(conf, timeout)
        if pid_file is not None:
            _poll(lambda: not pid_file.exists())


def chown_tree(root: Path, uid: int, gid: int | None = None) -> None:
    """``root`` and everything below it to ``uid``: the mail real Dovecot reads as that user."""
    gid = uid if gid is None else gid
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(directory, name), uid, gid)
    os.chown(root, uid, gid)


def imap_preauth(conf: Path | str, user: str, home: Path | str, **popen: object) -> subprocess.Popen[bytes]:
    """Real ``imap`` on stdin/stdout as a PREAUTH session for ``user`` with ``home``, the way
    Dovecot's master runs it after login (no auth round-trip, no network)."""
    env = {"USER": user, "HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.Popen([IMAP, "-c", str(conf)], env=env, **popen)  # type: ignore[call-overload]
