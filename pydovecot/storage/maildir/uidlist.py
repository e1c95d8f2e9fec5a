"""``dovecot-uidlist``: the UID <-> file name map, UIDVALIDITY and mailbox GUID.

Version 3 (written by Dovecot 1.1 and later)::

    3 V<uidvalidity> N<next uid> G<mailbox guid>[ <key><value>...]
    <uid>[ <key><value>...] :<base file name>

Record extension keys are one capital letter: ``S`` physical size and ``W`` virtual size
(only when the file name lacks ``,S=``/``,W=``), ``G`` message GUID (default: the base
name), ``P`` POP3 UIDL, ``O`` POP3 order. The header may carry ``P`` (POP3 UIDL format)
and other keys, which Dovecot keeps in order after V, N and G.

Version 1 (Courier's ``courierimapuiddb`` format, ``1 <uidvalidity> <next uid>`` and
``<uid> <file name>``) is still read by 2.3, which rewrites it as version 3 on its next
write. Version 2 is *not* read by 2.3: it reports "Unsupported version 2", deletes the
file and numbers every message afresh.

How Dovecot reads it, which this module follows:

- Only complete lines count: a last line without ``\\n`` is a record still being appended.
- ``N`` is not always above every UID: Dovecot appends new records without touching the
  header, so the next UID is ``max(N, last UID + 1)`` (:attr:`Uidlist.next_uid_effective`).
- UIDs must rise strictly; a zero/missing UID, a UID of 2^32-1, a missing file name or one
  holding ``/`` make the whole file "broken": Dovecot deletes it and renumbers all mail.
- An extension token that does not start with A-Z is dropped (and the file rewritten).
- The same file name under a later UID wins; the earlier record is dropped.
- Expunged mail may linger in the file: records are dropped only when the file is
  rewritten and fewer than 75% of them still exist.

Writing: hold ``dovecot-uidlist.lock`` (see :mod:`.dotlock`), then either append complete
lines to the end of the file, or write ``dovecot-uidlist.tmp`` and ``rename()`` it over.
Both ``fdatasync`` unless ``mail_fsync = never``. Existing bytes are never modified in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..access import may_block
from . import dotlock
from .filename import base_name
from .frozen import build
from .fsync import FsyncMode, datasync

UIDLIST_NAME = "dovecot-uidlist"
UIDLIST_TEMP_NAME = "dovecot-uidlist.tmp"
VERSION = 3
MAX_UID = 0xFFFFFFFF - 1  # (uint32)-1 marks "no UID yet" inside Dovecot

HDR_UID_VALIDITY = "V"
HDR_NEXT_UID = "N"
HDR_GUID = "G"
HDR_POP3_UIDL_FORMAT = "P"

EXT_PSIZE = "S"
EXT_VSIZE = "W"
EXT_POP3_UIDL = "P"
EXT_POP3_ORDER = "O"
EXT_GUID = "G"

_GUID_RE = re.compile(r"[0-9a-fA-F]{32}\Z")
# Version 3 records as Dovecot writes them: "<uid> [<ext> ...]:<name>", one space apart, each
# extension a capital letter and a value without spaces or ':', the name without '/'.
_FAST_RECORD_RE = re.compile(r"^(\d+) ((?:[A-Z][^\s:]* )*):([^\n/]+)$", re.MULTILINE)


class UidlistError(ValueError):
    """The file cannot be used as Dovecot would use it."""


class UidlistCorruptError(UidlistError):
    """Dovecot would log "Broken file ... line N", delete the file and renumber all mail."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def is_valid_ext_key(key: str) -> bool:
    return len(key) == 1 and "A" <= key <= "Z"


