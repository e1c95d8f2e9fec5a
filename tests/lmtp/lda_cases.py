"""dovecot-lda invocations run against the real binary (recorded) and ours (tested)."""

from __future__ import annotations

# name -> (arguments after -c CONF, stdin)
LDA_CASES: dict[str, tuple[list[str], bytes]] = {
    "basic": (["-d", "alice@example.test", "-f", "env@sender.test", "-a", "orig@example.test"],
              b"Subject: lda\nMessage-ID: <lda1@x>\n\nhello\n"),
    "unknown_user": (["-d", "nobody@example.test"], b"Subject: x\n\nhello\n"),
    "missing_mailbox_falls_back": (["-d", "bob@example.test", "-m", "Work", "-e"], b"Subject: w\n\nhello\n"),
    "from_line_and_final": (["-d", "bob@example.test", "-r", "final@example.test"],
                            b"From x@y  Mon Jan  1 00:00:00 2024\nSubject: lda2\n\nhello\n"),
    "autocreate_override": (["-d", "alice@example.test", "-m", "Work", "-o", "lda_mailbox_autocreate=yes"],
                            b"Subject: auto\r\nMessage-ID: <crlf@x>\r\n\r\nline\r\nbare\rcr\r\n"),
    "binary_body": (["-d", "alice@example.test"], b"Subject: bin\n\nnul\0byte\r\n.\n..\n"),
}
