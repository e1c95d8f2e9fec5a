"""SMTP submission service settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "submission_backend_capabilities",
        Kind.STR,
        "",
        "SMTP capabilities of the relay, so they need not be asked from it.",
        modules=("submission", "submission-login"),
        hidden=True,
    ),
    Setting(
        "submission_client_workarounds",
        Kind.STR,
        "",
        "Workarounds for known bugs of SMTP submission clients.",
        modules=("submission", "submission-login"),
    ),
    Setting(
        "submission_logout_format",
        Kind.STR,
        "in=%i out=%o",
        "Format of the statistics logged when a submission session ends.",
        modules=("submission",),
    ),
    Setting(
        "submission_max_mail_size",
        Kind.SIZE,
        "0",
        "Largest message accepted for submission; 0 means no limit.",
        modules=("submission", "submission-login"),
    ),
    Setting(
        "submission_max_recipients",
        Kind.UINT,
        "0",
        "Most recipients of one message; 0 means no limit.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_command_timeout",
        Kind.TIME_MSECS,
        "5 mins",
        "Timeout of a command sent to the relay server.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_connect_timeout",
        Kind.TIME_MSECS,
        "30 secs",
        "Timeout of connecting to the relay server.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_host",
        Kind.STR,
        "",
        "SMTP server that submitted mail is relayed to.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_master_user",
        Kind.STR,
        "",
        "Master user used to log in to the relay server.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_max_idle_time",
        Kind.TIME,
        "29 mins",
        "Send a NOOP to the relay server if it was idle this long.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_password",
        Kind.STR,
        "",
        "Password used to log in to the relay server.",
        modules=("submission",),
        secret=True,
    ),
    Setting("submission_relay_port", Kind.PORT, "25", "Port of the relay server.", modules=("submission",)),
    Setting(
        "submission_relay_rawlog_dir",
        Kind.STR_VARS,
        "",
        "Directory where raw traffic to the relay server is logged.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_ssl",
        Kind.ENUM,
        "no",
        "Whether and how the relay connection uses TLS.",
        values=("no", "smtps", "starttls"),
        modules=("submission",),
    ),
    Setting(
        "submission_relay_ssl_verify",
        Kind.BOOL,
        "yes",
        "Verify the relay server's certificate.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_trusted",
        Kind.BOOL,
        "no",
        "Tell the relay it may trust our XCLIENT data.",
        modules=("submission",),
    ),
    Setting(
        "submission_relay_user",
        Kind.STR,
        "",
        "User logged in as on the relay server.",
        modules=("submission",),
    ),
)
