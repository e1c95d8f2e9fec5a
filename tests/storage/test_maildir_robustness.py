"""Hostile input to the Maildir storage: odd bytes, huge messages, bad names, a full disk."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydovecot.storage.interface import MailboxError
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir.filename import size_field
from pydovecot.storage.maildir.layout import LayoutKind, MailboxNameError, MaildirLayout
from pydovecot.storage.maildir.mailbox_list import MailboxExistsError, MaildirMailboxList

GOLDENS = Path(__file__).parent / "goldens"


def _box(path: Path) -> MaildirIndexedMailbox:
    return MaildirIndexedMailbox("INBOX", str(path), uidvalidity_dir=str(path))


def _only_file(maildir: Path) -> Path:
    (found,) = [p for sub in ("new", "cur") for p in (maildir / sub).iterdir()]
    return found


# --- bytes are stored as they came ---------------------------------------------------------------

@pytest.mark.parametrize("case", json.loads((GOLDENS / "maildir_append_bytes.json").read_text())["cases"])
def test_nul_and_bare_cr_are_stored_as_dovecot_stores_them(tmp_path: Path, case: dict[str, object]) -> None:
    box = _box(tmp_path / "Maildir")
    uid = box.append(str(case["append"]).encode("latin-1"))
    stored = _only_file(tmp_path / "Maildir")
    assert stored.read_bytes() == str(case["stored"]).encode("latin-1") == box.read(uid)
    assert size_field(stored.name, "S") == case["S"] and size_field(stored.name, "W") == case["W"]


def test_a_one_megabyte_line_round_trips(tmp_path: Path) -> None:
    data = b"Subject: long\r\n\r\n" + bytes(range(32, 127)) * (1024 * 1024 // 95) + b"\r\n"
    box = _box(tmp_path / "Maildir")
    uid = box.append(data)
    assert box.read(uid) == data.replace(b"\r\n", b"\n")
    assert box.sync().messages[0].vsize == len(data)


def test_a_fifty_megabyte_body_round_trips(tmp_path: Path) -> None:
    line = b"0123456789abcdefghijklmnopqrstuvwxyz\x00\r-ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    data = b"Subject: big\n\n" + line * (50 * 1024 * 1024 // len(line))
    box = _box(tmp_path / "Maildir")
    uid = box.append(data)
    path = box.path_of(uid)
    assert path is not None and os.path.getsize(path) == len(data)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()


# --- mailbox names never leave the root ----------------------------------------------------------

DOVECOT_REFUSALS = {  # what real Dovecot 2.3.19 answered to CREATE (Maildir++, separator ".")
    "a..b": "Invalid mailbox name: Has adjacent hierarchy separators",
    "../x": "Invalid mailbox name: Begins with hierarchy separator",
    "a/b": "Invalid mailbox name: Name must not have '/' characters",
    "~x": "Invalid mailbox name: Begins with '~'",
    ".x": "Invalid mailbox name: Begins with hierarchy separator",
    "a" * 256: "Mailbox name too long",
    ".".join(["c" * 200] * 25): "Mailbox name too long",
    "x/../y": "Invalid mailbox name: Has adjacent hierarchy separators",
}


@pytest.mark.parametrize("name", sorted(DOVECOT_REFUSALS))
def test_bad_names_are_refused_with_dovecots_text(tmp_path: Path, name: str) -> None:
    with pytest.raises(MailboxNameError) as caught:
        MaildirMailboxList(str(tmp_path / "Maildir")).create(name)
    assert str(caught.value) == DOVECOT_REFUSALS[name]


def _outside(base: Path, root: Path) -> set[str]:
    seen = set()
    for directory, dirs, files in os.walk(base):
        for name in dirs + files:
            full = Path(directory) / name
            if full != root and root not in full.parents:
                seen.add(str(full))
    return seen


_NAMES = st.lists(st.sampled_from([*"ab./~\\\x00&-é\u2603", "..", "INBOX", "cur", "a" * 130]),
                 max_size=8).map("".join)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("names")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES, kind=st.sampled_from([LayoutKind.MAILDIRPLUSPLUS, LayoutKind.FS]))
def test_no_name_creates_anything_outside_the_root(sandbox: Path, name: str, kind: LayoutKind) -> None:
    root = sandbox / "home" / "Maildir"
    root.mkdir(parents=True, exist_ok=True)
    before = _outside(sandbox, root)
    mailbox_list = MaildirMailboxList(str(root), MaildirLayout(str(root), kind))
    try:
        created = mailbox_list.create(name)
    except (MailboxNameError, MailboxExistsError):
        pass
    except OSError as exc:
        assert exc.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EEXIST, errno.ENOTDIR), exc
    else:
        path = Path(mailbox_list.layout.mailbox_path(created)).resolve()
        assert root.resolve() in path.parents
    assert _outside(sandbox, root) == before


# --- a full disk ---------------------------------------------------------------------------------

@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path | None]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True, timeout=10).returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=10)


def _maildir_files(maildir: Path) -> list[str]:
    return [name for sub in ("tmp", "new", "cur") for name in os.listdir(maildir / sub)]


def test_full_disk_is_a_temporary_failure_leaving_nothing(tmp_path: Path, tiny_fs: Path | None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    base = tiny_fs or tmp_path
    box = _box(base / "Maildir")
    box.append(b"Subject: small\n\nfits\n")
    before = _maildir_files(base / "Maildir")
    if tiny_fs is None:  # cannot mount: make every write of a message fail as ENOSPC would
        real_write = os.write

        def full(fd: int, data: bytes) -> int:
            if len(data) > 100_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", full)
    with pytest.raises(MailboxError) as caught:
        box.append(b"Subject: big\n\n" + b"x" * (2 * 1024 * 1024))
    assert caught.value.code == "OVERQUOTA" and str(caught.value) == "Not enough disk space"
    assert _maildir_files(base / "Maildir") == before
    assert len(box.sync().messages) == 1
