"""The text of one log line, as Dovecot 2.3's failures.c builds it.

A file line is ``strftime(log_timestamp) + prefix + level prefix + message``, e.g.
``Nov 25 18:15:21 imap-login: Info: Login: user=<alice@example.test>, ...``.
Syslog lines carry no timestamp (syslogd adds one) and no ``Info: `` (the priority says it).
"""

from __future__ import annotations

import enum
import time


class Level(enum.IntEnum):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    FATAL = 4
    PANIC = 5


LEVEL_PREFIXES: dict[Level, str] = {
    Level.DEBUG: "Debug: ",
    Level.INFO: "Info: ",
    Level.WARNING: "Warning: ",
    Level.ERROR: "Error: ",
    Level.FATAL: "Fatal: ",
    Level.PANIC: "Panic: ",
}


def format_line(prefix: str, level: Level, message: str, *, timestamp: str | None = None,
                now: float | None = None, syslog: bool = False) -> str:
    """One line without its newline.  ``timestamp`` is the log_timestamp strftime format."""
    level_text = "" if syslog and level is Level.INFO else LEVEL_PREFIXES[level]
    stamp = ""
    if timestamp and not syslog:
        stamp = time.strftime(timestamp, time.localtime(time.time() if now is None else now))
    return f"{stamp}{prefix}{level_text}{message}"


def user_prefix(service: str, user: str, pid: int | None = None, session: str | None = None) -> str:
    """A mail process's prefix: ``imap(alice@example.test)<1234><sessionid>: ``
    (the default mail_log_prefix ``%s(%u)<%{pid}><%{session}>: ``)."""
    pid_part = f"<{pid}>" if pid is not None else ""
    session_part = f"<{session}>" if session else ""
    return f"{service}({user}){pid_part}{session_part}: "
