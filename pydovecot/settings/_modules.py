"""Config module sets shared by many settings, as `doveconf -m MODULE` sees them."""

from __future__ import annotations

# doveconf -m NAME always prints the master-service settings, whatever NAME is.
EVERY_MODULE: tuple[str, ...] = (
    "aggregator",
    "auth",
    "dict",
    "director",
    "doveadm",
    "fs-crypt",
    "imap",
    "imap-login",
    "imap-urlauth",
    "imap-urlauth-login",
    "imap-urlauth-worker",
    "imapc",
    "lda",
    "lmtp",
    "login",
    "mail",
    "maildir",
    "master",
    "mbox",
    "mdbox",
    "pop3",
    "pop3-login",
    "pop3c",
    "replicator",
    "smtp-submit",
    "ssl",
    "ssl-server",
    "stats",
    "submission",
    "submission-login",
)

# The processes that load the mail user and mail storage settings.
MAIL_USER: tuple[str, ...] = (
    "doveadm",
    "imap",
    "imap-urlauth-worker",
    "lda",
    "lmtp",
    "mail",
    "pop3",
    "submission",
)

# The pre-login processes.
LOGIN: tuple[str, ...] = (
    "imap-login",
    "imap-urlauth-login",
    "login",
    "pop3-login",
    "submission-login",
)

# The TLS settings roots (server side adds ssl-server).
SSL: tuple[str, ...] = (
    "ssl",
    "ssl-server",
)
