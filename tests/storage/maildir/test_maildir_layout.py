"""Folder name <-> directory mapping, checked against what Dovecot 2.3.19 created."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.storage.maildir import mutf7
from pydovecot.storage.maildir.layout import LayoutKind, MailboxNameError, MaildirLayout

PP = MaildirLayout(root="/m")
FS = MaildirLayout(root="/m", kind=LayoutKind.FS)
FS_DIRNAME = MaildirLayout(root="/m", kind=LayoutKind.FS, dirname="mAildir")


@pytest.mark.parametrize(
    ("layout", "vname", "prefix", "sep", "path"),
    [
        # namespace prefix INBOX/ separator / (the seed's config): .Sent, .x.y, mUTF-7
        (PP, "INBOX", "INBOX/", "/", "/m"),
        (PP, "INBOX/Sent", "INBOX/", "/", "/m/.Sent"),
        (PP, "INBOX/x/y", "INBOX/", "/", "/m/.x.y"),
        (PP, "INBOX/Entwürfe", "INBOX/", "/", "/m/.Entw&APw-rfe"),
        (PP, "INBOX/amp&x", "INBOX/", "/", "/m/.amp&-x"),
        (PP, "INBOX/cur", "INBOX/", "/", "/m/.cur"),
        (PP, "INBOX/back\\slash", "INBOX/", "/", "/m/.back\\slash"),
        # no namespace configured: prefix "", separator "."
        (PP, "a.b", "", ".", "/m/.a.b"),
        (PP, "INBOX.sub", "", ".", "/m/.INBOX.sub"),
        (PP, "Ünïcode & Co", "", ".", "/m/.&ANw-n&AO8-code &- Co"),
        (FS, "x/y", "", "/", "/m/x/y"),
        (FS, "a.b", "", "/", "/m/a.b"),
        (FS, ".dot", "", "/", "/m/.dot"),
        (FS, "INBOX", "", "/", "/m"),
        (FS, "INBOX/child", "", "/", "/m/INBOX/child"),
        (FS_DIRNAME, "INBOX", "", "/", "/m/INBOX/mAildir"),
        (FS_DIRNAME, "x/y", "", "/", "/m/x/y/mAildir"),
        (FS_DIRNAME, "cur", "", "/", "/m/cur/mAildir"),
    ],
)
def test_paths_dovecot_created(layout: MaildirLayout, vname: str, prefix: str, sep: str, path: str) -> None:
    storage = layout.storage_name(vname, prefix=prefix, separator=sep)
    assert layout.mailbox_path(storage) == path
    assert layout.vname(storage, prefix=prefix, separator=sep) == vname


@pytest.mark.parametrize(
    ("layout", "vname", "sep", "message"),
    [
        (PP, "a.b", "/", "Character not allowed in mailbox name: '.'"),
        (PP, ".dot", "/", "Character not allowed in mailbox name: '.'"),
        (PP, "~tilde", "/", "Begins with '~'"),
        (PP, "Work/Projects", ".", "Name must not have '/' characters"),
        (FS, "~tilde", "/", "Begins with '~'"),
        (FS, "cur", "/", "Contains reserved name"),
        (FS, "x/tmp", "/", "Contains reserved name"),
    ],
)
def test_names_dovecot_refused(layout: MaildirLayout, vname: str, sep: str, message: str) -> None:
    with pytest.raises(MailboxNameError, match=message):
        layout.storage_name(vname, separator=sep)


def test_maildirpp_entries_and_marker() -> None:
    assert PP.storage_name_of_entry(".x.y") == "x.y"
    assert PP.storage_name_of_entry("cur") is None
    assert PP.storage_name_of_entry("..") is None
    assert PP.levels("x.y") == ("x", "y")
    assert PP.creates_maildirfolder and not FS.creates_maildirfolder
    assert PP.separator == "." and FS.separator == "/"
    assert LayoutKind.parse("maildir++") is LayoutKind.MAILDIRPLUSPLUS


def test_utf8_option_keeps_names() -> None:
    layout = MaildirLayout(root="/m", utf8=True)
    assert layout.mailbox_path(layout.storage_name("Entwürfe")) == "/m/.Entwürfe"


@given(st.text(max_size=20))
def test_mutf7_round_trip(text: str) -> None:
    encoded = mutf7.encode(text)
    assert all(0x20 <= ord(c) <= 0x7E for c in encoded)
    assert mutf7.decode(encoded) == text


@pytest.mark.parametrize("bad", ["&", "&Jjo!", "&AGE-", "\u00e9"])
def test_mutf7_rejects_bad_input(bad: str) -> None:
    with pytest.raises(mutf7.MUtf7Error):
        mutf7.decode(bad)
