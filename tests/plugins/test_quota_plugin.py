"""The quota plugin on a mail user: enforcement, grace, maildirsize, and real Dovecot reading it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.plugins.quota import QuotaExceeded
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import require_real_dovecot

CONF = """\
mail_location = maildir:{home}/Maildir
base_dir = {root}/run
state_dir = {root}/state
ssl = no
first_valid_uid = 0
mail_uid = {uid}
mail_gid = {uid}
mail_plugins = quota
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
plugin {{
  quota = {backend}:User quota
  quota_vsizes = {vsizes}
  quota_rule = *:storage=10k:messages=4
  quota_rule2 = Trash:ignore
  quota_grace = 10%%
}}
"""


def make_user(root: Path, backend: str = "maildir"):
    home = root / "home"
    home.mkdir(exist_ok=True)
    conf = root / "dovecot.conf"
    uid = 65534 if os.getuid() == 0 else os.getuid()
    conf.write_text(CONF.format(home=home, root=root, backend=backend, uid=uid,
                               vsizes="yes" if backend == "count" else "no"))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    return user, conf, home, uid


def message(size: int) -> bytes:
    head = b"Subject: q\n\n"
    return head + b"x" * (size - len(head))


@pytest.mark.parametrize("backend", ["maildir", "count"])
def test_limits_and_grace(tmp_path: Path, backend: str) -> None:
    user, *_ = make_user(tmp_path, backend)
    inbox = user.open_mailbox("INBOX")
    inbox.append(message(9 * 1024))
    # 9k used of 10k: a 2k message ends 1k over, inside the 10% grace (1k): allowed once.
    inbox.append(message(2 * 1024 - 10))
    with pytest.raises(QuotaExceeded, match=r"Quota exceeded \(mailbox for user is full\)") as info:
        inbox.append(message(100))
    assert info.value.code == "OVERQUOTA"
    assert len(inbox.sync().messages) == 2  # nothing half-saved


def test_message_limit_and_ignored_mailbox(tmp_path: Path) -> None:
    user, *_ = make_user(tmp_path)
    ns, storage = user.resolve("Trash")
    ns.mailbox_list.create(storage)
    inbox = user.open_mailbox("INBOX")
    for _ in range(4):
        inbox.append(message(100))
    with pytest.raises(QuotaExceeded):
        inbox.append(message(100))
    trash = user.open_mailbox("Trash")
    trash.append(message(100))  # Trash:ignore is outside the quota
    inbox.expunge([1])
    inbox.append(message(100))


def test_maildirsize_records_every_change(tmp_path: Path) -> None:
    user, _, home, _ = make_user(tmp_path)
    inbox = user.open_mailbox("INBOX")
    inbox.append(message(1000))
    inbox.append(message(500))
    inbox.expunge([1])
    lines = (home / "Maildir" / "maildirsize").read_text().splitlines()
    assert lines[0] == "10240S,4C"
    total = [sum(int(line.split()[i]) for line in lines[1:]) for i in (0, 1)]
    assert total == [500, 1]


def test_real_dovecot_reads_and_writes_the_same_maildirsize(open_tmp_path: Path) -> None:
    require_real_dovecot()
    user, conf, home, uid = make_user(open_tmp_path)
    user.open_mailbox("INBOX").append(message(1500))
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(home)], check=True)
    env = {"USER": "u", "HOME": str(home), "PATH": os.environ.get("PATH", "")}
    script = b"a APPEND INBOX {600}\r\n" + message(600).replace(b"\n", b"\r\n")[:600] + b"\r\nb GETQUOTAROOT INBOX\r\nc LOGOUT\r\n"
    out = subprocess.run(["/usr/lib/dovecot/imap", "-c", str(conf)], input=script, env=env, capture_output=True,
                         timeout=30, check=True).stdout.decode()
    match = re.search(r'\* QUOTA "User quota" \(STORAGE (\d+) 10 MESSAGE (\d+) 4\)', out)
    assert match, out
    assert int(match.group(2)) == 2  # real Dovecot counted our message from maildirsize
    fresh, *_ = make_user(open_tmp_path)
    plugin = next(p for p in fresh.plugins if p.name == "quota")
    usage = plugin.usage(plugin.roots[0])
    assert usage.messages == 2 and usage.bytes > 1500  # and we read the line real Dovecot added
