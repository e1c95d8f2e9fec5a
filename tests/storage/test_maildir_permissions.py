"""Modes and groups of what the Maildir storage creates, against real Dovecot 2.3.19.

``goldens/maildir_permissions.json`` holds what the real ``imap`` binary (PREAUTH, as uid 65534)
created under a mail root of a given mode and group for: CREATE Foo, CREATE Foo.Bar, APPEND to
Foo, APPEND (\\Seen) to INBOX, SELECT INBOX. ``"root"`` in it means "the mail root's group".
We do the same through our storage, as the same file-system identity, and compare.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from pydovecot.storage.access import call_as, can_switch
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir import permissions
from pydovecot.storage.maildir.mailbox_list import MaildirMailboxList

GOLDEN = json.loads((Path(__file__).parent / "goldens" / "maildir_permissions.json").read_text())
MSG = b"Subject: t\r\n\r\nbody\r\n"
NOBODY = 65534
MAIL_GID = 8

needs_root = pytest.mark.skipif(not can_switch(), reason="needs root to act as another user")


def _make_root(base: Path, mode: int, gid: int) -> Path:
    home = base / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    root = home / "Maildir"
    root.mkdir()
    os.chown(root, NOBODY, gid)
    os.chmod(root, mode)
    return root


def _our_operations(root: Path, privileged_gid: int | None = None) -> None:
    mailbox_list = MaildirMailboxList(str(root), privileged_gid=privileged_gid)
    mailbox_list.create("Foo")
    mailbox_list.create("Foo.Bar")
    MaildirIndexedMailbox("Foo", str(root / ".Foo"), uidvalidity_dir=str(root),
                          privileged_gid=privileged_gid).append(MSG)
    inbox = MaildirIndexedMailbox("INBOX", str(root), uidvalidity_dir=str(root), privileged_gid=privileged_gid)
    inbox.append(MSG, flags=["\\Seen"])
    inbox.sync(take_recent=True)


def _tree(root: Path) -> dict[str, list[object]]:
    root_gid = root.stat().st_gid
    out: dict[str, list[object]] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(directory) / name
            rel = str(full.relative_to(root))
            if "pydovecot.index" in rel or rel.endswith(".lock"):
                continue
            rel = re.sub(r"dovecot-uidvalidity\.[0-9a-f]+", "dovecot-uidvalidity.X", rel)
            rel = re.sub(r"(cur|new|tmp)/[^/]+", r"\1/MSG", rel)
            st = full.lstat()
            out[rel] = [oct(stat.S_IMODE(st.st_mode)), "root" if st.st_gid == root_gid else st.st_gid]
    return out


@needs_root
@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_created_modes_and_groups_match_dovecot(case: str, open_tmp_path: Path) -> None:
    mode_text, whose = case.split(":")
    gid = NOBODY if whose == "own" else MAIL_GID
    root = _make_root(open_tmp_path, int(mode_text, 8), gid)
    call_as(NOBODY, NOBODY, _our_operations, root)
    ours = _tree(root)
    golden = GOLDEN[case]
    # Dovecot also writes a uidlist into a folder it merely creates; we write it at first use.
    assert {k: v for k, v in ours.items()} == {k: v for k, v in golden.items() if k in ours}
    assert set(golden) - set(ours) <= {".Foo.Bar/dovecot-uidlist"}


@needs_root
def test_chown_the_user_may_not_do_fails_like_dovecot(open_tmp_path: Path) -> None:
    # A 0750 root owned by group "mail" (not the user's): Dovecot must chown every new entry
    # to "mail", may not, and fails the CREATE with an internal error.
    root = _make_root(open_tmp_path, 0o750, MAIL_GID)
    with pytest.raises(PermissionError):
        call_as(NOBODY, NOBODY, MaildirMailboxList(str(root)).create, "Foo")
    assert not (root / ".Foo").exists()


@needs_root
def test_mail_privileged_group_allows_that_chown(open_tmp_path: Path) -> None:
    root = _make_root(open_tmp_path, 0o750, MAIL_GID)
    call_as(NOBODY, NOBODY, _our_operations, root, MAIL_GID)
    tree = _tree(root)
    assert tree[".Foo"] == ["0o750", "root"] and tree[".Foo/new/MSG"] == ["0o640", "root"]
    assert tree[".Foo/maildirfolder"] == ["0o640", "root"]


def test_rules_from_a_stat() -> None:
    def perms(mode: int, gid: int) -> permissions.Permissions:
        st = os.stat_result((stat.S_IFDIR | mode, 0, 0, 2, 0, gid, 0, 0, 0, 0))
        return permissions.from_stat(st, "/x")

    setgid = perms(0o2770, 4242)
    assert (setgid.file_mode, setgid.dir_mode, setgid.gid) == (0o660, 0o770, None)
    assert perms(0o755, 4242).gid is None  # group and world alike: no chown
    assert perms(0o750, 4242).gid == 4242
    assert (perms(0o500, 4242).file_mode, perms(0o500, 4242).dir_mode) == (0o600, 0o700)


def test_missing_root_copies_only_a_setgid_parent(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir(mode=0o755)
    plain.chmod(0o755)
    assert permissions.of_directory(str(plain / "mail" / "Maildir")) == permissions.Permissions()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2770)
    got = permissions.of_directory(str(shared / "mail" / "Maildir"))
    assert (got.file_mode, got.dir_mode) == (0o660, 0o770)
