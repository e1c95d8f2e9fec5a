"""Folder name <-> directory mapping of Maildir++ (the default) and ``LAYOUT=fs``.

Three names are involved:

- the *vname* a client sees: ``INBOX/Sent`` with namespace prefix ``INBOX/`` and separator ``/``;
- the *storage name* inside the mailbox list: prefix removed, the namespace separator
  replaced by the list's own (``.`` for Maildir++, ``/`` for fs) and each level in
  modified UTF-7 unless ``mail_location`` has ``:UTF-8`` (``Sent``, ``x.y``, ``Entw&APw-rfe``);
  this is also what the ``subscriptions`` file stores;
- the directory: Maildir++ puts every folder directly in the root as ``.<storage name>``
  (``~/Maildir/.x.y``); fs nests ``<root>/x/y``. ``DIRNAME=<d>`` (fs) puts the maildir
  one level deeper (``<root>/x/y/<d>``) and then INBOX is an ordinary ``<root>/INBOX/<d>``.
  Without ``DIRNAME`` (and without ``INBOX=``) INBOX is the root itself, and a child of
  INBOX is ``.INBOX.child`` (Maildir++) or ``<root>/INBOX/child`` (fs).

What Dovecot 2.3.19 refuses (checked against the real binaries):

- a level starting with ``~`` ("Invalid mailbox name: Begins with '~'");
- under Maildir++ with a namespace separator other than ``.``, any ``.`` in the name
  ("Character not allowed in mailbox name: '.'"), since ``.`` is the on-disk separator;
- with separator ``.``, any ``/`` ("Name must not have '/' characters");
- under fs without ``DIRNAME``, a level named ``cur``, ``new`` or ``tmp`` ("Contains
  reserved name"); Maildir++ stores ``cur`` fine as ``.cur``.

Maildir++ writes an empty ``maildirfolder`` file into every folder it creates, INBOX
included when INBOX is created at the root (so 2.3's root often has one too); fs does not.

The ``listescape`` plugin (not implemented here) lifts the ``.``/``/``/``~`` limits by
escaping such characters in the storage name as ``\\<2 hex digits>`` (``a.b`` ->
``a\\2eb``, directory ``.a\\2eb``), with ``listescape_char`` choosing the escape character.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import mutf7

if TYPE_CHECKING:
    from .permissions import Permissions

MAILDIRFOLDER_NAME = "maildirfolder"
INBOX = "INBOX"
_RESERVED = ("cur", "new", "tmp")


class LayoutKind(enum.Enum):
    MAILDIRPLUSPLUS = "Maildir++"
    FS = "fs"

    @classmethod
    def parse(cls, value: str) -> LayoutKind:
        if value.lower() == "maildir++":
            return cls.MAILDIRPLUSPLUS
        if value.lower() == "fs":
            return cls.FS
        raise ValueError(f"unknown maildir LAYOUT: {value!r}")


class MailboxNameError(ValueError):
    """A name Dovecot refuses; the message is Dovecot's."""


@dataclass(frozen=True)
class MaildirLayout:
    """Where a Maildir tree keeps its folders."""

    root: str
    kind: LayoutKind = LayoutKind.MAILDIRPLUSPLUS
    dirname: str | None = None
    """``DIRNAME=``: the maildir inside each folder's directory (fs layout)."""
    inbox_path: str | None = None
    """``INBOX=``: an INBOX outside the tree; by default INBOX is the root."""
    utf8: bool = False
    """``:UTF-8``: folder names on disk in UTF-8 instead of modified UTF-7."""

    @property
    def separator(self) -> str:
        """The hierarchy separator on disk (and in v1 subscriptions files)."""
        return "." if self.kind is LayoutKind.MAILDIRPLUSPLUS else "/"

    @property
    def creates_maildirfolder(self) -> bool:
        return self.kind is LayoutKind.MAILDIRPLUSPLUS

    def inbox_is_root(self) -> bool:
        return self.inbox_path is None and self.dirname is None

    # --- vname <-> storage name ------------------------------------------------------------

    def storage_name(
        self, vname: str, *, prefix: str = "", separator: str | None = None, inbox_namespace: bool = True
    ) -> str:
        """The storage name of a client-visible name (raises :class:`MailboxNameError`)."""
        sep = separator or self.separator
        if prefix:
            if vname.upper() == INBOX and inbox_namespace:
                return INBOX
            if not vname.startswith(prefix):
                raise MailboxNameError(f"{vname!r} is not in namespace {prefix!r}")
            vname = vname[len(prefix) :]
        levels = vname.split(sep)
        if inbox_namespace and levels[0].upper() == INBOX:
            levels[0] = INBOX
        self._check_levels(levels, sep)
        encoded = levels if self.utf8 else [mutf7.encode(level) for level in levels]
        return self.separator.join(encoded)

    def vname(self, storage_name: str, *, prefix: str = "", separator: str | None = None) -> str:
        sep = separator or self.separator
        if storage_name == INBOX:
            return INBOX
        levels = storage_name.split(self.separator)
        decoded = levels if self.utf8 else [mutf7.decode(level) for level in levels]
        return prefix + sep.join(decoded)

    def levels(self, storage_name: str) -> tuple[str, ...]:
        """Hierarchy levels of a storage name (what a v2 subscriptions line holds)."""
        return tuple(storage_name.split(self.separator))

    # --- storage name <-> directory ----------------------------------------------------------

    def mailbox_path(self, storage_name: str) -> str:
        """The maildir (the directory holding ``cur``/``new``/``tmp``) of a folder."""
        if storage_name == INBOX:
            if self.inbox_path is not None:
                return self.inbox_path
            if self.dirname is None:
                return self.root
        if self.kind is LayoutKind.MAILDIRPLUSPLUS:
            path = os.path.join(self.root, "." + storage_name)
        else:
            path = os.path.join(self.root, *storage_name.split("/"))
        return os.path.join(path, self.dirname) if self.dirname else path

    def storage_name_of_entry(self, entry: str) -> str | None:
        """Maildir++: the storage name of a root directory entry, or None if not a folder."""
        if self.kind is not LayoutKind.MAILDIRPLUSPLUS:
            raise ValueError("only Maildir++ keeps all folders as root entries")
        if not entry.startswith(".") or entry in (".", ".."):
            return None
        return entry[1:]

    def _check_levels(self, levels: list[str], sep: str) -> None:
        for level in levels:
            if level.startswith("~"):
                raise MailboxNameError("Invalid mailbox name: Begins with '~'")
            if self.kind is LayoutKind.MAILDIRPLUSPLUS and sep != "." and "." in level:
                raise MailboxNameError("Character not allowed in mailbox name: '.'")
            if sep == "." and "/" in level:
                raise MailboxNameError("Invalid mailbox name: Name must not have '/' characters")
            if self.kind is LayoutKind.FS and self.dirname is None and level in _RESERVED:
                raise MailboxNameError("Invalid mailbox name: Contains reserved name")


def create_maildirfolder(mailbox_path: str, mode: int = 0o600, *, perms: Permissions | None = None) -> None:
    """The empty marker Maildir++ puts in each folder it creates (``mode`` exactly, no umask)."""
    from .permissions import Permissions, create_file

    fd = create_file(os.path.join(mailbox_path, MAILDIRFOLDER_NAME), os.O_WRONLY,
                     perms or Permissions(file_mode=mode))
    os.close(fd)
