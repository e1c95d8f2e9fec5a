"""POP3 settings.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings._modules import MAIL_USER
from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "pop3_client_workarounds",
        Kind.STR,
        "",
        "Workarounds for known bugs of POP3 clients.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_delete_type",
        Kind.ENUM,
        "default",
        "What DELE does when pop3_deleted_flag is set: expunge or flag.",
        values=("default", "expunge", "flag"),
        modules=("pop3",),
    ),
    Setting(
        "pop3_deleted_flag",
        Kind.STR,
        "",
        "Keyword set on deleted messages instead of expunging them.",
        modules=(
            "doveadm",
            "imap",
            "imap-urlauth-worker",
            "imapc",
            "lda",
            "lmtp",
            "mail",
            "pop3",
            "submission",
        ),
    ),
    Setting("pop3_enable_last", Kind.BOOL, "no", "Support the obsolete LAST command.", modules=("pop3",)),
    Setting(
        "pop3_fast_size_lookups",
        Kind.BOOL,
        "no",
        "Use approximate sizes when the exact ones are unknown.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_lock_session",
        Kind.BOOL,
        "no",
        "Allow only one POP3 session per mailbox at a time.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_logout_format",
        Kind.STR,
        "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s",
        "Format of the statistics logged when a POP3 session ends.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_no_flag_updates",
        Kind.BOOL,
        "no",
        "Do not mark messages as seen when they are read.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_reuse_xuidl",
        Kind.BOOL,
        "no",
        "Use the X-UIDL header as the UIDL when a message has one.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_save_uidl",
        Kind.BOOL,
        "no",
        "Keep generated UIDLs so later format changes do not alter them.",
        modules=("pop3",),
    ),
    Setting(
        "pop3_uidl_duplicates",
        Kind.ENUM,
        "allow",
        "What to do when two messages have the same UIDL.",
        values=("allow", "rename"),
        modules=("pop3",),
    ),
    Setting("pop3_uidl_format", Kind.STR, "%08Xu%08Xv", "Template of POP3 UIDLs.", modules=MAIL_USER),
)
