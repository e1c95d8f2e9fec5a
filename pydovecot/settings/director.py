"""Director (user-to-backend load balancing) settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "director_flush_socket",
        Kind.STR,
        "",
        "Program socket run when the director flushes a backend's users.",
        modules=("director",),
    ),
    Setting(
        "director_mail_servers",
        Kind.STR,
        "",
        "Space-separated backend mail servers (IPs or ranges) the director spreads users over.",
        modules=("director",),
    ),
    Setting(
        "director_max_parallel_kicks",
        Kind.UINT,
        "100",
        "Most user kicks the director runs at the same time.",
        modules=("director",),
    ),
    Setting(
        "director_max_parallel_moves",
        Kind.UINT,
        "100",
        "Most user moves between backends the director runs at the same time.",
        modules=("director",),
    ),
    Setting(
        "director_output_buffer_size",
        Kind.SIZE,
        "10 M",
        "How much output the director may buffer towards another director.",
        modules=("director",),
    ),
    Setting(
        "director_ping_idle_timeout",
        Kind.TIME,
        "30 secs",
        "How long a director connection may stay silent before it is pinged.",
        modules=("director",),
    ),
    Setting(
        "director_ping_max_timeout",
        Kind.TIME,
        "1 mins",
        "How long to wait for a ping reply before the director connection is dropped.",
        modules=("director",),
    ),
    Setting(
        "director_servers",
        Kind.STR,
        "",
        "Space-separated directors of the ring (IP[:port]).",
        modules=("director",),
    ),
    Setting(
        "director_user_expire",
        Kind.TIME,
        "15 mins",
        "How long a user stays bound to a backend after their last session.",
        modules=("director",),
    ),
    Setting(
        "director_user_kick_delay",
        Kind.TIME,
        "2 secs",
        "Delay before kicking a user's other sessions when moving them.",
        modules=("director",),
    ),
    Setting(
        "director_username_hash",
        Kind.STR,
        "%Lu",
        "Format of the username the director hashes to pick a backend.",
        modules=(
            "director",
            "doveadm",
            "imap-login",
            "imap-urlauth-login",
            "login",
            "pop3-login",
            "submission-login",
        ),
    ),
    Setting(
        "master_user_separator",
        Kind.STR,
        "",
        "Character separating the login user from the master user, as the director sees it.",
        modules=("director",),
    ),
)
