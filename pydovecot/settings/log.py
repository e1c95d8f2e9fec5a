"""Where and how Dovecot logs.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings._modules import EVERY_MODULE
from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "debug_log_path",
        Kind.STR,
        "",
        "File for debug messages; empty means the same as info_log_path.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "info_log_path",
        Kind.STR,
        "",
        "File for informational messages; empty means the same as log_path.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "log_core_filter",
        Kind.STR,
        "",
        "Event filter selecting the events that cause a core dump.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "log_debug",
        Kind.STR,
        "",
        "Event filter selecting which debug events are logged.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "log_path",
        Kind.STR,
        "syslog",
        "Where errors are logged: syslog, /dev/stderr or a file.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "log_timestamp",
        Kind.STR,
        "%b %d %H:%M:%S ",
        "strftime() format of the timestamp prefixing log lines written to files.",
        modules=EVERY_MODULE,
    ),
    Setting(
        "rawlog_dir",
        Kind.STR_VARS,
        "",
        "Directory where the raw traffic of IMAP, POP3 and submission sessions is logged.",
        modules=("imap", "pop3", "submission"),
    ),
    Setting(
        "syslog_facility",
        Kind.STR,
        "mail",
        "Syslog facility used when logging to syslog.",
        modules=EVERY_MODULE,
    ),
)
