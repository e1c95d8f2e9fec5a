"""LMTP sessions replayed against real Dovecot (recorded) and pydovecot (tested): byte steps."""

from __future__ import annotations

L = b"LHLO client.example\r\n"

SCENARIOS: dict[str, list[bytes]] = {
    "multi_rcpt_data": [
        L, b"MAIL FROM:<sender@ext.test>\r\n", b"RCPT TO:<alice@example.test>\r\n",
        b"RCPT TO:<nobody@example.test>\r\n", b"RCPT TO:<bob+work@example.test>\r\n", b"DATA\r\n",
        b"Subject: hi\r\nMessage-ID: <m1@x>\r\n\r\nbody\r\n..dot\r\n.\r\n",
        b"VRFY alice\r\n", b"NOOP\r\n", b"RSET\r\n", b"FOO\r\n", b"HELO x\r\n", b"EHLO x\r\n",
        b"MAIL FROM:<>\r\n", b"DATA\r\n", b"QUIT\r\n",
    ],
    "transactions_bdat": [
        L, b"MAIL FROM:<sender@ext.test> BODY=8BITMIME\r\n", b"RCPT TO:<bob+work@example.test>\r\n",
        b"DATA\r\n", b"Subject: one\r\n\r\nbody\r\n.\r\n",
        b"MAIL FROM:<s2@ext.test>\r\n", b"RCPT TO:<alice@example.test>\r\n", b"RCPT TO:<x@example.test>\r\n",
        b"RCPT TO:<bob@example.test>\r\n", b"RCPT TO:<alice@example.test>\r\n",
        b"BDAT 10\r\nSubject: t", b"BDAT 8 LAST\r\n\r\nbody\r\n",
        b"MAIL FROM:<s3@ext.test>\r\n", b"MAIL FROM:<s3@ext.test>\r\n", b"RCPT TO:<bob@example.test>\r\n",
        b"BDAT 0 LAST\r\n", b"RCPT TO:alice@example.test\r\n", b"QUIT x\r\n", b"QUIT\r\n",
    ],
    "syntax_errors": [
        b"MAIL FROM:<a@b>\r\n", b"LHLO\r\n", b"LHLO x y\r\n", b"LHLO [127.0.0.1]\r\n",
        b"MAIL FROM:<a@b>\r\n", b"RCPT TO:alice@example.test\r\n", b"RCPT TO:<>\r\n", b"RCPT TO:<alice>\r\n",
        b"RCPT TO:<alice@example.test> FOO=bar\r\n", b"RCPT TO:<postmaster>\r\n",
        b"RCPT TO:<alice@example.test> NOTIFY=NEVER\r\n", b"RCPT TO: <bob@example.test>\r\n",
        b"rcpt to:<bob@example.test>\r\n", b"BDAT x\r\n", b"VRFY\r\n", b"NOOP foo\r\n", b"RSET x\r\n",
        b"MAIL\r\n", b"QUIT\r\n",
    ],
    "params_and_chunk_state": [
        L, b"MAIL FROM:<a@b> SIZE=100 FOO=1\r\n", b"MAIL FROM:<a@b> SIZE=100\r\n", b"MAIL FROM:bad\r\n",
        b"RCPT TO:<alice@example.test>\r\n", b"BDAT 3\r\nA: ", b"DATA\r\n", b"RSET\r\n", b"STARTTLS\r\n",
        b"AUTH PLAIN\r\n", b"HELP\r\n", b"DATA\r\n", b"MAIL FROM:<a@b> AUTH=<>\r\n", b"QUIT\r\n",
    ],
    "binary_body_and_orcpt": [
        L, b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<alice@example.test> ORCPT=rfc822;orig@example.test\r\n",
        b"DATA\r\n", b"Message-ID: <nul@q>\r\nx\0y\r\nbare\nlf\r\nbare\rcr\r\n..\r\n...x\r\n\r\n.\r\n",
        b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<bob@example.test>\r\n", b"BDAT 3\r\nA: ", b"DATA\r\n",
        b"BDAT 2 LAST\r\nb\n", b"QUIT\r\n",
    ],
    "garbage_lines": [
        L, b"x\0y\r\nbare\nlf\r\nbare\rcr\r\n\r\n.\r\n", b"QUIT\r\n",
    ],
}

