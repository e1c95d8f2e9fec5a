"""Live interop of MaildirMailboxList with the real Dovecot 2.3.19 (doveadm and imap, no daemon)."""

from __future__ import annotations

import re
import subprocess

import pytest

from pydovecot.storage.maildir.mailbox import MaildirMailbox
from pydovecot.storage.maildir.mailbox_list import MaildirMailboxList

from .test_maildir_interop import MAIL_OWNER, MESSAGE, Doveadm, dovecot  # noqa: F401 (fixture)

pytestmark = pytest.mark.oracle


_LIST_LINE = re.compile(r'^\* LIST \(([^)]*)\) "(.)" (.+)$')


def _real_list(dv: Doveadm, *args: str) -> set[str]:
    return set(dv.run("mailbox", "list", *args).stdout.split())


def _real_list_flags(dv: Doveadm) -> dict[str, set[str]]:
    """imap's own LIST "" "*" (PREAUTH on stdin), which carries the flags doveadm omits.

    Dovecot's list index can remember a deleted parent as selectable although its directory
    is gone (seen after ``doveadm mailbox delete a`` with ``a.b.c`` left); dropping the
    index makes Dovecot list from the directories, which is what we compare with.
    """
    for index in dv.root.glob("dovecot.list.index*"):
        index.unlink()
    dv.own()
    kwargs: dict[str, object] = {}
    if dv.as_root:
        kwargs = {"user": MAIL_OWNER, "group": MAIL_OWNER, "extra_groups": []}
    proc = subprocess.run(
        ["/usr/lib/dovecot/imap", "-c", str(dv.conf)],
        input='a LIST "" "*"\r\nz LOGOUT\r\n',
        capture_output=True,
        text=True,
        env={"HOME": str(dv.home), "USER": "tester", "PATH": "/usr/bin:/bin"},
        timeout=60,
        **kwargs,  # type: ignore[arg-type]
    )
    assert "a OK" in proc.stdout, proc.stdout + proc.stderr
    found: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        m = _LIST_LINE.match(line.rstrip("\r"))
        if m:
            found[m.group(3)] = {flag.lower() for flag in m.group(1).split()}
    return found


def _ours_flags(mbl: MaildirMailboxList) -> dict[str, set[str]]:
    return {info.name: {flag.lower() for flag in info.flags} for info in mbl.list("*")}


def test_dovecot_lists_what_we_create_rename_and_subscribe(dovecot: Doveadm) -> None:  # noqa: F811
    mbl = MaildirMailboxList(str(dovecot.root))
    for name in ("a", "a.b.c", "a.b.c.d", "INBOX.foo", "Sent", "Entw&APw-rfe"):
        mbl.create(name)
    mbl.rename("a.b", "x")
    mbl.delete("Sent")
    mbl.create("Trash")
    mbl.delete("a")
    ours = _ours_flags(mbl)
    assert _real_list_flags(dovecot) == ours
    assert "x" in ours and "\\noselect" in ours["x"]
    # doveadm's plain list (modified UTF-7 names) shows the \\Noselect parents too.
    assert _real_list(dovecot, "-7") == set(ours)
    for name in ("x.c", "INBOX", "nope", "INBOX.foo"):
        mbl.subscribe(name)
    mbl.unsubscribe("INBOX.foo")
    assert dovecot.run("mailbox", "list", "-s").stdout.split() == mbl.subscriptions()
    assert mbl.subscriptions() == ["x.c", "INBOX", "nope"]
    # Status agrees once there is mail.
    box = MaildirMailbox(mbl.layout.mailbox_path("x.c"), uidvalidity_dir=mbl.root)
    box.save(MESSAGE)
    box.save(MESSAGE)
    status = mbl.status("x.c")
    out = dovecot.run("mailbox", "status", "messages uidnext uidvalidity", "x.c").stdout
    assert out.split() == [
        "x.c",
        f"messages={status.messages}",
        f"uidnext={status.uidnext}",
        f"uidvalidity={status.uidvalidity}",
    ]


def test_we_list_what_dovecot_creates(dovecot: Doveadm) -> None:  # noqa: F811
    for name in ("a.b.c", "a.", "INBOX.foo", "q.r"):
        dovecot.run("mailbox", "create", name)
    dovecot.run("mailbox", "rename", "q", "z")
    dovecot.run("mailbox", "create", "a.b.c.d")
    dovecot.run("mailbox", "delete", "a")
    dovecot.run("mailbox", "subscribe", "a.b.c", "INBOX", "gone")
    dovecot.run("mailbox", "unsubscribe", "INBOX")
    dovecot.run("save", "-m", "z.r", stdin=MESSAGE)
    mbl = MaildirMailboxList(str(dovecot.root))
    assert _ours_flags(mbl) == _real_list_flags(dovecot)
    assert mbl.subscriptions() == dovecot.run("mailbox", "list", "-s").stdout.split() == ["a.b.c", "gone"]
    status = mbl.status("z.r")
    assert (status.messages, status.uidnext) == (1, 2)
    assert dovecot.status("z.r") == (status.uidvalidity, status.uidnext)
