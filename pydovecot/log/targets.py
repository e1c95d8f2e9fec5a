"""Where log lines go: a file (appended, one write per line), stderr, syslog, or memory (tests).

Writes are synchronous, like Dovecot's own log writes: a line is small and a local file or
/dev/log accepts it at once, so pushing it through a thread would cost more than it saves.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Protocol

from .format import Level

# syslog_facility names (Dovecot accepts the syslog(3) names).
_FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
               "authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5",
               "local6", "local7")


class LogTarget(Protocol):
    syslog: bool

    def write(self, level: Level, line: str) -> None: ...

    def close(self) -> None: ...


class FileTarget:
    """A file opened in append mode (``/dev/stderr`` is the process's stderr)."""

    syslog = False

    def __init__(self, path: str) -> None:
        self.path = path
        if path == "/dev/stderr":
            self._fd = sys.stderr.fileno()
            self._owned = False
        else:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._owned = True

    @property
    def fd(self) -> int:
        return self._fd

    @property
    def owned(self) -> bool:
        return self._owned

    def write(self, level: Level, line: str) -> None:
        # One write() per line with O_APPEND: lines from several writers never interleave.
        os.write(self._fd, (line + "\n").encode("utf-8", "surrogateescape"))

    def close(self) -> None:
        if self._owned:
            os.close(self._fd)
            self._owned = False


class SyslogTarget:
    syslog = True

    def __init__(self, ident: str = "dovecot", facility: str = "mail") -> None:
        import syslog as _syslog

        if facility not in _FACILITIES:
            raise ValueError(f"Invalid syslog_facility: {facility}")
        self._syslog = _syslog
        self._facility = getattr(_syslog, f"LOG_{facility.upper()}")
        _syslog.openlog(ident, _syslog.LOG_NDELAY, self._facility)

    def write(self, level: Level, line: str) -> None:
        s = self._syslog
        priority = {Level.DEBUG: s.LOG_DEBUG, Level.INFO: s.LOG_INFO, Level.WARNING: s.LOG_WARNING,
                    Level.ERROR: s.LOG_ERR, Level.FATAL: s.LOG_CRIT, Level.PANIC: s.LOG_CRIT}[level]
        s.syslog(priority | self._facility, line)

    def close(self) -> None:
        self._syslog.closelog()


@dataclass
class MemoryTarget:
    """Keeps lines in a list (tests, and the master's messages before its log is open)."""

    syslog: bool = False
    lines: list[tuple[Level, str]] = field(default_factory=list)

    def write(self, level: Level, line: str) -> None:
        self.lines.append((level, line))

    def close(self) -> None:
        pass


def open_target(path: str, *, ident: str = "dovecot", facility: str = "mail") -> LogTarget:
    """The target a ``*log_path`` value names."""
    if path == "syslog":
        return SyslogTarget(ident, facility)
    return FileTarget(path)
