"""doveadm and dsync settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "doveadm_allowed_commands",
        Kind.STR,
        "",
        "Commands a doveadm client may run over the network; empty allows all.",
        modules=("doveadm",),
    ),
    Setting(
        "doveadm_api_key",
        Kind.STR,
        "",
        "API key accepted by the doveadm HTTP API.",
        modules=("doveadm",),
        secret=True,
    ),
    Setting(
        "doveadm_http_rawlog_dir",
        Kind.STR,
        "",
        "Directory where raw doveadm HTTP traffic is logged.",
        modules=("doveadm",),
    ),
    Setting(
        "doveadm_password",
        Kind.STR,
        "",
        "Password that doveadm clients and servers authenticate with.",
        modules=("doveadm",),
        secret=True,
    ),
    Setting(
        "doveadm_port",
        Kind.PORT,
        "0",
        "TCP port of remote doveadm servers; 0 means doveadm runs commands locally.",
        modules=("doveadm",),
    ),
    Setting(
        "doveadm_socket_path",
        Kind.STR,
        "doveadm-server",
        "UNIX socket of the local doveadm server.",
        modules=("doveadm", "replicator"),
    ),
    Setting(
        "doveadm_ssl",
        Kind.ENUM,
        "no",
        "Whether doveadm connections to remote servers use TLS.",
        values=("no", "ssl", "starttls"),
        modules=("doveadm",),
    ),
    Setting(
        "doveadm_username",
        Kind.STR,
        "doveadm",
        "Username that doveadm clients authenticate with.",
        modules=("doveadm",),
    ),
    Setting(
        "doveadm_worker_count",
        Kind.UINT,
        "0",
        "Doveadm commands run in parallel for multi-user commands; 0 runs them in the doveadm process.",
        modules=("doveadm",),
    ),
    Setting(
        "dsync_alt_char",
        Kind.STR,
        "_",
        "Replacement for characters not allowed in mailbox names when syncing.",
        modules=("doveadm",),
    ),
    Setting(
        "dsync_commit_msgs_interval",
        Kind.UINT,
        "100",
        "Commit the dsync transaction after this many messages.",
        modules=("doveadm",),
    ),
    Setting("dsync_features", Kind.STR, "", "Optional dsync features to enable.", modules=("doveadm",)),
    Setting(
        "dsync_hashed_headers",
        Kind.STR,
        "Date Message-ID",
        "Headers hashed to match messages between the two sides of dsync.",
        modules=("doveadm",),
    ),
    Setting(
        "dsync_remote_cmd",
        Kind.STR,
        "ssh -l%{login} %{host} doveadm dsync-server -u%u -U",
        "Command that starts dsync on the remote side.",
        modules=("doveadm",),
    ),
)
