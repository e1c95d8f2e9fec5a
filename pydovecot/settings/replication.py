"""Replicator and aggregator settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "replication_dsync_parameters",
        Kind.STR,
        "-d -N -l 30 -U",
        "Extra parameters given to dsync when the replicator syncs.",
        modules=("replicator",),
    ),
    Setting(
        "replication_full_sync_interval",
        Kind.TIME,
        "1 days",
        "Do a full sync of every user at least this often.",
        modules=("replicator",),
    ),
    Setting(
        "replication_max_conns",
        Kind.UINT,
        "10",
        "Most dsyncs the replicator runs at once.",
        modules=("replicator",),
    ),
    Setting(
        "replicator_host",
        Kind.STR,
        "replicator",
        "Replicator host or socket that the aggregator reports changes to.",
        modules=("aggregator",),
    ),
    Setting(
        "replicator_port",
        Kind.PORT,
        "0",
        "Port of replicator_host; 0 means it is a UNIX socket.",
        modules=("aggregator",),
    ),
)
