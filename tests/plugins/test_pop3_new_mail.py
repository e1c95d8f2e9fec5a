"""POP3 with ``pop3_no_flag_updates = yes`` leaves new/ mail in new/ (Dovecot opens INBOX
without dropping \\Recent then); otherwise the session moves it to cur/ as Dovecot does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.pop3.session import Pop3MailSession, Pop3SessionSettings
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import require_real_dovecot
from tests.plugins.real_imap import config, mail_uid, make_home


@pytest.mark.parametrize(("no_flag_updates", "left_in_new"), [("yes", 2), ("no", 0)])
def test_new_mail_moves_only_with_flag_updates(tmp_path: Path, no_flag_updates: str, left_in_new: int) -> None:
    home = tmp_path / "home"
    maildir = home / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n in range(2):
        (maildir / "new" / f"1700000000.M{n}P1.test").write_bytes(b"Subject: %d\n\nhello\n" % n)
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"mail_location = maildir:~/Maildir\nssl = no\nfirst_valid_uid = 0\n"
                    f"pop3_no_flag_updates = {no_flag_updates}\n")
    user = create_mail_user(load(str(conf)).lookup(service="pop3"), "u", {"home": str(home)}, service="pop3")
    session = Pop3MailSession.open(user, Pop3SessionSettings.from_user(user))
    assert len(session.messages) == 2
    assert len(os.listdir(maildir / "new")) == left_in_new


@pytest.mark.parametrize(("no_flag_updates", "left_in_new"), [("yes", 2), ("no", 0)])
def test_real_pop3_does_the_same(open_tmp_path: Path, no_flag_updates: str, left_in_new: int) -> None:
    require_real_dovecot()
    home = make_home(open_tmp_path)
    conf = config(open_tmp_path, home, f"pop3_no_flag_updates = {no_flag_updates}\n")
    maildir = home / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n in range(2):
        (maildir / "new" / f"1700000000.M{n}P1.test").write_bytes(b"Subject: %d\n\nhello\n" % n)
    if os.getuid() == 0:
        for path in [maildir, *maildir.rglob("*")]:
            os.chown(path, mail_uid(), mail_uid())
    done = subprocess.run(["/usr/lib/dovecot/pop3", "-c", str(conf)], input=b"STAT\r\nRETR 1\r\nQUIT\r\n",
                          capture_output=True, env={"USER": "u", "HOME": str(home), "PATH": "/usr/bin:/bin"},
                          timeout=30, check=False)
    assert done.stdout.startswith(b"+OK 2 ")
    assert len(os.listdir(maildir / "new")) == left_in_new