SCENARIOS.update({
    "long_lines": [
        L, b"NOOP " + b"x" * 4096 + b"\r\n", b"NOOP " + b"x" * 4097 + b"\r\n", b"NOOP " + b"x" * 1_000_000 + b"\r\n",
        b"X" * 32 + b"\r\n", b"X" * 33 + b"\r\n", b"X" * 5000 + b"\r\n", b"NOOP\r\n",
        b"MAIL FROM:<" + b"a" * 5000 + b"@b>\r\n", b"QUIT\r\n",
    ],
    "detail_mailbox_autocreate": [
        L, b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<bob+work@example.test>\r\n", b"DATA\r\n",
        b"Subject: to work\r\n\r\nx\r\n.\r\n", b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<bob+work@example.test>\r\n",
        b"RCPT TO:<alice+other@example.test>\r\n", b"DATA\r\n", b"Subject: two\r\n\r\ny\r\n.\r\n", b"QUIT\r\n",
    ],
    "detail_mailbox_missing": [
        L, b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<bob+work@example.test>\r\n", b"DATA\r\n",
        b"Subject: to work\r\nMessage-ID: <w@x>\r\n\r\nx\r\n.\r\n", b"QUIT\r\n",
    ],
    "hdr_original_no_received": [
        L, b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<alice@example.test> ORCPT=rfc822;orig+x2Bq@example.test\r\n",
        b"RCPT TO:<alice@example.test> ORCPT=rfc822;orig+2Bx@example.test\r\n",
        b"DATA\r\n", b"Subject: orig\r\n\r\nx\r\n.\r\n", b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<bob@example.test>\r\n",
        b"DATA\r\n", b"Subject: plain\r\n\r\nx\r\n.\r\n", b"QUIT\r\n",
    ],
    "hdr_none": [
        L, b"MAIL FROM:<>\r\n", b"RCPT TO:<alice@example.test>\r\n", b"DATA\r\n", b"Subject: none\r\n\r\nx\r\n.\r\n",
        b"QUIT\r\n",
    ],
})

# Settings added to the shared test config for a scenario.
SCENARIO_CONFIG: dict[str, str] = {
    "detail_mailbox_autocreate": "lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes\n",
    "detail_mailbox_missing": "lmtp_save_to_detail_mailbox = yes\n",
    "hdr_original_no_received": "lmtp_hdr_delivery_address = original\nlmtp_add_received_header = no\n",
    "hdr_none": "lmtp_hdr_delivery_address = none\n",
}

SCENARIOS["no_lhlo_and_case"] = [
    b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<Bob@EXAMPLE.test>\r\n", b"DATA\r\n",
    b"Subject: case\r\nMessage-ID:\r\n <folded@x>\r\n\r\nx\r\n.\r\n", b"QUIT\r\n",
]

SCENARIOS["bdat_edges"] = [
    L, b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<alice@example.test>\r\n", b"BDAT 3\r\nA: ",
    b"RCPT TO:<bob@example.test>\r\n", b"MAIL FROM:<a@b>\r\n", b"BDAT 2 LAST\r\nb\n", b"MAIL FROM:<a@b>\r\n",
    b"RCPT TO:<x@example.test>\r\n", b"BDAT 3\r\nabc", b"BDAT 3 LAST\r\nabc", b"RSET\r\n", b"BDAT 3 last\r\nabc",
    b"RSET\r\n", b"BDAT 3 LAST x\r\nabc", b"BDAT -1\r\n", b"QUIT\r\n",
]
