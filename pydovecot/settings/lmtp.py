"""LMTP delivery settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "lmtp_add_received_header",
        Kind.BOOL,
        "yes",
        "Add a Received: header to delivered messages.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_client_workarounds",
        Kind.STR,
        "",
        "Workarounds for known bugs of LMTP clients.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_hdr_delivery_address",
        Kind.ENUM,
        "final",
        "Which recipient address goes into the Delivered-To: header.",
        values=("final", "none", "original"),
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_proxy",
        Kind.BOOL,
        "no",
        "Proxy deliveries to other LMTP servers according to the passdb's proxy fields.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_proxy_rawlog_dir",
        Kind.STR_VARS,
        "",
        "Directory where raw traffic of proxied LMTP connections is logged.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_rawlog_dir",
        Kind.STR_VARS,
        "",
        "Directory where raw LMTP traffic is logged.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_rcpt_check_quota",
        Kind.BOOL,
        "no",
        "Check the quota already at RCPT TO instead of only at delivery.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_save_to_detail_mailbox",
        Kind.BOOL,
        "no",
        "Deliver user+detail addresses into the mailbox named detail.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_user_concurrency_limit",
        Kind.UINT,
        "0",
        "Most parallel deliveries to the same user; 0 means no limit.",
        modules=("lmtp",),
    ),
    Setting(
        "lmtp_verbose_replies",
        Kind.BOOL,
        "no",
        "Give more detail in LMTP error replies.",
        modules=("lmtp",),
    ),
)
