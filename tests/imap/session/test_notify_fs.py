"""NOTIFY on a LAYOUT=fs Maildir when another program (an MDA, real Dovecot) makes the nested
folders: the inotify watches must follow directories created after NOTIFY SET. What real
Dovecot answers for the same changes made over IMAP is in goldens/notify.json (fs_* cases,
test_notify.py); a change made straight on disk can only be asked of ours."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import RunningServer, running_server
from .notify_cases import CASE_SETTINGS, CASES, FS, normalise_notify, run_notify_case, views
from .test_notify import _login, _wait_for


def _maildir(srv: RunningServer) -> Path:
    return srv.tmp / "home" / "alice@example.test" / "Maildir"


def _make_folder(srv: RunningServer, *levels: str) -> Path:
    """A maildir at Maildir/<levels...>, owned as the mail home is (the server's storage runs as
    that user when the tests run as root)."""
    root = _maildir(srv)
    owner = root.stat()
    path = root
    for level in levels:
        path = path / level
        if not path.exists():
            path.mkdir()
            os.chown(path, owner.st_uid, owner.st_gid)
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir()
        os.chown(path / sub, owner.st_uid, owner.st_gid)
    return path


def _deliver(folder: Path, name: str) -> None:
    tmp = folder / "tmp" / name
    tmp.write_bytes(b"Subject: direct\r\n\r\nbody\r\n")
    os.chown(tmp, folder.stat().st_uid, folder.stat().st_gid)
    os.rename(tmp, folder / "new" / name)


def test_nested_folders_made_on_disk_are_watched() -> None:
    with running_server(FS) as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in two.command("x CREATE top")  # type: ignore[operator]
        assert " OK " in one.command(  # type: ignore[operator]
            "b NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName))")
        deep = _make_folder(srv, "a", "b", "c")
        pushed = _wait_for(one, '"/" a/b/c')
        assert '* LIST () "/" a\r\n' in pushed and '* LIST () "/" a/b\r\n' in pushed
        assert '* LIST () "/" a/b/c\r\n' in pushed
        _deliver(deep, "1700000000.P1Q1.host")
        assert "* STATUS a/b/c (MESSAGES 1 UIDNEXT 2 UIDVALIDITY " in _wait_for(one, "STATUS a/b/c")
        # A level below a directory that itself appeared after NOTIFY SET.
        _make_folder(srv, "a", "b", "d")
        assert '* LIST () "/" a/b/d\r\n' in _wait_for(one, "a/b/d")
        # Inside a folder that existed before: top/new/inner.
        _make_folder(srv, "top", "inner")
        assert '* LIST () "/" top/inner\r\n' in _wait_for(one, "top/inner")
        one.sock.close()
        two.sock.close()


def test_subtree_of_a_nested_name_hears_only_its_subtree() -> None:
    with running_server(FS) as srv:
        one, two = _login(srv.port), _login(srv.port)
        assert " OK " in two.command("x CREATE a/b")  # type: ignore[operator]
        assert " OK " in one.command("b NOTIFY SET (SUBTREE a/b (MessageNew MailboxName))")  # type: ignore[operator]
        _deliver(_make_folder(srv, "a", "c"), "1700000000.P2Q1.host")  # a sibling: not news
        inner = _make_folder(srv, "a", "b", "x", "y")
        pushed = _wait_for(one, "a/b/x/y")
        assert "a/c" not in pushed and '* LIST () "/" a/b/x/y\r\n' in pushed
        _deliver(inner, "1700000000.P3Q1.host")
        pushed = _wait_for(one, "STATUS")
        assert "* STATUS a/b/x/y (MESSAGES 1 UIDNEXT 2 UIDVALIDITY " in pushed and "a/c" not in pushed
        one.sock.close()
        two.sock.close()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/dovecot") or os.geteuid() != 0,
                    reason="needs real Dovecot 2.3.19 and root")
# fs_status only: fs_filters waits through its drain windows for half a minute live, and its
# recording is replayed against ours in test_notify.py on every run anyway.
@pytest.mark.parametrize("name", ["fs_status"])
def test_matches_live_dovecot(name: str) -> None:
    """An fs_* recording again, live: real Dovecot and ours on the same steps now."""
    import random

    from .record_notify_goldens import record

    real = record(name, port=random.randint(20000, 40000))
    with running_server(CASE_SETTINGS.get(name, "")) as srv:
        ours = [[line, normalise_notify(reply)] for line, reply in
                run_notify_case("127.0.0.1", srv.port, CASES[name])]
    ours_first, ours_second = views(ours)
    real_first, real_second = views(real)
    assert ours_second == real_second
    assert ours_first.split("\r\n") == real_first.split("\r\n")
