"""Live interop with the real Dovecot 2.3.19: maildirs we write are read by ``doveadm``
with our UIDs, UIDVALIDITY, flags and keywords, and what Dovecot writes parses with ours
to the values ``doveadm`` reports.

doveadm runs without ``-u`` (no auth service needed) as the maildir's owner: the current
user, or uid/gid 5000 when the tests run as root (Dovecot refuses mail access as root).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_real_dovecot

from pydovecot.storage.maildir import dotlock
from pydovecot.storage.maildir import filename as fn
from pydovecot.storage.maildir import keywords as kw
from pydovecot.storage.maildir import subscriptions as subs
from pydovecot.storage.maildir import uidlist as ul
from pydovecot.storage.maildir import uidvalidity as uv
from pydovecot.storage.maildir.layout import MaildirLayout, create_maildirfolder

from .maildir_view import MessageView, parse_fetch_output, view_from_files

pytestmark = pytest.mark.oracle

MAIL_OWNER = 5000
MESSAGE = (
    b"From: a@example.com\nTo: b@example.com\nSubject: hi\nMessage-ID: <1@example.com>\n\nHello\nworld\n"
)
GUID = "344d7515eafb066be72f000083ecc375"


class Doveadm:
    def __init__(self, tmp: Path, root: Path) -> None:
        self.root = root
        self.home = tmp / "home"
        self.home.mkdir()
        self.conf = tmp / "dovecot.conf"
        self.conf.write_text(
            f"base_dir = {tmp}/run\nstate_dir = {tmp}/state\nlog_path = /dev/stderr\n"
            f"mail_location = maildir:{root}\nssl = no\n"
        )
        self.as_root = os.geteuid() == 0

    def own(self) -> None:
        if self.as_root:
            for path in [self.root.parent, *self.root.parent.rglob("*")]:
                os.lchown(path, MAIL_OWNER, MAIL_OWNER)

    def run(
        self, *args: str, stdin: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        self.own()
        env = {"HOME": str(self.home), "USER": "tester", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
        kwargs: dict[str, object] = {}
        if self.as_root:
            kwargs = {"user": MAIL_OWNER, "group": MAIL_OWNER, "extra_groups": []}
        proc = subprocess.run(
            ["/usr/bin/doveadm", "-c", str(self.conf), *args],
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            **kwargs,  # type: ignore[arg-type]
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def fetch(self, mailbox: str = "INBOX") -> list[MessageView]:
        return parse_fetch_output(self.run("fetch", "uid guid flags", "mailbox", mailbox, "all").stdout)

    def status(self, mailbox: str = "INBOX") -> tuple[int, int]:
        out = self.run("mailbox", "status", "uidvalidity uidnext", mailbox).stdout
        m = re.search(r"uidnext=(\d+) uidvalidity=(\d+)", out)
        assert m is not None, out
        return int(m.group(2)), int(m.group(1))


@pytest.fixture
def dovecot() -> Iterator[Doveadm]:
    require_real_dovecot()
    # Not pytest's tmp_path: its parents are 0700 root, and doveadm runs as the mail owner.
    tmp = Path(tempfile.mkdtemp(prefix="pydovecot-maildir-"))
    tmp.chmod(0o755)
    try:
        (tmp / "mail").mkdir()
        yield Doveadm(tmp, tmp / "mail" / "Maildir")
    finally:
        shutil.rmtree(tmp)


def _make_maildir(path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def _write_message(maildir: Path, subdir: str, name: str) -> None:
    (maildir / subdir / name).write_bytes(MESSAGE)


def _files(maildir: Path) -> list[str]:
    return sorted(f"{sub}/{name}" for sub in ("new", "cur") for name in os.listdir(maildir / sub))


def test_dovecot_reads_what_we_write(dovecot: Doveadm) -> None:
    root = dovecot.root
    _make_maildir(root)
    size, vsize = len(MESSAGE), len(MESSAGE) + MESSAGE.count(b"\n")
    bases = [
        fn.add_size_fields(fn.generate_base(1700000000 + i, 1000 + i, 4242, "our:host/x"), size, vsize)
        for i in range(4)
    ]
    table = kw.Keywords(("$Forwarded", None, None, "Junk"))
    names = [
        fn.set_flags(bases[0], {"\\Seen"}),
        fn.set_flags(bases[1], {"\\Answered", "\\Flagged"}, [0, 3]),
        fn.set_flags(bases[2], {"\\Draft", "\\Deleted"}, [3]),
        bases[3],
    ]
    for name in names[:3]:
        _write_message(root, "cur", name)
    _write_message(root, "new", names[3])
    records = [
        ul.UidlistRecord.for_file(5, names[0]),
        ul.UidlistRecord.for_file(9, names[1], ["G0123456789abcdef0123456789abcdef"]),
        ul.UidlistRecord.for_file(42, names[2]),
        ul.UidlistRecord.for_file(43, names[3]),
    ]
    doc = ul.new_uidlist(1234567890, GUID, next_uid=100).with_records(records)
    with ul.lock_uidlist(str(root)) as lock:
        ul.rewrite_uidlist(str(root), doc, lock)
        kw.write_keywords(str(root), table)
    # A subfolder and its subscription, the way Maildir++ keeps them.
    layout = MaildirLayout(root=str(root))
    sent = Path(layout.mailbox_path(layout.storage_name("Entwürfe")))
    _make_maildir(sent)
    create_maildirfolder(str(sent))
    subs.set_subscribed(str(root), layout.levels(layout.storage_name("Entwürfe")), layout.separator)

    assert dovecot.fetch() == [
        MessageView(5, fn.base_name(names[0]), frozenset({"\\Seen"})),
        MessageView(
            9,
            "0123456789abcdef0123456789abcdef",
            frozenset({"\\Answered", "\\Flagged", "$Forwarded", "Junk"}),
        ),
        MessageView(42, fn.base_name(names[2]), frozenset({"\\Draft", "\\Deleted", "Junk"})),
        MessageView(43, fn.base_name(names[3]), frozenset()),
    ]
    assert dovecot.status() == (1234567890, 100)
    listed = dovecot.run("mailbox", "list", "-s").stdout.split()
    assert "Entwürfe" in listed
    # Dovecot kept our uidlist intact (it may append, but never renumbers).
    after = ul.read_uidlist(str(root))
    assert after is not None and [r.uid for r in after.records][:4] == [5, 9, 42, 43]
    assert after.mailbox_guid == GUID and after.uid_validity == 1234567890


def test_we_read_what_dovecot_writes(dovecot: Doveadm) -> None:
    for i in range(4):
        dovecot.run("save", stdin=MESSAGE.replace(b"hi", f"hi {i}".encode()))
    dovecot.run("flags", "add", "\\Seen $Label1 Junk", "mailbox", "INBOX", "uid", "2")
    dovecot.run("flags", "add", "\\Flagged NonJunk", "mailbox", "INBOX", "uid", "3")
    dovecot.run("expunge", "mailbox", "INBOX", "uid", "4")
    dovecot.run("mailbox", "create", "Sent", "x.y")
    dovecot.run("mailbox", "subscribe", "Sent", "x.y")
    root = dovecot.root

    uidlist = ul.read_uidlist(str(root))
    assert uidlist is not None
    table = kw.read_keywords(str(root))
    assert view_from_files(uidlist, table, _files(root)) == dovecot.fetch()
    assert (uidlist.uid_validity, uidlist.next_uid_effective) == dovecot.status()
    assert uv.read_current(str(root)) is not None
    sent = ul.read_uidlist(str(root / ".Sent"))
    assert sent is not None and (sent.uid_validity, sent.next_uid_effective) == dovecot.status("Sent")
    assert (root / ".x.y" / "maildirfolder").exists()
    subscribed = subs.read_subscriptions(str(root))
    assert subscribed is not None and subscribed.version == 2
    assert subscribed.entries() == [("Sent",), ("x", "y")]
    assert uidlist.to_bytes() == (root / "dovecot-uidlist").read_bytes()
    assert table.to_bytes() == (root / "dovecot-keywords").read_bytes()


def test_uidvalidity_counter_is_shared_with_dovecot(dovecot: Doveadm) -> None:
    dovecot.run("save", stdin=MESSAGE)
    inbox_validity, _ = dovecot.status()
    root = str(dovecot.root)
    assert uv.read_current(root) == inbox_validity
    ours = uv.next_uidvalidity(root)
    assert ours == inbox_validity + 1
    dovecot.run("mailbox", "create", "Next")
    assert dovecot.status("Next")[0] == ours + 1


def test_dovecot_respects_our_uidlist_lock(dovecot: Doveadm) -> None:
    dovecot.run("save", stdin=MESSAGE)
    before = (dovecot.root / "dovecot-uidlist").read_bytes()
    lock = ul.lock_uidlist(str(dovecot.root))
    try:
        # Dovecot still delivers into new/, but gives up on the uidlist after its lock wait
        # and leaves it alone: the UID is assigned later, by whoever locks next.
        dovecot.run("-o", "mail_max_lock_timeout=1s", "save", stdin=MESSAGE)
        assert (dovecot.root / "dovecot-uidlist").read_bytes() == before
        assert len(os.listdir(dovecot.root / "new")) == 2
        assert lock.is_ours()
    finally:
        lock.release()
    assert [m.uid for m in dovecot.fetch()] == [1, 2]
    uidlist = ul.read_uidlist(str(dovecot.root))
    assert uidlist is not None
    assert [r.uid for r in uidlist.records] == [1, 2]


def test_lock_we_leave_behind_is_overridden_by_dovecot(dovecot: Doveadm) -> None:
    dovecot.run("save", stdin=MESSAGE)
    lock_path = dovecot.root / "dovecot-uidlist.lock"
    # A lock from a dead local process, older than Dovecot's 2 s pid-check grace.
    child = subprocess.Popen(["/bin/true"])
    child.wait()
    lock_path.write_text(f"{child.pid}:{dotlock.system_hostname()}")
    os.utime(lock_path, (1_000_000, 1_000_000))
    dovecot.run("save", stdin=MESSAGE)
    assert not lock_path.exists()
