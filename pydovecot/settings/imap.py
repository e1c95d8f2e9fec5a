"""IMAP, imap-login and IMAP URLAUTH settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "imap_capability",
        Kind.STR,
        "",
        "Override of the advertised IMAP capabilities; a leading + adds to the defaults.",
        modules=("imap", "imap-login"),
    ),
    Setting(
        "imap_client_workarounds",
        Kind.STR,
        "",
        "Workarounds for known bugs of IMAP clients.",
        modules=("imap",),
    ),
    Setting(
        "imap_fetch_failure",
        Kind.ENUM,
        "disconnect-immediately",
        "What to do when a message cannot be fetched.",
        values=("disconnect-immediately", "disconnect-after", "no-after"),
        modules=("imap",),
    ),
    Setting(
        "imap_hibernate_timeout",
        Kind.TIME,
        "0",
        "Idle time after which an IDLE session is moved to imap-hibernate; 0 disables it.",
        modules=("imap",),
    ),
    Setting(
        "imap_id_log",
        Kind.STR,
        "",
        "ID fields sent by the client that are logged; * logs all.",
        modules=("imap", "imap-login"),
    ),
    Setting(
        "imap_id_retain",
        Kind.BOOL,
        "no",
        "Keep the client's ID fields for later use, such as in proxying.",
        modules=("imap-login",),
    ),
    Setting(
        "imap_id_send",
        Kind.STR,
        "name *",
        "ID fields this server sends back to the client.",
        modules=("imap", "imap-login"),
    ),
    Setting(
        "imap_idle_notify_interval",
        Kind.TIME,
        "2 mins",
        "How often IDLE sends a keepalive to the client.",
        modules=("imap",),
    ),
    Setting(
        "imap_literal_minus",
        Kind.BOOL,
        "no",
        "Advertise LITERAL- instead of LITERAL+.",
        modules=("imap", "imap-login"),
    ),
    Setting(
        "imap_logout_format",
        Kind.STR,
        "in=%i out=%o deleted=%{deleted} expunged=%{expunged} trashed=%{trashed} hdr_count=%{fetch_hdr_count} hdr_bytes=%{fetch_hdr_bytes} body_count=%{fetch_body_count} body_bytes=%{fetch_body_bytes}",
        "Format of the statistics logged when an IMAP session ends.",
        modules=("imap",),
    ),
    Setting(
        "imap_max_line_length",
        Kind.SIZE,
        "64 k",
        "Longest IMAP command line accepted from a client.",
        modules=("imap",),
    ),
    Setting(
        "imap_metadata",
        Kind.BOOL,
        "no",
        "Enable the IMAP METADATA extension (needs mail_attribute_dict).",
        modules=("imap",),
    ),
    Setting(
        "imap_urlauth_host",
        Kind.STR,
        "",
        "Host of the IMAP URLAUTH service; empty disables URLAUTH.",
        modules=("imap", "imap-urlauth-worker", "submission"),
    ),
    Setting(
        "imap_urlauth_logout_format",
        Kind.STR,
        "in=%i out=%o",
        "Format of the statistics logged when an imap-urlauth session ends.",
        modules=("imap-urlauth",),
    ),
    Setting(
        "imap_urlauth_port",
        Kind.PORT,
        "143",
        "Port of the IMAP URLAUTH service.",
        modules=("imap", "imap-urlauth-worker", "submission"),
    ),
    Setting(
        "imap_urlauth_stream_user",
        Kind.STR,
        "",
        "User the imap-urlauth service streams message data as.",
        modules=("imap-urlauth",),
        hidden=True,
    ),
    Setting(
        "imap_urlauth_submit_user",
        Kind.STR,
        "",
        "User the imap-urlauth service submits messages as.",
        modules=("imap-urlauth",),
        hidden=True,
    ),
)
