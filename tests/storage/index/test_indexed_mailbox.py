"""The indexed Maildir mailbox: modseqs, \\Recent, expunges, and changes made by others."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from pydovecot.storage.interface import StoreAction
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from tests.conftest import require_real_dovecot

MSG = b"From: a@example.test\r\nSubject: s\r\n\r\nbody\r\n"


@pytest.fixture
def box(tmp_path: Path) -> MaildirIndexedMailbox:
    return MaildirIndexedMailbox("INBOX", str(tmp_path / "Maildir"))


def test_modseq_grows_with_every_change(box: MaildirIndexedMailbox) -> None:
    a = box.append(MSG)
    b = box.append(MSG, flags=["\\Seen"], keywords=["$Label1"])
    snap = box.sync()
    mods = {m.uid: m.modseq for m in snap.messages}
    assert mods[b] > mods[a]
    assert snap.highestmodseq == max(mods.values())
    result = box.store([a], StoreAction.ADD, ["\\Flagged"])
    assert [m.uid for m in result.changed] == [a]
    assert result.changed[0].modseq > snap.highestmodseq
    assert box.sync().highestmodseq == result.changed[0].modseq


def test_store_actions_and_unchanged_since(box: MaildirIndexedMailbox) -> None:
    uid = box.append(MSG, flags=["\\Seen"])
    snap = box.sync()
    assert box.store([uid], StoreAction.ADD, ["\\Seen"]).changed == ()  # nothing to change
    refused = box.store([uid], StoreAction.REPLACE, ["\\Deleted"], unchanged_since=snap.highestmodseq - 1)
    assert refused.unchanged_since_failed == (uid,)
    done = box.store([uid], StoreAction.REPLACE, ["\\Deleted"], ["work"], unchanged_since=snap.highestmodseq)
    assert done.changed[0].flags == frozenset({"\\Deleted"}) and done.changed[0].keywords == ("work",)
    removed = box.store([uid], StoreAction.REMOVE, ["\\Deleted"], ["work"])
    assert removed.changed[0].flags == frozenset() and removed.changed[0].keywords == ()
    assert os.listdir(os.path.join(box.path, "cur"))[0].endswith(":2,")


def test_recent_goes_to_one_session_only(box: MaildirIndexedMailbox, tmp_path: Path) -> None:
    box.append(MSG)
    other = MaildirIndexedMailbox("INBOX", box.path)
    assert other.status().recent == 1
    assert box.sync(take_recent=True).recent_uids == frozenset({1})
    assert other.sync(take_recent=True).recent_uids == frozenset()
    assert other.status().recent == 0


def test_expunge_and_vanished(box: MaildirIndexedMailbox) -> None:
    uids = [box.append(MSG) for _ in range(3)]
    before = box.sync().highestmodseq
    assert box.expunge([uids[0], uids[2], 99]) == (uids[0], uids[2])
    assert box.vanished_since(before) == (uids[0], uids[2])
    assert [m.uid for m in box.sync().messages] == [uids[1]]
    assert box.read(uids[0]) is None
    # A UID is never reused.
    assert box.append(MSG) == uids[2] + 1


def test_external_flag_change_and_delete_are_noticed(box: MaildirIndexedMailbox) -> None:
    uid = box.append(MSG)
    snap = box.sync()
    cur = os.path.join(box.path, "cur")
    (name,) = os.listdir(cur)
    os.rename(os.path.join(cur, name), os.path.join(cur, name.split(":")[0] + ":2,RS"))
    again = box.sync()
    msg = again.messages[0]
    assert msg.flags == frozenset({"\\Answered", "\\Seen"}) and msg.modseq > snap.highestmodseq
    os.unlink(os.path.join(cur, os.listdir(cur)[0]))
    assert box.sync().messages == () and box.vanished_since(again.highestmodseq) == (uid,)


def test_copy_keeps_flags_and_date(box: MaildirIndexedMailbox, tmp_path: Path) -> None:
    uid = box.append(MSG, flags=["\\Answered"], keywords=["k1"], internaldate=1_000_000_000)
    target = MaildirIndexedMailbox("Archive", str(tmp_path / "Maildir" / ".Archive"),
                                   uidvalidity_dir=box.path)
    assert box.copy_to([uid], target) == ((uid, 1),)
    (copied,) = target.sync().messages
    assert copied.flags == frozenset({"\\Answered"}) and copied.keywords == ("k1",)
    assert int(copied.internaldate) == 1_000_000_000 and target.read(1) == MSG.replace(b"\r\n", b"\n")


def test_lost_index_is_rebuilt(box: MaildirIndexedMailbox) -> None:
    box.append(MSG, flags=["\\Seen"])
    box.sync()
    os.unlink(os.path.join(box.path, "pydovecot.index"))
    snap = box.sync()
    assert snap.messages[0].flags == frozenset({"\\Seen"}) and snap.messages[0].uid == 1


def test_changes_by_real_dovecot_are_noticed(open_tmp_path: Path) -> None:
    tmp_path = open_tmp_path
    require_real_dovecot()
    home = tmp_path / "home"
    conf = tmp_path / "dovecot.conf"
    # Dovecot never accesses mail as root: as root, let the mail belong to nobody.
    owner, group = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    conf.write_text(
        f"mail_location = maildir:{home}/Maildir\nbase_dir = {tmp_path}/run\nstate_dir = {tmp_path}/state\n"
        f"log_path = {tmp_path}/log\nssl = no\nfirst_valid_uid = 0\nfirst_valid_gid = 0\n"
        f"mail_uid = {owner}\nmail_gid = {group}\n"
        f"passdb {{\n  driver = static\n  args = nopassword\n}}\n"
        f"userdb {{\n  driver = static\n  args = uid={owner} gid={group} home={home}\n}}\n"
    )
    box = MaildirIndexedMailbox("INBOX", str(home / "Maildir"))
    uid = box.append(MSG)
    before = box.sync()
    subprocess.run(["chown", "-R", f"{owner}:{group}", str(home)], check=True)
    # Real imap in pre-authenticated mode (USER and HOME from the environment, no auth process).
    env = {"USER": "u", "HOME": str(home), "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(["/usr/lib/dovecot/imap", "-c", str(conf)], input=(
        f"a SELECT INBOX\r\nb UID STORE {uid} +FLAGS (\\Flagged)\r\nc LOGOUT\r\n").encode(),
        env=env, capture_output=True, timeout=30, check=True)
    assert b"b OK" in out.stdout, out.stderr.decode()
    after = box.sync()
    assert after.messages[0].flags == frozenset({"\\Flagged"})
    assert after.messages[0].modseq > before.highestmodseq
    assert after.uidvalidity == before.uidvalidity


def _age(box: MaildirIndexedMailbox, seconds: int = 60) -> None:
    """Move the Maildir's mtimes into the past, as if nothing had changed for a while."""
    past = time.time() - seconds
    for name in ("cur", "new", "dovecot-uidlist"):
        os.utime(os.path.join(box.path, name), (past, past))


def test_unchanged_maildir_is_served_from_the_cache(box: MaildirIndexedMailbox) -> None:
    uid = box.append(MSG)
    box.sync()
    _age(box)
    first = box.sync()
    again = MaildirIndexedMailbox("INBOX", box.path).sync()
    assert again is first or again == first
    # Another program changes a flag: cur/ changes, so the cache is not used.
    cur = os.path.join(box.path, "cur")
    (name,) = os.listdir(cur)
    os.rename(os.path.join(cur, name), os.path.join(cur, name.split(":")[0] + ":2,F"))
    _age(box, 30)
    changed = box.sync()
    assert changed.messages[0].uid == uid and changed.messages[0].flags == frozenset({"\\Flagged"})
    assert changed.highestmodseq > first.highestmodseq
