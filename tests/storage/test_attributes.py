"""Mailbox attributes: keys by mailbox GUID in mail_attribute_dict, computed read-only ones,
and their end with the mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.storage.attributes import (
    AttributeChange,
    AttributeFailure,
    AttributeType,
    open_mailbox_attributes,
    open_server_attributes,
)
from pydovecot.storage.mail_user import MailUser, create_mail_user
from pydovecot.storage.maildir.uidlist import read_uidlist

CONF = """\
mail_location = maildir:~/Maildir
mail_home = {root}/home/%n
first_valid_uid = 0
imap_metadata = yes
mail_server_admin = mailto:admin@example.test
{dict}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
"""
PRIVATE, SHARED = AttributeType.PRIVATE, AttributeType.SHARED


def make_user(root: Path, dict_line: str = "mail_attribute_dict = file:%h/dovecot-attributes") -> MailUser:
    conf = root / "dovecot.conf"
    conf.write_text(CONF.format(root=root, dict=dict_line))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "alice", {}, service="imap")
    user.autocreate()
    return user


def test_keys_are_priv_and_shared_under_the_uidlist_guid(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    attrs = open_mailbox_attributes(user, "INBOX")
    attrs.commit([AttributeChange(PRIVATE, "comment", "mine"), AttributeChange(SHARED, "comment", "ours")])
    uidlist = read_uidlist(str(tmp_path / "home/alice/Maildir"))
    assert uidlist is not None and uidlist.mailbox_guid == attrs.guid
    data = (tmp_path / "home/alice/dovecot-attributes").read_text()
    assert data == f"priv/{attrs.guid}/comment\nmine\nshared/{attrs.guid}/comment\nours\n"
    again = open_mailbox_attributes(user, "INBOX")
    assert again.get(PRIVATE, "comment") == "mine" and again.get(SHARED, "nosuch") is None


def test_server_attributes_are_inbox_ones_under_dovecots_prefix(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    server = open_server_attributes(user)
    server.commit([AttributeChange(PRIVATE, "vendor/vendor.dovecot/pvt/server/x", "1")])
    inbox = open_mailbox_attributes(user, "INBOX")
    assert server.guid == inbox.guid
    assert inbox.keys(PRIVATE, "") == []  # Dovecot's pvt keys are not the mailbox's to list
    assert server.keys(PRIVATE, "vendor/vendor.dovecot/pvt/server/") == ["x"]
    assert server.get(SHARED, "vendor/vendor.dovecot/pvt/server/admin") == "mailto:admin@example.test"
    assert server.get(SHARED, "vendor/vendor.dovecot/pvt/server/comment") is None


def test_computed_attributes_are_read_only_and_refusal_changes_nothing(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    sent = open_mailbox_attributes(user, "Sent")
    assert sent.get(PRIVATE, "specialuse") == "\\Sent"
    assert sent.keys(PRIVATE, "") == ["specialuse"]
    with pytest.raises(AttributeFailure, match="The /private/specialuse attribute cannot be changed"):
        sent.commit([AttributeChange(PRIVATE, "a", "1"), AttributeChange(PRIVATE, "specialuse", None)])
    assert sent.get(PRIVATE, "a") is None
    with pytest.raises(AttributeFailure, match="NULs"):
        sent.commit([AttributeChange(PRIVATE, "a", "x\x00y")])


def test_without_a_dict_only_computed_attributes_exist(tmp_path: Path) -> None:
    user = make_user(tmp_path, dict_line="")
    sent = open_mailbox_attributes(user, "Sent")
    assert sent.get(PRIVATE, "specialuse") == "\\Sent"
    with pytest.raises(AttributeFailure, match="Mailbox attributes not enabled"):
        sent.get(PRIVATE, "comment")
    with pytest.raises(AttributeFailure, match="Mailbox attributes not enabled"):
        sent.commit([AttributeChange(PRIVATE, "comment", "x")])


def test_tilde_is_the_home(tmp_path: Path) -> None:
    user = make_user(tmp_path, dict_line="mail_attribute_dict = file:~/attrs/meta")
    open_mailbox_attributes(user, "INBOX").commit([AttributeChange(PRIVATE, "k", "v")])
    assert (tmp_path / "home/alice/attrs/meta").read_text().endswith("/k\nv\n")


def test_missing_mailbox_is_a_lookup_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        open_mailbox_attributes(make_user(tmp_path), "nosuch")


def test_rename_keeps_and_delete_drops_the_attributes(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    user.create_mailbox("Work")
    open_mailbox_attributes(user, "Work").commit([AttributeChange(PRIVATE, "k", "v")])
    open_mailbox_attributes(user, "INBOX").commit([AttributeChange(PRIVATE, "k", "inbox")])
    user.rename_mailbox("Work", "Play")
    assert open_mailbox_attributes(user, "Play").get(PRIVATE, "k") == "v"
    user.delete_mailbox("Play")
    user.create_mailbox("Play")
    assert open_mailbox_attributes(user, "Play").get(PRIVATE, "k") is None
    assert open_mailbox_attributes(user, "INBOX").get(PRIVATE, "k") == "inbox"
    assert (tmp_path / "home/alice/dovecot-attributes").read_text().count("\n") == 2
