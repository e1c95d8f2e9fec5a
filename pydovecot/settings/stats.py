"""Statistics settings (stats and old-stats) and the metric/event_exporter section types.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings._modules import EVERY_MODULE
from pydovecot.settings.model import Kind, SectionType, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "event_exporter",
        Kind.LIST,
        "",
        "Where and in which format the stats service exports events.",
        section="event_exporter",
        modules=("stats",),
    ),
    Setting(
        "metric",
        Kind.LIST,
        "",
        "Event statistics the stats service gathers.",
        section="metric",
        modules=("stats",),
    ),
    Setting(
        "old_stats_carbon_interval",
        Kind.TIME,
        "30 secs",
        "How often the old stats service sends data to Carbon.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_carbon_name",
        Kind.STR,
        "",
        "Name this server reports to Carbon under.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_carbon_server",
        Kind.STR,
        "",
        "Carbon server (host:port) the old stats service sends to.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_command_min_time",
        Kind.TIME,
        "1 mins",
        "Keep a command's stats at least this long after it ends.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_domain_min_time",
        Kind.TIME,
        "12 hours",
        "Keep a domain's stats at least this long after its last session.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_ip_min_time",
        Kind.TIME,
        "12 hours",
        "Keep an IP's stats at least this long after its last session.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_memory_limit",
        Kind.SIZE,
        "16 M",
        "Memory budget of the old stats service.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_session_min_time",
        Kind.TIME,
        "15 mins",
        "Keep a session's stats at least this long after it ends.",
        modules=("stats",),
    ),
    Setting(
        "old_stats_user_min_time",
        Kind.TIME,
        "1 hours",
        "Keep a user's stats at least this long after their last session.",
        modules=("stats",),
    ),
    Setting(
        "stats_http_rawlog_dir",
        Kind.STR,
        "",
        "Directory where raw stats HTTP traffic is logged.",
        modules=("stats",),
    ),
    Setting(
        "stats_writer_socket_path",
        Kind.STR,
        "stats-writer",
        "Socket where processes send their events to the stats service; empty disables it.",
        modules=EVERY_MODULE,
    ),
)

SECTION_TYPES: tuple[SectionType, ...] = (
    SectionType(
        name="metric",
        key="metric_name",
        settings=(
            Setting("metric_name", Kind.STR, "", "Name of the metric; the section name sets it."),
            Setting("fields", Kind.STR, "", "Event fields whose values are gathered."),
            Setting("group_by", Kind.STR, "", "Fields that split the metric into sub-metrics."),
            Setting("filter", Kind.STR, "event=x", "Event filter selecting the events counted."),
            Setting("exporter", Kind.STR, "", "event_exporter the matching events are sent to."),
            Setting(
                "exporter_include",
                Kind.STR,
                "name hostname timestamps categories fields",
                "Parts of an event included in exports.",
            ),
            Setting("description", Kind.STR, "", "Human-readable description of the metric."),
        ),
        doc="A statistic the stats service gathers from matching events.",
        modules=("stats",),
    ),
    SectionType(
        name="event_exporter",
        key="name",
        settings=(
            Setting("name", Kind.STR, "", "Name of the exporter; the section name sets it."),
            Setting("transport", Kind.STR, "log", "How events leave: drop, http-post or log."),
            Setting("transport_args", Kind.STR, "", "Arguments of the transport, e.g. the URL."),
            Setting("transport_timeout", Kind.TIME_MSECS, "250 ms", "Timeout of exporting one event."),
            Setting("format", Kind.STR, "json", "Serialisation of events: json or tab-text."),
            Setting("format_args", Kind.STR, "time-rfc3339", "Options of the format, e.g. the time format."),
        ),
        doc="A destination the stats service exports events to.",
        modules=("stats",),
    ),
)
