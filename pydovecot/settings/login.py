"""Settings of the pre-login processes (imap-login, pop3-login, submission-login).

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings._modules import LOGIN
from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "disable_plaintext_auth",
        Kind.BOOL,
        "yes",
        "Refuse plaintext authentication on connections that are neither TLS nor trusted.",
        modules=LOGIN,
    ),
    Setting(
        "login_access_sockets",
        Kind.STR,
        "",
        "Sockets asked whether a client may log in (for example tcpwrap).",
        modules=LOGIN,
    ),
    Setting(
        "login_greeting",
        Kind.STR_VARS,
        "Dovecot (Debian) ready.",
        "Greeting sent to clients when they connect.",
        modules=(
            "imap-login",
            "imap-urlauth-login",
            "lmtp",
            "login",
            "pop3-login",
            "submission",
            "submission-login",
        ),
    ),
    Setting(
        "login_log_format",
        Kind.STR,
        "%$: %s",
        "Format of login process log lines (%s is the message, %$ the elements).",
        modules=LOGIN,
    ),
    Setting(
        "login_log_format_elements",
        Kind.STR,
        "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>",
        "Elements expanded into the %$ of login_log_format.",
        modules=LOGIN,
    ),
    Setting(
        "login_plugin_dir",
        Kind.STR,
        "/usr/lib/dovecot/modules/login",
        "Directory the login plugins are loaded from.",
        modules=LOGIN,
    ),
    Setting("login_plugins", Kind.STR, "", "Space-separated login plugins to load.", modules=LOGIN),
    Setting(
        "login_proxy_max_disconnect_delay",
        Kind.TIME,
        "0",
        "Spread proxy disconnections over this long when a backend goes away.",
        modules=LOGIN,
    ),
    Setting(
        "login_proxy_max_reconnects",
        Kind.UINT,
        "3",
        "How many times a login proxy retries a backend connection.",
        modules=LOGIN,
    ),
    Setting(
        "login_proxy_notify_path",
        Kind.STR_VARS,
        "proxy-notify",
        "Socket where login proxies report users' proxied sessions.",
        modules=LOGIN,
    ),
    Setting(
        "login_proxy_rawlog_dir",
        Kind.STR,
        "",
        "Directory where the raw traffic of proxied sessions is logged.",
        modules=LOGIN,
    ),
    Setting(
        "login_proxy_timeout",
        Kind.TIME_MSECS,
        "30 secs",
        "Timeout of a login proxy's connection to the backend.",
        modules=LOGIN,
    ),
    Setting(
        "login_source_ips",
        Kind.STR,
        "",
        "Source addresses login proxies connect from, used in turn.",
        modules=LOGIN,
    ),
    Setting(
        "login_trusted_networks",
        Kind.STR,
        "",
        "Networks whose clients may override their IP and session data and log in without TLS.",
        modules=(
            "imap-login",
            "imap-urlauth-login",
            "lmtp",
            "login",
            "pop3-login",
            "submission",
            "submission-login",
        ),
    ),
    Setting(
        "mail_max_userip_connections",
        Kind.UINT,
        "10",
        "Most concurrent connections per user from one IP address.",
        modules=LOGIN,
    ),
)
