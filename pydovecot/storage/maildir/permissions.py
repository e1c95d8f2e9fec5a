"""Modes and group of what the storage creates, by Dovecot 2.3's rules.

Dovecot never uses the umask for mail: it copies the permissions of an existing directory.
A new mailbox takes them from the mail root (Maildir++; fs layout: the nearest existing
parent), files inside a mailbox from the mailbox's own directory:

- files get ``(mode & 0666) | 0600``, directories ``(mode & 0777) | 0700``;
- the group is changed only when it has to be: not when the directory is setgid (the kernel
  gives new entries its group, and new directories its setgid bit), not when group and
  world have the same rights, not when it is the creator's own group. Otherwise every new
  file and directory is ``chown``-ed to the directory's group;
- a ``chown`` the user may not do fails the operation ("Internal error"), unless the group is
  ``mail_privileged_group``, which Dovecot briefly takes for it (we set the thread's
  file-system gid to it, which Linux's group check accepts).

So a ``0770`` setgid root gives ``0770`` folders (setgid inherited) and ``0660`` files; a
``0700`` root (the default) gives ``0700``/``0600``.
"""

from __future__ import annotations

import errno
import grp
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from pydovecot.storage import access

_log = logging.getLogger("pydovecot.mail")


@dataclass(frozen=True)
class Permissions:
    file_mode: int = 0o600
    dir_mode: int = 0o700
    gid: int | None = None
    """The group to ``chown`` new entries to; None leaves the one they get."""
    gid_origin: str = "defaults"
    """Where the group came from (Dovecot's error messages name it)."""
    privileged_gid: int | None = None
    """``mail_privileged_group``'s gid: a chown to it may use that group's rights."""


DEFAULT = Permissions()


def from_stat(st: os.stat_result, origin: str, privileged_gid: int | None = None) -> Permissions:
    mode = st.st_mode
    if stat.S_ISDIR(mode) and mode & stat.S_ISGID:
        gid = None  # the kernel gives new entries the directory's group
    elif (mode & 0o070) >> 3 == mode & 0o007:
        gid = None  # the group may do no more than anyone: not worth changing
    elif st.st_gid == os.getegid() or st.st_gid == _fsgid():
        gid = None  # our own group already
    else:
        gid = st.st_gid
    return Permissions((mode & 0o666) | 0o600, (mode & 0o777) | 0o700, gid, origin, privileged_gid)


def of_directory(path: str, *, privileged_gid: int | None = None) -> Permissions:
    """The permissions ``path`` passes on to what is created inside it.

    When ``path`` does not exist yet (a mail root made on first use), Dovecot looks at its
    first existing parent and copies it only when that parent is setgid; otherwise the
    defaults (0700/0600) keep a new root private even inside a 0755 home.
    """
    current = os.path.abspath(path)
    try:
        return from_stat(os.stat(current), current, privileged_gid)
    except FileNotFoundError:
        pass
    while (parent := os.path.dirname(current)) != current:
        current = parent
        try:
            st = os.stat(current)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISGID:
            return from_stat(st, current, privileged_gid)
        break
    return Permissions(privileged_gid=privileged_gid)


def make_dir(path: str, perms: Permissions = DEFAULT, *, exist_ok: bool = True) -> bool:
    """``mkdir`` with exactly ``perms.dir_mode`` (no umask) and the group; False when it existed."""
    try:
        os.mkdir(path, perms.dir_mode)
    except FileExistsError:
        if exist_ok and os.path.isdir(path):
            return False
        raise
    try:
        st = os.stat(path)
        if stat.S_IMODE(st.st_mode) & 0o777 != perms.dir_mode:
            # The umask cut the mode (Dovecot sets umask 0; ours is per process, shared by
            # threads). Keep a setgid bit the kernel gave us: chmod by someone outside the
            # directory's group would clear it, so chmod as a member of it.
            setgid = st.st_mode & stat.S_ISGID
            _as_group(st.st_gid if setgid else None, os.chmod, path, perms.dir_mode | setgid)
        if perms.gid is not None and st.st_gid != perms.gid:
            chown_group(path, None, perms)
    except BaseException:
        os.rmdir(path)
        raise
    return True


def make_dirs(path: str, perms: Permissions = DEFAULT) -> None:
    """:func:`make_dir` for ``path`` and its missing parents."""
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path and not os.path.isdir(parent):
        make_dirs(parent, perms)
    make_dir(path, perms)


def create_file(path: str, flags: int, perms: Permissions = DEFAULT) -> int:
    """``os.open(path, flags | O_CREAT)`` with exactly ``perms.file_mode`` and the group."""
    fd = os.open(path, flags | os.O_CREAT, perms.file_mode)
    try:
        st = os.fstat(fd)
        if stat.S_IMODE(st.st_mode) != perms.file_mode and st.st_size == 0:
            os.fchmod(fd, perms.file_mode)
        if perms.gid is not None and st.st_gid != perms.gid:
            chown_group(path, fd, perms)
    except BaseException:
        os.close(fd)
        raise
    return fd


def chown_group(path: str, fd: int | None, perms: Permissions) -> None:
    """Give ``path`` the group ``perms.gid``, as Dovecot's ``fchown`` with its error text."""
    assert perms.gid is not None
    try:
        _chown(path, fd, perms.gid)
        return
    except PermissionError:
        if perms.privileged_gid != perms.gid or not _privileged_chown(path, fd, perms.gid):
            _log.error("%schown(%s, group=%s) failed: Operation not permitted (egid=%s, group based on %s "
                       "- see http://wiki2.dovecot.org/Errors/ChgrpNoPerm)", "f" if fd is not None else "", path,
                       _group_text(perms.gid), _group_text(_fsgid()), perms.gid_origin)
            raise


def _chown(path: str, fd: int | None, gid: int) -> None:
    if fd is not None:
        os.fchown(fd, -1, gid)
    else:
        os.chown(path, -1, gid)


def _privileged_chown(path: str, fd: int | None, gid: int) -> bool:
    if not access.can_switch():
        return False
    try:
        _as_group(gid, _chown, path, fd, gid)
        return True
    except PermissionError:
        return False


def _as_group(gid: int | None, func: Callable[..., object], *args: object) -> None:
    """``func(*args)`` with this thread's file-system gid set to ``gid`` (Linux counts it as
    group membership), as Dovecot briefly takes a privileged group."""
    before = _fsgid()
    if gid is None or gid == before or not access.can_switch():
        func(*args)
        return
    access._libc.setfsgid(gid)
    try:
        func(*args)
    finally:
        access._libc.setfsgid(before)


def _fsgid() -> int:
    """This thread's file-system gid (setfsgid with an invalid id reports it unchanged)."""
    if access._libc is None:
        return os.getegid()
    return int(access._libc.setfsgid(-1) & 0xFFFFFFFF)


def _group_text(gid: int) -> str:
    try:
        return f"{gid}({grp.getgrgid(gid).gr_name})"
    except KeyError:
        return str(gid)


def privileged_gid(group: str) -> int | None:
    """``mail_privileged_group`` as a gid (a name or a number); None when unset."""
    if not group:
        return None
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise ValueError(f"mail_privileged_group: Unknown group name: {group}") from exc


def is_no_space(exc: OSError) -> bool:
    """A full disk or quota: Dovecot reports these as temporary failures, not bugs."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)
