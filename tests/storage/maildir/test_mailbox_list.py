"""MaildirMailboxList on temp dirs: Dovecot 2.3.19's create/delete/rename/list rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydovecot.storage.maildir.layout import LayoutKind, MailboxNameError, MaildirLayout
from pydovecot.storage.maildir.mailbox import MaildirMailbox
from pydovecot.storage.maildir.mailbox_list import (
    MailboxExistsError,
    MailboxNotFoundError,
    MailboxOperationError,
    MaildirMailboxList,
)

MESSAGE = b"Subject: hi\n\nbody\n"


def _flags(mbl: MaildirMailboxList, pattern: str = "*") -> dict[str, set[str]]:
    return {info.name: set(info.flags) for info in mbl.list(pattern)}


@pytest.fixture
def mbl(tmp_path: Path) -> MaildirMailboxList:
    return MaildirMailboxList(str(tmp_path / "Maildir"))


def test_create_makes_only_the_named_folder_with_maildirfolder(mbl: MaildirMailboxList) -> None:
    assert mbl.create("a.b.c") == "a.b.c"
    folder = Path(mbl.root) / ".a.b.c"
    assert sorted(os.listdir(folder)) == ["cur", "maildirfolder", "new", "tmp"]
    assert not (Path(mbl.root) / ".a").exists()
    # As imap's LIST "" "*" answered on the real Dovecot.
    assert _flags(mbl) == {
        "INBOX": {"\\HasNoChildren"},
        "a": {"\\Noselect", "\\HasChildren"},
        "a.b": {"\\Noselect", "\\HasChildren"},
        "a.b.c": {"\\HasNoChildren"},
    }


def test_trailing_separator_dropped_and_duplicate_refused(mbl: MaildirMailboxList) -> None:
    assert mbl.create("a.") == "a"
    assert (Path(mbl.root) / ".a" / "cur").is_dir()
    with pytest.raises(MailboxExistsError, match="Mailbox already exists"):
        mbl.create("a")


def test_list_wildcards(mbl: MaildirMailboxList) -> None:
    for name in ("a.b.c", "INBOX.foo", "a"):
        mbl.create(name)
    assert [i.name for i in mbl.list("%")] == ["INBOX", "a"]
    assert [i.name for i in mbl.list("a.%")] == ["a.b"]
    assert [i.name for i in mbl.list("a%")] == ["a"]
    assert [i.name for i in mbl.list("*b")] == ["a.b"]
    assert [i.name for i in mbl.list("inbox*")] == ["INBOX", "INBOX.foo"]
    assert _flags(mbl, "INBOX") == {"INBOX": {"\\HasChildren"}}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x/y", "Name must not have '/' characters"),
        ("~x", "Begins with '~'"),
        ("../x", "Begins with hierarchy separator"),
        (".a", "Begins with hierarchy separator"),
        ("a..b", "Has adjacent hierarchy separators"),
        ("a\0b", "Contains NUL"),
        ("x" * 300, "Mailbox name too long"),
        ("", "Empty name"),
    ],
)
def test_names_dovecot_refuses(mbl: MaildirMailboxList, name: str, message: str) -> None:
    with pytest.raises(MailboxNameError, match=message.replace(".", r"\.")):
        mbl.create(name)
    assert not Path(mbl.root).exists() or os.listdir(mbl.root) == []


def test_fs_layout_refuses_escapes_and_dots_in_slash_names(tmp_path: Path) -> None:
    root = str(tmp_path / "mail")
    fs = MaildirMailboxList(root, MaildirLayout(root, LayoutKind.FS))
    for bad in ("../x", "a/../b", "/etc", "a/./b", "~x", "cur"):
        with pytest.raises(MailboxNameError):
            fs.create(bad)
    assert not (tmp_path / "x").exists()
    plus = MaildirMailboxList(root)
    with pytest.raises(MailboxNameError, match="'.'"):
        plus.layout.storage_name("a.b", separator="/")


def test_delete_rules(mbl: MaildirMailboxList) -> None:
    mbl.create("a")
    mbl.create("a.b.c")
    with pytest.raises(MailboxOperationError, match="INBOX can't be deleted."):
        mbl.delete("INBOX")
    with pytest.raises(MailboxNotFoundError, match="Mailbox doesn't exist: a.b"):
        mbl.delete("a.b")
    with pytest.raises(MailboxNotFoundError):
        mbl.delete("nope")
    mbl.delete("a")
    assert not (Path(mbl.root) / ".a").exists()
    assert _flags(mbl, "a*")["a"] == {"\\Noselect", "\\HasChildren"}
    mbl.delete("a.b.c")
    assert [i.name for i in mbl.list()] == ["INBOX"]


def test_fs_delete_with_children_keeps_directory(tmp_path: Path) -> None:
    root = str(tmp_path / "mail")
    fs = MaildirMailboxList(root, MaildirLayout(root, LayoutKind.FS))
    fs.create("a")
    fs.create("a/b")
    fs.delete("a")
    assert sorted(os.listdir(Path(root) / "a")) == ["b"]
    assert _flags(fs) == {
        "INBOX": {"\\HasNoChildren"},
        "a": {"\\Noselect", "\\HasChildren"},
        "a/b": {"\\HasNoChildren"},
    }
    fs.rename("a", "z")
    assert [i.name for i in fs.list()] == ["INBOX", "z", "z/b"]


def test_rename_moves_children(mbl: MaildirMailboxList) -> None:
    mbl.create("a.b.c")
    mbl.create("a.b.c.d")
    mbl.create("INBOX.foo")
    mbl.rename("a.b", "x")  # a \Noselect parent can be renamed
    assert sorted(e for e in os.listdir(mbl.root) if e.startswith(".")) == [".INBOX.foo", ".x.c", ".x.c.d"]
    with pytest.raises(MailboxExistsError, match="Target mailbox already exists"):
        mbl.rename("x.c", "INBOX.foo")
    with pytest.raises(MailboxNotFoundError):
        mbl.rename("nope", "other")
    with pytest.raises(MailboxOperationError, match="Renaming INBOX isn't supported."):
        mbl.rename("INBOX", "inb2")
    mbl.rename("x.c", "x.c.d.e")  # into its own subtree, as Dovecot allows
    assert [i.name for i in mbl.list("x.*") if i.selectable] == ["x.c.d.e", "x.c.d.e.d"]


def test_subscriptions_file(mbl: MaildirMailboxList) -> None:
    assert mbl.subscriptions() == []
    mbl.subscribe("a.b.c")
    mbl.subscribe("inbox")
    mbl.subscribe("nope")
    assert mbl.subscriptions() == ["a.b.c", "INBOX", "nope"]
    assert (Path(mbl.root) / "subscriptions").read_bytes() == b"V\t2\n\na\tb\tc\nINBOX\nnope\n"
    assert mbl.unsubscribe("nope") is True
    assert mbl.unsubscribe("nope") is False
    assert mbl.subscriptions() == ["a.b.c", "INBOX"]


def test_status_via_sync(mbl: MaildirMailboxList) -> None:
    mbl.create("Sent")
    box = MaildirMailbox(mbl.layout.mailbox_path("Sent"), uidvalidity_dir=mbl.root)
    box.save(MESSAGE)
    box.save(MESSAGE)
    status = mbl.status("Sent")
    assert (status.messages, status.uidnext) == (2, 3)
    assert status.uidvalidity == box.sync().uid_validity
    inbox = mbl.status("INBOX")
    assert (inbox.messages, inbox.uidnext) == (0, 1)
    assert inbox.uidvalidity != status.uidvalidity
    with pytest.raises(MailboxNotFoundError):
        mbl.status("nope")