@dataclass(frozen=True)
class UidlistRecord:
    """One ``<uid>[ <ext>...] :<file name>`` line."""

    uid: int
    filename: str
    """As stored: Dovecot writes the base name (up to the first ``:``)."""
    extensions: tuple[str, ...] = ()
    """Raw ``<key><value>`` tokens in file order, e.g. ``("S140", "W148")``."""

    @classmethod
    def for_file(cls, uid: int, filename: str, extensions: Iterable[str] = ()) -> UidlistRecord:
        """A record for a message file, storing its base name like Dovecot does."""
        return cls(uid=uid, filename=base_name(filename), extensions=tuple(extensions))

    @property
    def base(self) -> str:
        return self.filename.partition(":")[0]

    def ext(self, key: str) -> str | None:
        """The first value stored under ``key`` (Dovecot returns the first match)."""
        for token in self.extensions:
            if token[0] == key:
                return token[1:]
        return None

    def with_ext(self, key: str, value: str | None) -> UidlistRecord:
        """Set (or, with None, remove) an extension; a new value goes last, as in Dovecot."""
        if not is_valid_ext_key(key):
            raise UidlistError(f"invalid uidlist extension key {key!r}")
        if value is not None and (" " in value or "\n" in value or value == ""):
            raise UidlistError(f"invalid uidlist extension value {value!r}")
        kept = tuple(t for t in self.extensions if t[0] != key)
        if value is not None:
            kept += (key + value,)
        return replace(self, extensions=kept)

    @property
    def guid(self) -> str:
        """The message GUID Dovecot reports: the ``G`` extension, else the base name."""
        return self.ext(EXT_GUID) or self.base

    @property
    def vsize(self) -> int | None:
        return _int_or_none(self.ext(EXT_VSIZE))

    @property
    def psize(self) -> int | None:
        return _int_or_none(self.ext(EXT_PSIZE))


@dataclass(frozen=True)
class Uidlist:
    """A parsed ``dovecot-uidlist``."""

    uid_validity: int
    next_uid: int
    """The header's ``N``; see :attr:`next_uid_effective` for what Dovecot uses."""
    mailbox_guid: str | None = None
    """32 hex digits as written; None when the header has no ``G`` (Dovecot then adds one)."""
    records: tuple[UidlistRecord, ...] = ()
    header_extensions: tuple[str, ...] = ()
    """Other header ``<key><value>`` tokens (e.g. the ``P`` POP3 UIDL format), in order."""
    version: int = VERSION
    partial_tail: bytes = field(default=b"", compare=True)
    """A last line without ``\\n``: not (yet) a record for Dovecot; kept for round trips."""

    @property
    def next_uid_effective(self) -> int:
        """``max(N, last UID + 1)``: the UID Dovecot gives the next new message."""
        last = self.records[-1].uid if self.records else 0
        return max(self.next_uid, last + 1)

    def by_uid(self) -> dict[int, UidlistRecord]:
        return {r.uid: r for r in self.records}

    def by_base(self) -> dict[str, UidlistRecord]:
        return {r.base: r for r in self.records}

    def uid_of(self, filename: str) -> int | None:
        rec = self.by_base().get(base_name(filename))
        return rec.uid if rec else None

    def with_records(self, records: Sequence[UidlistRecord]) -> Uidlist:
        return replace(self, records=tuple(records))

    def to_bytes(self) -> bytes:
        return serialize_uidlist(self)


def new_uidlist(uid_validity: int, mailbox_guid: str, next_uid: int = 1) -> Uidlist:
    """An empty version 3 uidlist, as Dovecot creates for a new mailbox."""
    return Uidlist(uid_validity=uid_validity, next_uid=next_uid, mailbox_guid=mailbox_guid)


def parse_uidlist(data: bytes) -> Uidlist:
    """Parse a whole file. Raises :class:`UidlistCorruptError` where Dovecot gives up."""
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    partial = lines.pop()  # "" when the file ends with \n
    if not lines:
        raise UidlistCorruptError(1, "empty file")
    header = _strip_cr(lines[0])
    if len(header) < 2 or not "0" <= header[0] <= "9" or header[1] != " ":
        raise UidlistCorruptError(1, "Corrupted header (invalid version number)")
    version = int(header[0])
    rest = header[2:]
    guid: str | None = None
    extras: list[str] = []
    if version == 1:
        m = re.match(r"\s*(\d+)\s+(\d+)", rest)
        if m is None:
            raise UidlistCorruptError(1, "Corrupted header (version 1)")
        uid_validity, next_uid = int(m.group(1)), int(m.group(2))
    elif version == VERSION:
        uid_validity = next_uid = 0
        for key, value in _header_tokens(rest):
            if key == HDR_UID_VALIDITY:
                uid_validity = _strtoul(value)
            elif key == HDR_NEXT_UID:
                next_uid = _strtoul(value)
            elif key == HDR_GUID:
                if not _GUID_RE.match(value):
                    raise UidlistCorruptError(1, f"Invalid mailbox GUID: {value}")
                guid = value
            else:
                extras.append(key + value)
    else:
        raise UidlistCorruptError(1, f"Unsupported version {version}")
    if uid_validity == 0 or next_uid == 0:
        raise UidlistCorruptError(1, f"Broken header (uidvalidity = {uid_validity}, next_uid={next_uid})")

    fast = _fast_records(text, len(text) - len(partial), len(lines) - 1) if version == VERSION else None
    if fast is not None:
        return Uidlist(uid_validity=uid_validity, next_uid=next_uid, mailbox_guid=guid, records=fast,
                       header_extensions=tuple(extras), version=version,
                       partial_tail=partial.encode("utf-8", "surrogateescape"))
    records: list[UidlistRecord | None] = []
    index_by_name: dict[str, int] = {}
    prev_uid = 0
    for lineno, raw in enumerate(lines[1:], start=2):
        line = _strip_cr(raw)
        rec = _parse_record(line, lineno, version, prev_uid, next_uid)
        prev_uid = rec.uid
        key = rec.base
        if key in index_by_name:
            # The same file under a newer UID (an expunged file put back): the newer wins.
            records[index_by_name[key]] = None
        index_by_name[key] = len(records)
        records.append(rec)
    return Uidlist(
        uid_validity=uid_validity,
        next_uid=next_uid,
        mailbox_guid=guid,
        records=tuple(r for r in records if r is not None),
        header_extensions=tuple(extras),
        version=version,
        partial_tail=partial.encode("utf-8", "surrogateescape"),
    )


