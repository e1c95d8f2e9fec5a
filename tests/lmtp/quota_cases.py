"""LMTP and the quota plugin: a recipient already over quota, with ``lmtp_rcpt_check_quota`` on
and off (and ``quota_full_tempfail``). Shared by ``record_quota.py`` (real Dovecot 2.3.19) and
``test_rcpt_quota.py``.

alice's INBOX holds a 2000-byte message before the session, above her 1K limit; bob has room.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.lmtp.harness import write_config

QUOTA = """\
mail_plugins = $mail_plugins quota
plugin {
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:storage=1K
}
"""
VARIANTS: dict[str, str] = {
    "rcpt_check_yes": "lmtp_rcpt_check_quota = yes\n",
    "rcpt_check_no": "lmtp_rcpt_check_quota = no\n",
    "rcpt_check_yes_tempfail": "lmtp_rcpt_check_quota = yes\nquota_full_tempfail = yes\n",
    "rcpt_check_no_tempfail": "lmtp_rcpt_check_quota = no\nquota_full_tempfail = yes\n",
}
BODY = b"Subject: q\r\nMessage-ID: <q1@ext.test>\r\n\r\nsmall\r\n.\r\n"
STEPS = [
    b"LHLO client.example.test\r\n",
    # the over-quota recipient with one that has room
    b"MAIL FROM:<sender@ext.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
    BODY,
    # the over-quota recipient alone
    b"MAIL FROM:<sender@ext.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n",
    BODY,
    b"QUIT\r\n",
]
FULL_MESSAGE = b"Subject: old\nMessage-ID: <old@ext.test>\n\n" + b"x" * 1900 + b"\n"


def write_variant(root: Path, port: int, name: str, uid: int | None = None) -> Path:
    conf = write_config(root, port, extra=QUOTA + VARIANTS[name], uid=uid)
    fill_alice(root, uid)
    return conf


def fill_alice(root: Path, uid: int | None) -> None:
    """alice's Maildir with one old message, larger than her whole quota."""
    maildir = root / "mail" / "alice@example.test" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    lines = FULL_MESSAGE.count(b"\n")
    name = f"1700000000.M1P1.mx,S={len(FULL_MESSAGE)},W={len(FULL_MESSAGE) + lines}:2,S"
    (maildir / "cur" / name).write_bytes(FULL_MESSAGE)
    if uid is None:
        uid = 65534 if os.geteuid() == 0 else os.geteuid()
    gid = 65534 if uid == 65534 else os.getegid()
    for path in [root / "mail" / "alice@example.test", *maildir.rglob("*"), maildir]:
        os.chown(path, uid, gid)


def message_count(root: Path, user: str) -> int:
    """Messages in the user's INBOX (new/ and cur/)."""
    maildir = root / "mail" / f"{user}@example.test" / "Maildir"
    return sum(1 for sub in ("new", "cur") if (maildir / sub).is_dir() for _ in (maildir / sub).iterdir())
