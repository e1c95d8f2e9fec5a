"""Mail users built from settings + userdb fields, and their namespaces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.storage.mail_user import MailUserError, create_mail_user
from pydovecot.storage.maildir.layout import MailboxNameError

CONF = """\
mail_location = maildir:~/Maildir
mail_home = {root}/home/%d/%n
first_valid_uid = 0
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Archive {{
    auto = create
  }}
}}
namespace shared {{
  prefix = Public/
  separator = /
  location = maildir:{root}/public
  list = yes
}}
"""


@pytest.fixture
def tree(tmp_path: Path):
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF.format(root=tmp_path))
    return load(str(conf))


def test_home_location_and_autocreate(tree, tmp_path: Path) -> None:
    user = create_mail_user(tree.lookup(service="imap"), "alice@example.test", {}, service="imap")
    assert user.home == f"{tmp_path}/home/example.test/alice"
    user.autocreate()
    names = [m.vname for m in user.namespaces.list("*")]
    assert names[:3] == ["INBOX", "Archive", "Sent"]
    sent = next(m for m in user.namespaces.list("*") if m.vname == "Sent")
    assert sent.special_use == ("\\Sent",)
    root = tmp_path / "home/example.test/alice/Maildir"
    assert (root / ".Sent" / "cur").is_dir() and (root / ".Archive" / "maildirfolder").exists()
    assert "Sent" in (root / "subscriptions").read_text()
    assert "Archive" not in (root / "subscriptions").read_text()


def test_userdb_fields_override_settings(tree, tmp_path: Path) -> None:
    fields = {"home": str(tmp_path / "h"), "mail": "maildir:~/Other:LAYOUT=fs", "quota_rule": "*:storage=1G",
              "mail_plugins": "quota"}
    user = create_mail_user(tree.lookup(service="imap"), "bob", fields, service="imap")
    inbox_ns = user.namespaces.inbox_namespace
    assert inbox_ns.location.root == str(tmp_path / "h/Other")
    assert user.settings.get("mail_plugins") == "quota"
    assert user.settings.plugin["quota_rule"] == "*:storage=1G"


def test_namespace_resolution(tree) -> None:
    user = create_mail_user(tree.lookup(service="imap"), "alice@example.test", {}, service="imap")
    ns, storage = user.resolve("inbox")
    assert ns.inbox and storage == "INBOX"
    ns, storage = user.resolve("a/b")
    assert storage == "a.b"
    ns, storage = user.resolve("Public/x/y")
    assert ns.prefix == "Public/" and storage == "x.y"
    with pytest.raises(MailboxNameError):
        user.resolve("a.b")  # '.' is Maildir++'s own separator


def test_mailbox_roundtrip_in_public_namespace(tree, tmp_path: Path) -> None:
    user = create_mail_user(tree.lookup(service="imap"), "alice@example.test", {}, service="imap")
    ns, storage = user.resolve("Public/news")
    ns.mailbox_list.create(storage)
    box = user.open_mailbox("Public/news")
    uid = box.append(b"Subject: x\r\n\r\nhi\r\n")
    # mail_save_crlf = no (the default): stored with LF line endings, as Dovecot stores it.
    assert box.read(uid) == b"Subject: x\n\nhi\n"
    assert os.path.isdir(tmp_path / "public" / ".news" / "cur")
    assert [m.vname for m in user.namespaces.list("Public/*")] == ["Public/news"]


def test_uid_below_first_valid_uid_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("mail_location = maildir:/tmp/x\nfirst_valid_uid = 1000\n")
    with pytest.raises(MailUserError, match="UID 10 not permitted"):
        create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"uid": "10"}, service="imap")