def serialize_header(uidlist: Uidlist) -> str:
    if uidlist.version == 1:
        return f"1 {uidlist.uid_validity} {uidlist.next_uid}\n"
    if uidlist.version != VERSION:
        raise UidlistError(f"cannot write uidlist version {uidlist.version}")
    if uidlist.mailbox_guid is None:
        raise UidlistError("a version 3 uidlist needs a mailbox GUID")
    parts = [
        str(VERSION),
        f"{HDR_UID_VALIDITY}{uidlist.uid_validity}",
        f"{HDR_NEXT_UID}{uidlist.next_uid}",
        f"{HDR_GUID}{uidlist.mailbox_guid}",
        *uidlist.header_extensions,
    ]
    return " ".join(parts) + "\n"


def serialize_record(record: UidlistRecord, version: int = VERSION) -> str:
    if version == 1:
        return f"{record.uid} {record.filename}\n"
    exts = "".join(f" {token}" for token in record.extensions)
    return f"{record.uid}{exts} :{record.filename}\n"


def serialize_records(records: Iterable[UidlistRecord], version: int = VERSION) -> bytes:
    return "".join(serialize_record(r, version) for r in records).encode("utf-8", "surrogateescape")


def serialize_uidlist(uidlist: Uidlist) -> bytes:
    """The file's bytes, in the form Dovecot writes."""
    head = serialize_header(uidlist).encode("utf-8", "surrogateescape")
    return head + serialize_records(uidlist.records, uidlist.version) + uidlist.partial_tail


def validate_for_write(uidlist: Uidlist) -> None:
    """Refuse anything real Dovecot would then reject as broken (and renumber)."""
    if not 0 < uidlist.uid_validity <= 0xFFFFFFFF:
        raise UidlistError(f"invalid UIDVALIDITY {uidlist.uid_validity}")
    if not 0 < uidlist.next_uid <= 0xFFFFFFFF:
        raise UidlistError(f"invalid next UID {uidlist.next_uid}")
    if uidlist.mailbox_guid is not None and not _GUID_RE.match(uidlist.mailbox_guid):
        raise UidlistError(f"invalid mailbox GUID {uidlist.mailbox_guid!r}")
    for token in uidlist.header_extensions:
        if not token or token[0] in " \n" or " " in token or "\n" in token:
            raise UidlistError(f"invalid header extension {token!r}")
    _validate_records(uidlist.records, 0, uidlist.version)


# --- file I/O (synchronous: run in a thread from async code) ---------------------------


def uidlist_path(control_dir: str) -> str:
    return os.path.join(control_dir, UIDLIST_NAME)


