"""The services (and their listeners) that exist before any config is read.

Each lists only what differs from the service / listener section defaults, as the text
`doveconf -a` prints for an empty config.  Kept in the order doveconf prints them.
"""

from __future__ import annotations

from pydovecot.settings.model import DefaultInstance

DEFAULT_INSTANCES: tuple[DefaultInstance, ...] = (
    DefaultInstance(
        "service",
        "aggregator",
        values=(
            ("chroot", "."),
            ("executable", "aggregator"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance("fifo_listener", "replication-notify-fifo"),
            DefaultInstance("unix_listener", "replication-notify"),
        ),
    ),
    DefaultInstance(
        "service",
        "anvil",
        values=(
            ("chroot", "empty"),
            ("executable", "anvil"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
            ("process_min_avail", "1"),
            ("type", "anvil"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance("unix_listener", "anvil-auth-penalty"),
            DefaultInstance("unix_listener", "anvil"),
        ),
    ),
    DefaultInstance(
        "service",
        "auth-worker",
        values=(
            ("client_limit", "1"),
            ("executable", "auth -w"),
            ("type", "worker"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "auth-worker",
                values=(("user", "$default_internal_user"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "auth",
        values=(
            ("executable", "auth"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "auth-client",
                values=(("user", "$default_internal_user"),),
            ),
            DefaultInstance(
                "unix_listener",
                "auth-login",
                values=(("user", "$default_internal_user"),),
            ),
            DefaultInstance("unix_listener", "auth-master"),
            DefaultInstance(
                "unix_listener",
                "auth-userdb",
                values=(
                    ("mode", "0666"),
                    ("user", "$default_internal_user"),
                ),
            ),
            DefaultInstance(
                "unix_listener",
                "login/login",
                values=(("mode", "0666"),),
            ),
            DefaultInstance(
                "unix_listener",
                "token-login/tokenlogin",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "config",
        values=(
            ("executable", "config"),
            ("idle_kill", "4294967295 secs"),
            ("type", "config"),
        ),
        children=(DefaultInstance("unix_listener", "config"),),
    ),
    DefaultInstance(
        "service",
        "dict-async",
        values=(
            ("executable", "dict"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "dict-async",
                values=(
                    ("group", "$default_internal_group"),
                    ("mode", "0660"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "dict",
        values=(
            ("client_limit", "1"),
            ("executable", "dict"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "dict",
                values=(
                    ("group", "$default_internal_group"),
                    ("mode", "0660"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "director",
        values=(
            ("chroot", "."),
            ("executable", "director"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "fifo_listener",
                "login/proxy-notify",
                values=(("mode", "00"),),
            ),
            DefaultInstance("unix_listener", "director-admin"),
            DefaultInstance(
                "unix_listener",
                "login/director",
                values=(("mode", "00"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "dns-client",
        values=(
            ("client_limit", "1"),
            ("executable", "dns-client"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "dns-client",
                values=(("mode", "0666"),),
            ),
            DefaultInstance(
                "unix_listener",
                "login/dns-client",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "doveadm",
        values=(
            ("client_limit", "1"),
            ("executable", "doveadm-server"),
            ("extra_groups", "$default_internal_group"),
            ("service_count", "1"),
        ),
        children=(DefaultInstance("unix_listener", "doveadm-server"),),
    ),
    DefaultInstance(
        "service",
        "health-check",
        values=(
            ("client_limit", "1"),
            ("drop_priv_before_exec", "yes"),
            ("executable", "script -p health-check.sh"),
            ("user", "$default_internal_user"),
        ),
    ),
    DefaultInstance(
        "service",
        "imap-hibernate",
        values=(
            ("executable", "imap-hibernate"),
            ("protocol", "imap"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "imap-hibernate",
                values=(
                    ("group", "$default_internal_group"),
                    ("mode", "0660"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "imap-login",
        values=(
            ("chroot", "login"),
            ("executable", "imap-login"),
            ("protocol", "imap"),
            ("service_count", "1"),
            ("type", "login"),
            ("user", "$default_login_user"),
        ),
        children=(
            DefaultInstance(
                "inet_listener",
                "imap",
                values=(("port", "143"),),
            ),
            DefaultInstance(
                "inet_listener",
                "imaps",
                values=(
                    ("port", "993"),
                    ("ssl", "yes"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "imap-urlauth-login",
        values=(
            ("chroot", "token-login"),
            ("executable", "imap-urlauth-login"),
            ("protocol", "imap"),
            ("service_count", "1"),
            ("type", "login"),
            ("user", "$default_login_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "imap-urlauth",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "imap-urlauth-worker",
        values=(
            ("client_limit", "1"),
            ("executable", "imap-urlauth-worker"),
            ("extra_groups", "$default_internal_group"),
            ("process_limit", "1024"),
            ("protocol", "imap"),
            ("service_count", "1"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "imap-urlauth-worker",
                values=(("user", "$default_internal_user"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "imap-urlauth",
        values=(
            ("client_limit", "1"),
            ("executable", "imap-urlauth"),
            ("process_limit", "1024"),
            ("protocol", "imap"),
            ("service_count", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "token-login/imap-urlauth",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "imap",
        values=(
            ("client_limit", "1"),
            ("executable", "imap"),
            ("extra_groups", "$default_internal_group"),
            ("process_limit", "1024"),
            ("protocol", "imap"),
            ("service_count", "1"),
        ),
        children=(
            DefaultInstance("unix_listener", "imap-master"),
            DefaultInstance(
                "unix_listener",
                "login/imap",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "indexer-worker",
        values=(
            ("client_limit", "1"),
            ("executable", "indexer-worker"),
            ("extra_groups", "$default_internal_group"),
            ("process_limit", "10"),
            ("type", "worker"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "indexer-worker",
                values=(("user", "$default_internal_user"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "indexer",
        values=(
            ("executable", "indexer"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "indexer",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "ipc",
        values=(
            ("chroot", "empty"),
            ("executable", "ipc"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "ipc",
                values=(("user", "$default_internal_user"),),
            ),
            DefaultInstance(
                "unix_listener",
                "login/ipc-proxy",
                values=(("user", "$default_login_user"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "lmtp",
        values=(
            ("client_limit", "1"),
            ("executable", "lmtp"),
            ("extra_groups", "$default_internal_group"),
            ("protocol", "lmtp"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "lmtp",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "log",
        values=(
            ("executable", "log"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
            ("type", "log"),
        ),
        children=(DefaultInstance("unix_listener", "log-errors"),),
    ),
    DefaultInstance(
        "service",
        "old-stats",
        values=(
            ("chroot", "empty"),
            ("executable", "old-stats"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance("fifo_listener", "old-stats-mail"),
            DefaultInstance("fifo_listener", "old-stats-user"),
            DefaultInstance("unix_listener", "old-stats"),
        ),
    ),
    DefaultInstance(
        "service",
        "pop3-login",
        values=(
            ("chroot", "login"),
            ("executable", "pop3-login"),
            ("protocol", "pop3"),
            ("service_count", "1"),
            ("type", "login"),
            ("user", "$default_login_user"),
        ),
        children=(
            DefaultInstance(
                "inet_listener",
                "pop3",
                values=(("port", "110"),),
            ),
            DefaultInstance(
                "inet_listener",
                "pop3s",
                values=(
                    ("port", "995"),
                    ("ssl", "yes"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "pop3",
        values=(
            ("client_limit", "1"),
            ("executable", "pop3"),
            ("extra_groups", "$default_internal_group"),
            ("process_limit", "1024"),
            ("protocol", "pop3"),
            ("service_count", "1"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "login/pop3",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "replicator",
        values=(
            ("executable", "replicator"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "replicator-doveadm",
                values=(
                    ("mode", "00"),
                    ("user", "$default_internal_user"),
                ),
            ),
            DefaultInstance(
                "unix_listener",
                "replicator",
                values=(("user", "$default_internal_user"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "stats",
        values=(
            ("executable", "stats"),
            ("idle_kill", "4294967295 secs"),
            ("process_limit", "1"),
            ("user", "$default_internal_user"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "login/stats-writer",
                values=(("user", "$default_login_user"),),
            ),
            DefaultInstance("unix_listener", "stats-reader"),
            DefaultInstance(
                "unix_listener",
                "stats-writer",
                values=(
                    ("group", "$default_internal_group"),
                    ("mode", "0660"),
                ),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "submission-login",
        values=(
            ("chroot", "login"),
            ("executable", "submission-login"),
            ("protocol", "submission"),
            ("service_count", "1"),
            ("type", "login"),
            ("user", "$default_login_user"),
        ),
        children=(
            DefaultInstance(
                "inet_listener",
                "submission",
                values=(("port", "587"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "submission",
        values=(
            ("client_limit", "1"),
            ("executable", "submission"),
            ("extra_groups", "$default_internal_group"),
            ("process_limit", "1024"),
            ("protocol", "submission"),
            ("service_count", "1"),
        ),
        children=(
            DefaultInstance(
                "unix_listener",
                "login/submission",
                values=(("mode", "0666"),),
            ),
        ),
    ),
    DefaultInstance(
        "service",
        "tcpwrap",
        values=(
            ("client_limit", "1"),
            ("executable", "tcpwrap"),
            ("user", "$default_internal_user"),
        ),
    ),
)
