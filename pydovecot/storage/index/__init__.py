"""Our own per-mailbox index (modseqs, sizes, dates, recent), kept beside Dovecot's."""