def read_uidlist(control_dir: str) -> Uidlist | None:
    """Read ``<control_dir>/dovecot-uidlist``; None when there is none. No lock needed."""
    try:
        with open(uidlist_path(control_dir), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return parse_uidlist(data)


# control_dir -> (the file's (inode, size, mtime), its parse). Appends change the size and
# rewrites the inode, so a matching key means the file is as parsed; holders of the lock then
# reuse the parse instead of reading the whole file again for every save. When only records
# were appended since (another process saved), just those bytes are read and parsed.
_parsed: dict[str, tuple[tuple[int, int, int], Uidlist]] = {}
# control_dir -> (the Uidlist in _parsed it belongs to, the base names of its records): the
# "same file twice" check of an appended record, made once per full parse, not per append.
_parsed_bases: dict[str, tuple[Uidlist, set[str]]] = {}


def _fd_key(fd: int) -> tuple[int, int, int]:
    st = os.fstat(fd)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_uidlist_cached(control_dir: str) -> Uidlist | None:
    """:func:`read_uidlist`, without reading or parsing when the file is unchanged since the
    last read or append of this process."""
    try:
        fd = os.open(uidlist_path(control_dir), os.O_RDONLY)
    except FileNotFoundError:
        _parsed.pop(control_dir, None)
        return None
    try:
        return _parse_fd_cached(control_dir, fd)
    finally:
        os.close(fd)


def _parse_fd_cached(control_dir: str, fd: int) -> Uidlist:
    key = _fd_key(fd)
    hit = _parsed.get(control_dir)
    if hit is not None and hit[0] == key:
        return hit[1]
    if hit is not None:
        grown = _parse_appended(control_dir, fd, hit, key)
        if grown is not None:
            return grown
    data = _read_fd(fd)
    parsed = parse_uidlist(data)
    if _fd_key(fd) == key == (key[0], len(data), key[2]):
        _parsed[control_dir] = (key, parsed)  # not grown while we read it
    return parsed


def _parse_appended(control_dir: str, fd: int, hit: tuple[tuple[int, int, int], Uidlist],
                    key: tuple[int, int, int]) -> Uidlist | None:
    """The cached parse plus the records appended after it, when that is all that changed (same
    inode, larger, complete well-formed lines with rising UIDs and new names); else None and
    the caller reads the whole file (which gives the same answer, slowly)."""
    (ino, size, _), cached = hit
    if key[0] != ino or key[1] <= size or cached.version != VERSION or cached.partial_tail:
        return None
    data = os.pread(fd, key[1] - size, size)
    if len(data) != key[1] - size or not data.endswith(b"\n") or b"\r" in data:
        return None
    text = "\n" + data.decode("utf-8", "surrogateescape")
    found = _FAST_RECORD_RE.findall(text, 1, len(text) - 1)
    if len(found) != data.count(b"\n"):
        return None
    uids = [int(uid) for uid, _, _ in found]
    last = cached.records[-1].uid if cached.records else 0
    if uids[-1] > MAX_UID or any(a >= b for a, b in zip([last, *uids], uids, strict=False)):
        return None
    known = _parsed_bases.get(control_dir)
    bases = known[1] if known is not None and known[0] is cached else {r.base for r in cached.records}
    new_bases = [name.partition(":")[0] for _, _, name in found]
    if len(set(new_bases)) != len(new_bases) or not bases.isdisjoint(new_bases):
        return None
    records = tuple(
        build(UidlistRecord, uid=uid, filename=name, extensions=tuple(exts.split()) if exts else ())
        for uid, (_, exts, name) in zip(uids, found, strict=True)
    )
    updated = replace(cached, records=cached.records + records)
    if _fd_key(fd) == key:  # not grown again while we read it
        bases.update(new_bases)
        _parsed[control_dir] = (key, updated)
        _parsed_bases[control_dir] = (updated, bases)
    return updated


def lock_uidlist(
    control_dir: str,
    *,
    mail_max_lock_timeout: int = 0,
    nonblock: bool = False,
    hostname: str | None = None,
    mode: int = 0o666,
) -> dotlock.DotLock:
    """Take ``dovecot-uidlist.lock`` with Dovecot's timeouts (122 s wait, 120 s stale)."""
    return dotlock.acquire(
        uidlist_path(control_dir),
        timeout=dotlock.lock_timeout(dotlock.UIDLIST_LOCK_STALE_TIMEOUT + 2, mail_max_lock_timeout),
        stale_timeout=dotlock.UIDLIST_LOCK_STALE_TIMEOUT,
        nonblock=nonblock,
        hostname=hostname,
        mode=mode,
        notify=True,  # as Dovecot's maildir-uidlist.c: wake when the holder lets go
    )


def rewrite_uidlist(
    control_dir: str,
    uidlist: Uidlist,
    lock: dotlock.DotLock,
    *,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
    mode: int = 0o600,
    gid: int | None = None,
    privileged_gid: int | None = None,
) -> None:
    """Replace the file whole: ``dovecot-uidlist.tmp`` written, synced, renamed over.

    ``mode``/``gid`` are the mailbox's file creation mode and group.
    """
    _require_lock(lock, control_dir)
    if fsync is not FsyncMode.NEVER:
        may_block()  # before the first write: an inline call starts again in a thread
    validate_for_write(uidlist)
    data = serialize_uidlist(replace(uidlist, partial_tail=b""))
    temp = os.path.join(control_dir, UIDLIST_TEMP_NAME)
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        if gid is not None:
            from .permissions import Permissions, chown_group

            chown_group(temp, fd, Permissions(gid=gid, gid_origin=control_dir, privileged_gid=privileged_gid))
        _write_all(fd, data)
        datasync(fd, fsync)
        if not lock.is_ours():
            raise UidlistError(f"our lock on {lock.path} was overridden; not replacing it")
        _parsed.pop(control_dir, None)
        os.rename(temp, uidlist_path(control_dir))
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    finally:
        os.close(fd)


def append_records(
    control_dir: str,
    records: Sequence[UidlistRecord],
    lock: dotlock.DotLock,
    *,
    fsync: FsyncMode = FsyncMode.OPTIMIZED,
) -> Uidlist:
    """Append complete record lines to the end (the header is left as it is, like Dovecot).

    The new UIDs must be above every UID already in the file. Returns the file as now read.
    """
    _require_lock(lock, control_dir)
    if fsync is not FsyncMode.NEVER:
        may_block()  # before the first write: an inline call starts again in a thread
    path = uidlist_path(control_dir)
    fd = os.open(path, os.O_RDWR)
    try:
        current = _parse_fd_cached(control_dir, fd)
        if current.partial_tail:
            raise UidlistError(f"{path} ends in an incomplete line; rewrite it instead of appending")
        return _append_to_fd(control_dir, fd, current, records, fsync)
    finally:
        os.close(fd)


def append_new_files(control_dir: str, filenames: Sequence[str], lock: dotlock.DotLock) -> dict[str, int] | None:
    """Give files just moved into the maildir the next UIDs, in order, by appending their
    records in one write (not flushed: the caller does that for all of them). This is the
    partial sync of Dovecot's save: no directory scan. None, with nothing written, when the
    uidlist needs a full sync's care (missing, broken, ending in an incomplete line, without
    a mailbox GUID).

    One open of the file for the check and the append: a delivery pays for every syscall."""
    _require_lock(lock, control_dir)
    try:
        fd = os.open(uidlist_path(control_dir), os.O_RDWR)
    except FileNotFoundError:
        _parsed.pop(control_dir, None)
        return None
    try:
        try:
            current = _parse_fd_cached(control_dir, fd)
        except UidlistCorruptError:
            return None  # Dovecot deletes a broken uidlist and numbers all mail afresh
        if current.partial_tail or (current.mailbox_guid is None and current.version != 1):
            return None
        first = current.next_uid_effective
        records = [UidlistRecord.for_file(first + i, name) for i, name in enumerate(filenames)]
        _append_to_fd(control_dir, fd, current, records, FsyncMode.NEVER)
    finally:
        os.close(fd)
    return {name: record.uid for name, record in zip(filenames, records, strict=True)}


def _append_to_fd(control_dir: str, fd: int, current: Uidlist, records: Sequence[UidlistRecord],
                  fsync: FsyncMode) -> Uidlist:
    last = current.records[-1].uid if current.records else 0
    _validate_records(records, last, current.version)
    os.lseek(fd, 0, os.SEEK_END)
    _parsed.pop(control_dir, None)
    _write_all(fd, serialize_records(records, current.version))
    datasync(fd, fsync)
    updated = replace(current, records=current.records + tuple(records))
    _parsed[control_dir] = (_fd_key(fd), updated)  # we hold the lock: nobody else appended
    known = _parsed_bases.get(control_dir)
    if known is not None and known[0] is current:
        known[1].update(r.base for r in records)
        _parsed_bases[control_dir] = (updated, known[1])
    return updated


# --- helpers ------------------------------------------------------------------------------


def _fast_records(text: str, end: int, line_count: int) -> tuple[UidlistRecord, ...] | None:
    """The records of a well-formed file in one regex pass (a full sync of 100,000 messages
    reads them all); None when any line needs :func:`_parse_record`'s care (odd spacing,
    CRs, bad or unordered UIDs, a name twice), which then gives the same answer slowly."""
    body_start = text.find("\n") + 1
    if "\r" in text:
        return None
    found = _FAST_RECORD_RE.findall(text, body_start, end)
    if len(found) != line_count:
        return None
    uids = [int(uid) for uid, _, _ in found]
    if uids and (uids[0] == 0 or uids[-1] > MAX_UID or any(a >= b for a, b in zip(uids, uids[1:], strict=False))):
        return None
    records = tuple(
        build(UidlistRecord, uid=uid, filename=name, extensions=tuple(exts.split()) if exts else ())
        for uid, (_, exts, name) in zip(uids, found, strict=True)
    )
    if len({name.partition(":")[0] for _, _, name in found}) != len(found):
        return None
    return records


def _header_tokens(rest: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(rest):
        key = rest[i]
        i += 1
        end = rest.find(" ", i)
        if end < 0:
            end = len(rest)
        tokens.append((key, rest[i:end]))
        i = end
        while i < len(rest) and rest[i] == " ":
            i += 1
    return tokens


def _parse_record(line: str, lineno: int, version: int, prev_uid: int, hdr_next_uid: int) -> UidlistRecord:
    i = 0
    while i < len(line) and "0" <= line[i] <= "9":
        i += 1
    uid = int(line[:i]) if i else 0
    if uid == 0 or i >= len(line) or line[i] != " ":
        raise UidlistCorruptError(lineno, f"Invalid data: {line[i:]}")
    if uid <= prev_uid:
        raise UidlistCorruptError(lineno, f"UIDs not ordered ({uid} >= {prev_uid})")
    if uid > MAX_UID:
        raise UidlistCorruptError(lineno, f"UID too high ({uid})")
    if version == 1 and uid >= hdr_next_uid:
        raise UidlistCorruptError(lineno, f"UID larger than next_uid ({uid} >= {hdr_next_uid})")
    while i < len(line) and line[i] == " ":
        i += 1
    extensions: list[str] = []
    if version == VERSION:
        while i < len(line) and line[i] != ":":
            end = line.find(" ", i)
            if end < 0:
                end = len(line)
            token = line[i:end]
            if is_valid_ext_key(token[0]):
                extensions.append(token)
            # else: Dovecot drops the token ("Invalid extension record, removing")
            i = end
            while i < len(line) and line[i] == " ":
                i += 1
        if i < len(line) and line[i] == ":":
            i += 1
        if i >= len(line):
            raise UidlistCorruptError(lineno, f"Invalid extended fields: {line[i:]}")
    filename = line[i:]
    if not filename:
        raise UidlistCorruptError(lineno, "Invalid extended fields: ")
    if "/" in filename:
        raise UidlistCorruptError(lineno, f"Broken filename at line {lineno}: {filename}")
    return UidlistRecord(uid=uid, filename=filename, extensions=tuple(extensions))


def _validate_records(records: Iterable[UidlistRecord], after_uid: int, version: int) -> None:
    prev = after_uid
    for rec in records:
        if not prev < rec.uid <= MAX_UID:
            raise UidlistError(f"UID {rec.uid} must be above {prev} and at most {MAX_UID}")
        name = rec.filename
        if not name or "/" in name or "\n" in name or "\r" in name:
            raise UidlistError(f"invalid file name in uidlist record: {name!r}")
        if version == VERSION:
            for token in rec.extensions:
                if not is_valid_ext_key(token[:1]) or " " in token or "\n" in token:
                    raise UidlistError(f"invalid extension token {token!r}")
        elif rec.extensions:
            raise UidlistError("version 1 uidlists have no extension fields")
        prev = rec.uid


def _strtoul(value: str) -> int:
    m = re.match(r"\s*\+?(\d+)", value)
    return min(int(m.group(1)), 0xFFFFFFFF) if m else 0


def _strip_cr(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _require_lock(lock: dotlock.DotLock, control_dir: str) -> None:
    if os.path.abspath(lock.path) != os.path.abspath(uidlist_path(control_dir)):
        raise UidlistError(f"{lock.path} is not the uidlist lock of {control_dir}")
    if not lock.is_ours():
        raise UidlistError(f"we no longer hold {lock.lock_path}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_fd(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)
