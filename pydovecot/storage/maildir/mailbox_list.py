"""Mailbox list operations over a Maildir tree, as Dovecot 2.3.19 performs them on disk.

Names here are *storage names* (see :mod:`layout`): no namespace prefix, levels joined by
the layout's separator (``.`` for Maildir++, ``/`` for fs).

Behaviour checked against the real 2.3.19 (``doveadm mailbox ...`` and imap's LIST):

- create makes only the named folder (Maildir++ ``.a.b.c`` implies ``a`` and ``a.b`` as
  ``\\Noselect`` parents); one trailing separator is dropped (``a.`` creates ``a``);
- delete of INBOX fails ("INBOX can't be deleted."); of a Maildir++ ``\\Noselect`` parent or
  a missing name fails ("Mailbox doesn't exist: <name>"); under Maildir++ the folder's
  directory goes away and its children stay (so it turns into a ``\\Noselect`` parent); under
  fs a folder with children keeps its directory, emptied of the maildir; a bare fs directory
  goes when empty, else "Mailbox has children, delete them first";
- rename moves the children with it (fs: the source's levels left empty go too), works from
  a ``\\Noselect`` parent too, refuses INBOX
  ("Renaming INBOX isn't supported.") and an existing target ("Target mailbox already
  exists"), and allows renaming into its own subtree (``a.b.c`` -> ``a.b.c.d.e``);
- subscriptions need not name existing folders.

Synchronous; async callers run these methods in a thread.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from . import permissions
from .fsync import FsyncMode
from .layout import INBOX, LayoutKind, MailboxNameError, MaildirLayout, create_maildirfolder
from .mailbox import MaildirMailbox
from .subscriptions import read_subscriptions, set_subscribed
from .sync import CUR_DIR, NEW_DIR, TMP_DIR, ensure_maildir

# One level must fit a directory entry (with Maildir++'s leading dot); Dovecot says "too long".
MAX_LEVEL_LENGTH = 255
MAX_NAME_LENGTH = 4096


class MailboxNotFoundError(LookupError):
    pass


class MailboxExistsError(FileExistsError):
    pass


class MailboxOperationError(ValueError):
    """An operation Dovecot refuses on this mailbox (INBOX delete/rename)."""


@dataclass(frozen=True)
class MailboxInfo:
    name: str
    flags: frozenset[str]
    """``\\Noselect``, ``\\HasChildren`` or ``\\HasNoChildren``."""
    nonexistent: bool = False
    """A ``\\Noselect`` parent with no directory of its own (Maildir++'s implied levels):
    LIST-EXTENDED calls it ``\\NonExistent``; a bare fs directory stays ``\\Noselect``."""

    @property
    def selectable(self) -> bool:
        return "\\Noselect" not in self.flags


@dataclass(frozen=True)
class MailboxStatus:
    messages: int
    uidnext: int
    uidvalidity: int


class MaildirMailboxList:
    def __init__(
        self,
        root: str,
        layout: MaildirLayout | None = None,
        *,
        control_dir: str | None = None,
        fsync: FsyncMode = FsyncMode.OPTIMIZED,
        privileged_gid: int | None = None,
        stat_dirs: bool = False,
    ) -> None:
        self.stat_dirs = stat_dirs
        """``maildir_stat_dirs``: stat() every entry; else trust the directory entry's type."""
        self.privileged_gid = privileged_gid
        """``mail_privileged_group``: see :mod:`.permissions`."""
        self.root = root
        self.layout = layout or MaildirLayout(root)
        self.control_dir = control_dir or root
        self.fsync = fsync

    @property
    def separator(self) -> str:
        return self.layout.separator

    # --- names -------------------------------------------------------------------------------

    def check_name(self, name: str) -> str:
        """The name as Dovecot would store it, or :class:`MailboxNameError` with its message."""
        sep = self.separator
        if name.endswith(sep) and len(name) > 1:
            name = name[:-1]
        if not name:
            raise MailboxNameError("Invalid mailbox name: Empty name")
        if "\0" in name:
            raise MailboxNameError("Invalid mailbox name: Contains NUL")
        if len(name) > MAX_NAME_LENGTH:
            raise MailboxNameError("Mailbox name too long")
        if name.startswith(sep):
            raise MailboxNameError("Invalid mailbox name: Begins with hierarchy separator")
        if sep + sep in name:
            raise MailboxNameError("Invalid mailbox name: Has adjacent hierarchy separators")
        levels = name.split(sep)
        if any(len(level) > MAX_LEVEL_LENGTH for level in levels):
            raise MailboxNameError("Mailbox name too long")
        # Not reachable with Maildir++ ("." is the separator); under fs they would leave the tree.
        if any(level in (".", "..") for level in levels):
            raise MailboxNameError("Invalid mailbox name: Contains '.' or '..' level")
        if levels[0].upper() == INBOX:
            levels[0] = INBOX
        self.layout._check_levels(levels, sep)
        return sep.join(levels)

    # --- listing -----------------------------------------------------------------------------

    def _is_dir(self, entry: os.DirEntry[str]) -> bool:
        if self.stat_dirs:
            return os.path.isdir(entry.path)
        # The type readdir() gave (a stat only for symlinks and file systems without d_type).
        try:
            return entry.is_dir()
        except OSError:
            return False

    def _directories(self) -> dict[str, bool]:
        """Folders found on disk -> whether they hold a maildir (fs may have bare parents)."""
        found: dict[str, bool] = {}
        if self.layout.inbox_is_root() or self.layout.inbox_path is not None:
            found[INBOX] = True
        if self.layout.kind is LayoutKind.MAILDIRPLUSPLUS:
            for entry in _scandir(self.root):
                storage = self.layout.storage_name_of_entry(entry.name)
                if storage and self._is_dir(entry):
                    found[storage] = True
        else:
            self._walk_fs(self.root, "", found)
        return found

    def _walk_fs(self, directory: str, prefix: str, found: dict[str, bool]) -> None:
        dirname = self.layout.dirname
        for entry in _listdir(directory):
            path = os.path.join(directory, entry)
            if entry.startswith(".") or not os.path.isdir(path):
                continue
            if entry == dirname or (dirname is None and entry in (CUR_DIR, NEW_DIR, TMP_DIR)):
                continue
            name = prefix + entry
            maildir = os.path.join(path, dirname) if dirname else path
            found[name] = found.get(name, False) or os.path.isdir(os.path.join(maildir, CUR_DIR))
            self._walk_fs(path, name + "/", found)

    def _all(self) -> dict[str, bool | None]:
        """Every name -> True (a maildir), False (a directory without one: fs) or None (a
        parent implied by its children, with no directory: Maildir++)."""
        sep = self.separator
        result: dict[str, bool | None] = dict(self._directories())
        for name in list(result):
            levels = name.split(sep)
            for i in range(1, len(levels)):
                result.setdefault(sep.join(levels[:i]), None)
        return result

    def list(self, pattern: str = "*") -> list[MailboxInfo]:
        """Folders matching an IMAP LIST pattern (``*`` any, ``%`` any but the separator)."""
        sep = self.separator
        everything = self._all()
        matcher = _pattern_regex(pattern, sep)
        infos: list[MailboxInfo] = []
        for name in sorted(everything, key=lambda n: (n != INBOX, n)):
            if not matcher.fullmatch(name):
                continue
            has_children = any(other.startswith(name + sep) for other in everything)
            flags = {"\\HasChildren" if has_children else "\\HasNoChildren"}
            if not everything[name]:
                flags.add("\\Noselect")
            infos.append(MailboxInfo(name, frozenset(flags), everything[name] is None))
        return infos

    def exists(self, name: str) -> bool:
        return bool(self._all().get(name, False))

    def has_entry(self, name: str) -> bool:
        """A maildir or a bare directory (fs): what Dovecot's SUBSCRIBE accepts, unlike a
        Maildir++ parent that only its children imply."""
        if self.exists(name):  # first: subclasses (a missing shared owner) answer this one
            return True
        try:
            name = self.check_name(name)
        except MailboxNameError:
            return False
        return self._all().get(name) is False

    # --- create / delete / rename ------------------------------------------------------------

    def create(self, name: str) -> str:
        """Create a folder; returns its storage name (trailing separator dropped)."""
        name = self.check_name(name)
        if self.exists(name):
            raise MailboxExistsError("Mailbox already exists")
        path = self.layout.mailbox_path(name)
        # A new folder copies the mail root's permissions (Dovecot's rule, see permissions.py).
        perms = permissions.of_directory(self.root, privileged_gid=self.privileged_gid)
        ensure_maildir(path, perms=perms)
        if self.layout.creates_maildirfolder:
            create_maildirfolder(path, perms=perms)
        return name

    def delete(self, name: str) -> None:
        name = self.check_name(name)
        if name == INBOX:
            raise MailboxOperationError("INBOX can't be deleted.")
        everything = self._all()
        if everything.get(name) is False:
            # fs: a bare directory (a level CREATE a/b made): refused while it holds mailboxes,
            # else it just goes.
            if any(other.startswith(name + self.separator) for other in everything):
                raise MailboxOperationError("Mailbox has children, delete them first")
            shutil.rmtree(os.path.join(self.root, *name.split(self.separator)))
            return
        if not everything.get(name):
            raise MailboxNotFoundError(f"Mailbox doesn't exist: {name}")
        path = self.layout.mailbox_path(name)
        if self.layout.kind is LayoutKind.MAILDIRPLUSPLUS or self.layout.dirname:
            shutil.rmtree(path)
            return
        has_children = any(info.name != name for info in self.list(name + self.separator + "*"))
        if not has_children:
            shutil.rmtree(path)
            return
        # fs: the children live inside, so only the maildir itself goes.
        for entry in _listdir(path):
            full = os.path.join(path, entry)
            if entry in (CUR_DIR, NEW_DIR, TMP_DIR):
                shutil.rmtree(full)
            elif not os.path.isdir(full):
                os.unlink(full)

    def rename(self, old: str, new: str) -> str:
        old = self.check_name(old)
        new = self.check_name(new)
        if old == INBOX:
            raise MailboxOperationError("Renaming INBOX isn't supported.")
        everything = self._all()
        if old not in everything:
            raise MailboxNotFoundError(f"Mailbox doesn't exist: {old}")
        if new in everything:
            raise MailboxExistsError("Target mailbox already exists")
        sep = self.separator
        if self.layout.kind is LayoutKind.MAILDIRPLUSPLUS:
            moves = [
                (name, new + name[len(old) :])
                for name in everything
                if everything[name] and (name == old or name.startswith(old + sep))
            ]
            for source, target in moves:
                os.rename(os.path.join(self.root, "." + source), os.path.join(self.root, "." + target))
        else:
            src = os.path.join(self.root, *old.split("/"))
            dst = os.path.join(self.root, *new.split("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(src, dst)
            self._prune_empty_parents(os.path.dirname(src))
        return new

    def _prune_empty_parents(self, directory: str) -> None:
        """fs: the levels a RENAME left empty go too (Dovecot removes them; DELETE does not)."""
        root = os.path.abspath(self.root)
        directory = os.path.abspath(directory)
        while directory.startswith(root + os.sep):
            try:
                os.rmdir(directory)  # only an empty one: a maildir or other children stay
            except OSError:
                return
            directory = os.path.dirname(directory)

    # --- subscriptions -----------------------------------------------------------------------

    def subscribe(self, name: str) -> bool:
        name = self.check_name(name)
        os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
        return set_subscribed(
            self.control_dir, self.layout.levels(name), self.separator, True, fsync=self.fsync
        )

    def unsubscribe(self, name: str) -> bool:
        name = self.check_name(name)
        os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
        return set_subscribed(
            self.control_dir, self.layout.levels(name), self.separator, False, fsync=self.fsync
        )

    def subscriptions(self) -> list[str]:
        subs = read_subscriptions(self.control_dir)
        if subs is None:
            return []
        if subs.version >= 2:
            return subs.names(self.separator)
        return [name for (name,) in subs.entries()]

    # --- status ------------------------------------------------------------------------------

    def status(self, name: str) -> MailboxStatus:
        name = self.check_name(name)
        if not self.exists(name):
            raise MailboxNotFoundError(f"Mailbox doesn't exist: {name}")
        path = self.layout.mailbox_path(name)
        ensure_maildir(path)  # INBOX at the root may not exist yet; Dovecot autocreates it
        result = MaildirMailbox(path, uidvalidity_dir=self.control_dir, fsync=self.fsync).sync()
        return MailboxStatus(len(result.messages), result.next_uid, result.uid_validity)


def _pattern_regex(pattern: str, sep: str) -> re.Pattern[str]:
    parts: list[str] = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "%":
            parts.append(f"[^{re.escape(sep)}]*")
        else:
            parts.append(re.escape(ch))
    regex = "".join(parts)
    # INBOX is case-insensitive, also as the first level of a pattern.
    if pattern[:5].upper() == INBOX and (len(pattern) == 5 or pattern[5] in (sep, "*", "%")):
        regex = "(?i:INBOX)" + "".join(parts[5:])
    return re.compile(regex, re.DOTALL)


def _scandir(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
