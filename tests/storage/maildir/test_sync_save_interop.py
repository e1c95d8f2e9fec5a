"""Live interop of our sync/save with the real Dovecot 2.3.19 (doveadm without a daemon)."""

from __future__ import annotations

import os

import pytest

from pydovecot.storage.maildir import filename as fn
from pydovecot.storage.maildir.mailbox import MaildirMailbox

from .maildir_view import MessageView
from .test_maildir_interop import MESSAGE, Doveadm, dovecot  # noqa: F401 (fixture)

pytestmark = pytest.mark.oracle


def _ours(box: MaildirMailbox) -> list[MessageView]:
    return [MessageView(m.uid, m.base, frozenset(m.flags | set(m.keywords))) for m in box.sync().messages]


def test_dovecot_sees_our_saves_with_our_uids(dovecot: Doveadm) -> None:  # noqa: F811
    box = MaildirMailbox(str(dovecot.root))
    saved = [
        box.save(MESSAGE),
        box.save(MESSAGE, flags=["\\Seen"], internaldate=1_600_000_000),
        box.save(MESSAGE, flags=["\\Flagged"], keywords=["$Forwarded", "Work"]),
        box.save(MESSAGE, keywords=["Work"]),
    ]
    assert [uid for uid, _ in saved] == [1, 2, 3, 4]
    box.set_flags(1, ["\\Answered"], ["Later"])
    assert box.expunge(4) is True
    expected = _ours(box)
    assert dovecot.fetch() == expected
    assert [m.uid for m in expected] == [1, 2, 3]
    result = box.sync()
    assert dovecot.status() == (result.uid_validity, result.next_uid)
    # Dovecot reads our ,S=/,W= sizes and mtime as it would its own.
    out = dovecot.run(
        "fetch", "uid size.physical size.virtual date.received", "mailbox", "INBOX", "uid", "2"
    ).stdout
    assert f"size.physical: {len(MESSAGE)}" in out
    vsize = len(MESSAGE) + MESSAGE.count(b"\n")
    assert f"size.virtual: {vsize}" in out
    assert "2020-09-13" in out  # 1_600_000_000 as the INTERNALDATE
    # Our next save continues after Dovecot's view, and Dovecot agrees.
    uid, _ = box.save(MESSAGE, flags=["\\Draft"])
    assert uid == 5
    assert dovecot.fetch()[-1] == MessageView(5, _ours(box)[-1].guid, frozenset({"\\Draft"}))


def test_our_sync_keeps_uids_dovecot_assigned(dovecot: Doveadm) -> None:  # noqa: F811
    for i in range(4):
        dovecot.run("save", stdin=MESSAGE.replace(b"hi", f"hi {i}".encode()))
    dovecot.run("flags", "add", "\\Seen $Label1", "mailbox", "INBOX", "uid", "2")
    dovecot.run("expunge", "mailbox", "INBOX", "uid", "3")
    root = dovecot.root
    # Mail Dovecot has not seen yet, delivered the plain maildir way into new/.
    late = fn.add_size_fields(fn.generate_base(2_000_000_000, 1, 77, "mta"), None, None)
    (root / "new" / late).write_bytes(MESSAGE)

    box = MaildirMailbox(str(root))
    ours = _ours(box)
    assert [m.uid for m in ours] == [1, 2, 4, 5]
    assert ours[1].flags == {"\\Seen", "$Label1"}
    assert os.listdir(root / "new") == []
    assert dovecot.fetch() == ours
    # Dovecot's next save continues after the UID we gave the late message.
    dovecot.run("save", stdin=MESSAGE)
    assert [m.uid for m in _ours(box)] == [1, 2, 4, 5, 6]
    assert dovecot.fetch() == _ours(box)
