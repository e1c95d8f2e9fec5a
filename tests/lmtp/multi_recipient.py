"""One DATA for three local recipients: what each recipient's Maildir gets, as comparable facts.

Shared by the recorder (``record_multi_recipient.py``, real Dovecot 2.3.19) and the test. Real
Dovecot saves the message for the first recipient and copies that mail for the others: a hard
link (one inode, ``st_nlink`` 3) when ``maildir_copy_with_hardlinks`` and the files' owner,
group and mode allow, else a byte copy; either way the copy keeps the first file's base name.
No per-recipient header is added when there are several recipients (``Delivered-To`` only for
a single one, whatever ``lmtp_hdr_delivery_address`` says), so the bytes are the same.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.lmtp.harness import normalize_message, write_config

RECIPIENTS = ("alice", "bob", "carol")
STEPS = [
    b"LHLO client.example.test\r\n",
    b"MAIL FROM:<sender@ext.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob+box@example.test>\r\n"
    b"RCPT TO:<carol@example.test> ORCPT=rfc822;orig@example.test\r\nDATA\r\n",
    b"Subject: to three\r\nMessage-ID: <three@ext.test>\r\n\r\nOne body for everyone.\r\n.\r\n",
    b"QUIT\r\n",
]
# name -> (extra settings, carol's uid:gid or None for the same as the others)
VARIANTS: dict[str, tuple[str, str | None]] = {
    "default": ("", None),
    "hdr_delivery_address_none": ("lmtp_hdr_delivery_address = none\n", None),
    "hdr_delivery_address_original": ("lmtp_hdr_delivery_address = original\n", None),
    "save_to_detail_mailbox": ("lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes\n", None),
    "no_hardlinks": ("maildir_copy_with_hardlinks = no\n", None),
    "other_uid": ("", "10000:10000"),
}


def write_variant(root: Path, port: int, name: str, uid: int | None = None) -> Path:
    """The harness config plus a third user, carol (with her own uid in ``other_uid``)."""
    extra, carol_ids = VARIANTS[name]
    conf = write_config(root, port, extra=extra, uid=uid)
    users = (root / "users").read_text()
    alice = users.splitlines()[0]
    fields = alice.split(":")
    fields[0] = "carol@example.test"
    fields[5] = fields[5].replace("alice@", "carol@")
    if carol_ids is not None:
        fields[2], fields[3] = carol_ids.split(":")
    (root / "users").write_text(users + ":".join(fields) + "\n")
    return conf


def observe(root: Path) -> dict[str, object]:
    """Per recipient: where the message went and its normalised bytes; which recipients share
    one inode; whether every copy has the first file's base name."""
    files: dict[str, Path] = {}
    for user in RECIPIENTS:
        maildir = root / "mail" / f"{user}@example.test" / "Maildir"
        for found in sorted(maildir.glob("**/new/*")) + sorted(maildir.glob("**/cur/*")):
            files[user] = found
    inodes: dict[tuple[int, int], list[str]] = {}
    for user, path in files.items():
        st = path.stat()
        inodes.setdefault((st.st_dev, st.st_ino), []).append(user)
    bases = {path.name.partition(",")[0] for path in files.values()}
    return {
        "folders": {u: str(p.parent.parent.relative_to(root / "mail" / f"{u}@example.test")) for u, p in files.items()},
        "mail": {u: normalize_message(p.read_bytes()).decode("latin-1") for u, p in files.items()},
        "shared_inodes": sorted(sorted(group) for group in inodes.values()),
        "nlink": {u: p.stat().st_nlink for u, p in files.items()},
        "one_base_name": len(bases) == 1,
        "owners": {u: p.stat().st_uid for u, p in files.items()},
    }


def can_run_other_uid() -> bool:
    return os.geteuid() == 0
