"""``dovecot-keywords``: which keyword each file-name letter a-z stands for.

The file is ``<index> <name>\\n`` lines, index 0 = letter ``a`` ... 25 = ``z``, written in
index order with gaps left out. Reading, Dovecot skips lines without a space, indexes that
are not plain decimal numbers below 26, and empty names; a later line for the same index
wins, and a last line without ``\\n`` is ignored. Names are matched case-insensitively.
A letter whose index has no name is given the name ``unknown-<index>`` (with ``?``
appended until unique). A new keyword takes the first free index; with all 26 taken it is kept only in Dovecot's index, never in file names.

Writing happens only while ``dovecot-uidlist.lock`` is held, so the file has no lock of its
own in practice: Dovecot unlinks any ``dovecot-keywords.lock``, creates it afresh with
``O_EXCL``, writes the whole file into it, makes sure the mtime grew (readers notice
changes by mtime), ``fsync``\\ s it (always, whatever ``mail_fsync`` says) and renames it
over ``dovecot-keywords``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from ..access import may_block
from .filename import MAX_KEYWORDS, keyword_index, keyword_letter
from .fsync import FsyncMode

KEYWORDS_NAME = "dovecot-keywords"
LOCK_SUFFIX = ".lock"

__all__ = [
    "KEYWORDS_NAME",
    "MAX_KEYWORDS",
    "Keywords",
    "keyword_index",
    "keyword_letter",
    "parse_keywords",
    "read_keywords",
    "write_keywords",
]


@dataclass(frozen=True)
class Keywords:
    """The index -> name table; ``names[i]`` is None for an unused index."""

    names: tuple[str | None, ...] = ()

    def name_at(self, index: int) -> str | None:
        return self.names[index] if 0 <= index < len(self.names) else None

    def name_for_letter(self, letter: str) -> str | None:
        return self.name_at(keyword_index(letter))

    def index_of(self, name: str) -> int | None:
        """Case-insensitive, like Dovecot; with duplicates the highest index wins."""
        folded = name.casefold()
        found = None
        for i, known in enumerate(self.names):
            if known is not None and known.casefold() == folded:
                found = i
        return found

    def letter_of(self, name: str) -> str | None:
        index = self.index_of(name)
        return None if index is None else keyword_letter(index)

    def with_keyword(self, name: str) -> tuple[Keywords, int | None]:
        """Add a keyword at the first free index. Returns the table and the index (None when
        all 26 are taken: Dovecot then keeps the keyword out of the file name)."""
        _check_name(name)
        existing = self.index_of(name)
        if existing is not None:
            return self, existing
        names = list(self.names)
        for i, known in enumerate(names):
            if known is None:
                names[i] = name
                return Keywords(tuple(names)), i
        if len(names) >= MAX_KEYWORDS:
            return self, None
        names.append(name)
        return Keywords(tuple(names)), len(names) - 1

    def with_placeholder(self, index: int) -> tuple[Keywords, str]:
        """Name a letter found in a file name that the table lacks, as Dovecot does."""
        if self.name_at(index) is not None:
            return self, self.names[index]  # type: ignore[return-value]
        name = f"unknown-{index}"
        while self.index_of(name) is not None:
            name += "?"
        names = list(self.names) + [None] * (index + 1 - len(self.names))
        names[index] = name
        return Keywords(tuple(names)), name

    def keywords_for_letters(self, letters: Iterable[str]) -> list[str | None]:
        return [self.name_for_letter(ch) for ch in letters]

    def to_bytes(self) -> bytes:
        return serialize_keywords(self)


def parse_keywords(data: bytes) -> Keywords:
    names: list[str | None] = []
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    lines.pop()  # Dovecot reads complete lines only: a last line without \n is ignored
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        index_text, space, name = line.partition(" ")
        if not space or not index_text.isdigit() or not index_text.isascii():
            continue
        index = int(index_text)
        if index >= MAX_KEYWORDS or name == "":
            continue
        if index >= len(names):
            names.extend([None] * (index + 1 - len(names)))
        names[index] = name
    return Keywords(tuple(names))


def serialize_keywords(keywords: Keywords) -> bytes:
    out = "".join(f"{i} {name}\n" for i, name in enumerate(keywords.names) if name is not None)
    return out.encode("utf-8", "surrogateescape")


def keywords_path(control_dir: str) -> str:
    return os.path.join(control_dir, KEYWORDS_NAME)


def read_keywords(control_dir: str) -> Keywords:
    """The table; empty when the file does not exist."""
    try:
        with open(keywords_path(control_dir), "rb") as f:
            return parse_keywords(f.read())
    except FileNotFoundError:
        return Keywords()


def write_keywords(
    control_dir: str, keywords: Keywords, *, mode: int = 0o600, gid: int | None = None,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
) -> None:
    """Replace ``dovecot-keywords``. The caller must hold ``dovecot-uidlist.lock``."""
    if fsync is not FsyncMode.NEVER:
        may_block()  # before the first write: an inline call starts again in a thread
    for name in keywords.names:
        if name is not None:
            _check_name(name)
    if len(keywords.names) > MAX_KEYWORDS:
        raise ValueError("dovecot-keywords holds at most 26 keywords")
    path = keywords_path(control_dir)
    lock_path = path + LOCK_SUFFIX
    try:
        previous_mtime = int(os.stat(path).st_mtime)
    except FileNotFoundError:
        previous_mtime = None
    # The uidlist lock protects us; a keywords lock left behind is garbage.
    try:
        os.unlink(lock_path)
    except FileNotFoundError:
        pass
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        if gid is not None:
            os.fchown(fd, -1, gid)
        data = serialize_keywords(keywords)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        mtime = int(os.fstat(fd).st_mtime)
        if previous_mtime is not None and mtime <= previous_mtime:
            # Readers only re-read when the mtime changed, so it must grow every time.
            os.utime(fd, (mtime, previous_mtime + 1))
        if fsync is not FsyncMode.NEVER:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(lock_path)
        raise
    os.close(fd)
    os.rename(lock_path, path)


def _check_name(name: str) -> None:
    if not name or any(ch in name for ch in " \t\r\n") or name.startswith("\\"):
        raise ValueError(f"not a keyword Maildir can store: {name!r}")
