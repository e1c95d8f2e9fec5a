"""The API daemons log through: ``log.for_service("imap-login").info("...")``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from .format import Level, format_line, user_prefix
from .targets import FileTarget, LogTarget, open_target

# Which setting turns on debug logging for a service (Dovecot: mail_debug for mail processes,
# auth_debug for auth and the login processes' auth traffic).
DEBUG_SETTING: dict[str, str] = {
    "auth": "auth_debug",
    "auth-worker": "auth_debug",
    "imap-login": "auth_debug",
    "pop3-login": "auth_debug",
    "submission-login": "auth_debug",
    "imap": "mail_debug",
    "pop3": "mail_debug",
    "lmtp": "mail_debug",
    "lda": "mail_debug",
    "submission": "mail_debug",
}


@dataclass
class LogSink:
    """The targets of each level: errors/warnings -> log_path, info -> info_log_path (default
    log_path), debug -> debug_log_path (default info_log_path), as Dovecot routes them."""

    error: LogTarget
    info: LogTarget
    debug: LogTarget
    timestamp: str = "%b %d %H:%M:%S "
    _owned: list[LogTarget] = field(default_factory=list)

    @classmethod
    def single(cls, target: LogTarget, timestamp: str = "%b %d %H:%M:%S ") -> LogSink:
        return cls(target, target, target, timestamp, [target])

    @classmethod
    def from_settings(cls, node: object) -> LogSink:
        """Open the targets a settings node (``tree.lookup()``) names."""
        get = node.get  # type: ignore[attr-defined]
        ident = str(get("instance_name") or "dovecot")
        facility = str(get("syslog_facility"))
        opened: dict[str, LogTarget] = {}

        def target(path: str) -> LogTarget:
            if path not in opened:
                opened[path] = open_target(path, ident=ident, facility=facility)
            return opened[path]

        error_path = str(get("log_path"))
        info_path = str(get("info_log_path")) or error_path
        debug_path = str(get("debug_log_path")) or info_path
        return cls(target(error_path), target(info_path), target(debug_path), str(get("log_timestamp")),
                   list(opened.values()))

    def reopen_from(self, node: object) -> None:
        """Switch to the targets ``node`` names, in place: every Log sharing this sink follows
        (a reload that changes log_path, or a log file rotated away)."""
        fresh = LogSink.from_settings(node)
        self.close()
        self.error, self.info, self.debug = fresh.error, fresh.info, fresh.debug
        self.timestamp, self._owned = fresh.timestamp, fresh._owned

    def files(self) -> list[tuple[str, int]]:
        """(path, descriptor) of each log file this sink opened itself."""
        return [(t.path, t.fd) for t in self._owned if isinstance(t, FileTarget) and t.owned]

    def adopt(self, paths: list[str], fds: list[int]) -> None:
        """`doveadm log reopen` in a process that may not open the files itself (it runs as a
        mail user or as default_internal_user): the master opened them and passed the
        descriptors; each takes the place of this sink's old descriptor for the same path, so
        every writer holding the old number writes to the new file. Consumes ``fds``."""
        mine = {t.path: t for t in self._owned if isinstance(t, FileTarget) and t.owned}
        for path, fd in zip(paths, fds, strict=False):
            target = mine.get(path)
            if target is not None:
                os.dup2(fd, target.fd, inheritable=False)
            os.close(fd)
        for fd in fds[len(paths):]:
            os.close(fd)

    def target_for(self, level: Level) -> LogTarget:
        if level is Level.DEBUG:
            return self.debug
        if level is Level.INFO:
            return self.info
        return self.error

    def emit(self, prefix: str, level: Level, message: str) -> None:
        target = self.target_for(level)
        for part in message.split("\n"):  # Dovecot writes a multi-line message as several lines
            target.write(level, format_line(prefix, level, part, timestamp=self.timestamp,
                                            syslog=target.syslog))

    def close(self) -> None:
        for target in self._owned:
            target.close()
        self._owned.clear()


@dataclass(frozen=True)
class Log:
    """A prefixed logger over a shared sink.  ``debug()`` writes only when ``debug_enabled``."""

    sink: LogSink
    prefix: str = "master: "
    debug_enabled: bool = False

    @classmethod
    def from_settings(cls, node: object) -> Log:
        return cls(LogSink.from_settings(node))

    def for_service(self, service: str, *, debug: bool | None = None, settings: object = None) -> Log:
        """The logger of a service (``imap-login: ``).  Debug follows ``debug`` when given, else
        the service's debug setting in ``settings`` (a settings node), else stays off."""
        enabled = bool(debug) if debug is not None else _debug_from(service, settings)
        return replace(self, prefix=f"{service}: ", debug_enabled=enabled)

    def for_user(self, service: str, user: str, *, pid: int | None = None, session: str | None = None) -> Log:
        """A mail session's logger: ``imap(alice@example.test)<1234><session>: ``."""
        return replace(self, prefix=user_prefix(service, user, pid, session))

    def with_prefix(self, prefix: str) -> Log:
        return replace(self, prefix=prefix)

    def log(self, level: Level, message: str) -> None:
        if level is Level.DEBUG and not self.debug_enabled:
            return
        self.sink.emit(self.prefix, level, message)

    def debug(self, message: str) -> None:
        self.log(Level.DEBUG, message)

    def info(self, message: str) -> None:
        self.log(Level.INFO, message)

    def warning(self, message: str) -> None:
        self.log(Level.WARNING, message)

    def error(self, message: str) -> None:
        self.log(Level.ERROR, message)

    def fatal(self, message: str) -> None:
        self.log(Level.FATAL, message)

    def callback(self, level: str, message: str) -> None:
        """For APIs that log as ``(level_name, line)`` (the auth service's log_callback)."""
        self.log(Level[level.upper()], message)


def _debug_from(service: str, settings: object) -> bool:
    name = DEBUG_SETTING.get(service)
    if settings is None or name is None:
        return False
    return bool(settings.get(name))  # type: ignore[attr-defined]
