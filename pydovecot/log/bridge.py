"""Library code logs through the standard ``logging`` module; this handler writes those records
as Dovecot lines to the configured targets.

A record's prefix is its ``dovecot_prefix`` extra (``imap(alice)<123><sess>: ``) or, without
one, the service named by the logger (``pydovecot.imap-login`` -> ``imap-login: ``).
"""

from __future__ import annotations

import logging

from .format import Level
from .logger import LogSink

_LEVELS = ((logging.CRITICAL, Level.FATAL), (logging.ERROR, Level.ERROR), (logging.WARNING, Level.WARNING),
           (logging.INFO, Level.INFO))
ROOT_LOGGER = "pydovecot"
# logging.Handler has no formatException of its own; this only formats tracebacks.
_TRACEBACKS = logging.Formatter()


def _level(levelno: int) -> Level:
    for threshold, level in _LEVELS:
        if levelno >= threshold:
            return level
    return Level.DEBUG


class DovecotLogHandler(logging.Handler):
    def __init__(self, sink: LogSink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = getattr(record, "dovecot_prefix", None)
            if prefix is None:
                name = record.name.split(".", 1)[1] if "." in record.name else record.name
                prefix = f"{name}: "
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                # Dovecot logs one line per failure; the traceback goes to the debug log.
                exc = record.exc_info[1]
                message = f"{message}: {type(exc).__name__}: {exc}"
                self.sink.emit(prefix, Level.DEBUG, _TRACEBACKS.formatException(record.exc_info))
            self.sink.emit(prefix, _level(record.levelno), message)
        except Exception:  # noqa: BLE001 - logging must never take a connection down
            self.handleError(record)


def install(sink: LogSink, *, debug: bool = False) -> DovecotLogHandler:
    """Route the ``pydovecot`` loggers to ``sink`` (replacing an earlier bridge)."""
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, DovecotLogHandler):
            logger.removeHandler(handler)
    handler = DovecotLogHandler(sink)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False
    return handler
