"""Dovecot-format logging: ``<timestamp><prefix><Level>: <message>`` written to files, stderr or syslog.

``Log.from_settings(tree.lookup())`` opens the targets ``log_path``, ``info_log_path`` and
``debug_log_path`` name; ``log.for_service("imap-login")`` and ``log.for_user(...)`` give the
prefixed loggers the daemons use.  ``login_format`` renders login processes' lines.
"""

from __future__ import annotations

from .format import LEVEL_PREFIXES, Level, format_line, user_prefix
from .logger import DEBUG_SETTING, Log, LogSink
from .targets import FileTarget, LogTarget, MemoryTarget, SyslogTarget, open_target

__all__ = [
    "DEBUG_SETTING",
    "LEVEL_PREFIXES",
    "FileTarget",
    "Level",
    "Log",
    "LogSink",
    "LogTarget",
    "MemoryTarget",
    "SyslogTarget",
    "format_line",
    "open_target",
    "user_prefix",
]
