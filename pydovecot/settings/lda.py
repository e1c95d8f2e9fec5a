"""Local delivery settings shared by dovecot-lda and LMTP, and how Dovecot sends mail itself.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "deliver_log_format",
        Kind.STR,
        "msgid=%m: %$",
        "Format of the line logged for every delivered message.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "lda_mailbox_autocreate",
        Kind.BOOL,
        "no",
        "Create the destination mailbox if it does not exist at delivery.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "lda_mailbox_autosubscribe",
        Kind.BOOL,
        "no",
        "Subscribe to mailboxes created at delivery.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "lda_original_recipient_header",
        Kind.STR,
        "",
        "Header that holds the original recipient address if the envelope lacks it.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "quota_full_tempfail",
        Kind.BOOL,
        "no",
        "Answer a temporary failure instead of bouncing when the user is over quota.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "rejection_reason",
        Kind.STR,
        "Your message to <%t> was automatically rejected:%n%r",
        "Body of the rejection message sent back (e.g. by Sieve reject).",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "rejection_subject",
        Kind.STR,
        "Rejected: %s",
        "Subject of the rejection message sent back.",
        modules=("lda", "lmtp"),
    ),
    Setting(
        "sendmail_path",
        Kind.STR_VARS,
        "/usr/sbin/sendmail",
        "Sendmail binary used to send mail when submission_host is empty.",
        modules=("imap", "lda", "lmtp", "smtp-submit"),
    ),
    Setting(
        "submission_host",
        Kind.STR_VARS,
        "",
        "SMTP server (host[:port]) used to send mail instead of sendmail.",
        modules=("imap", "lda", "lmtp", "smtp-submit"),
    ),
    Setting(
        "submission_ssl",
        Kind.ENUM,
        "no",
        "Whether and how the connection to submission_host uses TLS.",
        values=("no", "smtps", "submissions", "starttls"),
        modules=("imap", "lda", "lmtp", "smtp-submit"),
    ),
    Setting(
        "submission_timeout",
        Kind.TIME,
        "30 secs",
        "Timeout of the connection to submission_host.",
        modules=("imap", "lda", "lmtp", "smtp-submit"),
    ),
)
