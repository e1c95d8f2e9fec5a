"""Maildir message file names as Dovecot 2.3 makes and reads them.

A name is ``<base>[:<info>]``. The *base* runs up to the first ``:`` and is the message's
identity: ``dovecot-uidlist`` stores it, and without a ``G`` extension it is the message
GUID. Dovecot's own bases look like ``<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>``;
any other base (Courier's ``<secs>.<pid>_<n>.<host>``, qmail's ``<secs>.<pid>.<host>``...)
is accepted as it is.

The flags live in the part after the *last* ``:`` when it starts with ``2,``: Dovecot's
letters ``D F R S T`` (Draft, Flagged, Replied=\\Answered, Seen, Trashed=\\Deleted), and
``a``-``z`` for keywords 0-25 of ``dovecot-keywords``. Other letters (``P`` passed, ...)
mean nothing to Dovecot but are kept in place when it rewrites the flags, and anything
after a further ``,`` is kept untouched.

Dovecot 2.3.19 does *not* escape its host name: it refuses to start on a host name with
``/`` and writes ``:`` raw (which then cuts the base short at that ``:``). We escape both
the way qmail and Courier do (``\\057``, ``\\072``) when generating: Dovecot reads such
names as plain characters, and the file keeps its ``,S=``/``,W=`` fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

INFO_SEP = ":"
FLAGS_INFO_PREFIX = "2,"
FIELD_SEP = ","
KEYWORD_FIRST = "a"
KEYWORD_LAST = "z"
MAX_KEYWORDS = 26

# Dovecot's flag letters and the IMAP system flags they stand for.
LETTER_TO_SYSTEM_FLAG: dict[str, str] = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}
SYSTEM_FLAG_TO_LETTER: dict[str, str] = {flag: letter for letter, flag in LETTER_TO_SYSTEM_FLAG.items()}

_HOST_ESCAPES = {"/": "\\057", ":": "\\072"}


class FilenameError(ValueError):
    """A name that cannot be a maildir message file (empty, or holds ``/``)."""


@dataclass(frozen=True)
class InfoFlags:
    """What Dovecot reads from the ``:2,`` part of a name."""

    system_flags: frozenset[str]
    """IMAP system flags, e.g. ``{"\\\\Seen", "\\\\Flagged"}``."""
    keyword_indexes: tuple[int, ...]
    """Keyword indexes 0-25 (letters a-z), in the order they appear."""
    unknown_letters: str = ""
    """Flag letters Dovecot does not know (``P``, digits, ...), kept in place on rewrites."""
    extra: str = ""
    """Text after a second ``,`` in the info (``,<non-standard fields>``), kept verbatim."""


NO_FLAGS = InfoFlags(frozenset(), ())


@dataclass(frozen=True)
class UniqueName:
    """The ``<secs>.<uniqueness>.<host>`` start of a base, up to its first ``,``."""

    secs: int | None
    """Leading decimal digits (the delivery time); None when the name has none."""
    uniqueness: str
    """Between the first and the second dot, e.g. ``M359982P12263`` or ``12345_1``."""
    host: str
    """After the second dot, as written (escapes such as ``\\057`` left in place)."""

    @property
    def usecs(self) -> int | None:
        """Microseconds after the first ``M`` of the uniqueness part (how Dovecot orders
        same-second deliveries)."""
        return _usecs_of(self.uniqueness)

    @property
    def pid(self) -> int | None:
        """Digits after the first ``P`` of the uniqueness part, if any."""
        pos = self.uniqueness.find("P")
        if pos < 0:
            return None
        digits = _leading_digits(self.uniqueness[pos + 1 :])
        return int(digits) if digits else None


@dataclass(frozen=True)
class MaildirFilename:
    """A parsed message file name; ``str()`` gives back the exact name."""

    base: str
    """Everything before the first ``:`` (``dovecot-uidlist`` key, default GUID)."""
    info: str | None
    """Everything after the first ``:``; None when the name has no ``:``."""

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.base if self.info is None else f"{self.base}{INFO_SEP}{self.info}"

    @property
    def unique(self) -> UniqueName:
        return parse_unique(self.base.split(FIELD_SEP, 1)[0])

    @property
    def fields(self) -> tuple[str, ...]:
        """The ``,``-separated fields after the unique part of the base (``S=140``, ``W=148``,
        any other ``X=...``), in file order."""
        parts = self.base.split(FIELD_SEP)
        return tuple(parts[1:])

    @property
    def size(self) -> int | None:
        """The ``,S=`` physical size, as Dovecot finds it (see :func:`size_field`)."""
        return size_field(self.name, "S")

    @property
    def vsize(self) -> int | None:
        """The ``,W=`` virtual (CRLF) size, as Dovecot finds it."""
        return size_field(self.name, "W")

    @property
    def flags(self) -> InfoFlags:
        return parse_info_flags(self.name)


def parse_filename(name: str) -> MaildirFilename:
    """Split a message file name into base and info."""
    if not name or "/" in name:
        raise FilenameError(f"not a maildir message file name: {name!r}")
    base, sep, info = name.partition(INFO_SEP)
    return MaildirFilename(base=base, info=info if sep else None)


def base_name(name: str) -> str:
    """The base: up to the first ``:``. Dovecot compares and hashes names by this."""
    return name.partition(INFO_SEP)[0]


def parse_unique(text: str) -> UniqueName:
    digits = _leading_digits(text)
    secs = int(digits) if digits else None
    parts = text.split(".", 2)
    uniqueness = parts[1] if len(parts) > 1 else ""
    host = parts[2] if len(parts) > 2 else ""
    return UniqueName(secs=secs, uniqueness=uniqueness, host=host)


def size_field(name: str, key: str) -> int | None:
    """Find ``,<key>=<digits>`` the way Dovecot does.

    Dovecot scans the *whole* name for the first ``,<key>=``; the digits must then end at
    ``:``, ``,`` or the end of the name. If they don't, it gives up (it does not look for a
    later match) and falls back to ``stat()``/reading the file. An empty number counts as 0.
    """
    pos = name.find(f"{FIELD_SEP}{key}=")
    if pos < 0:
        return None
    rest = name[pos + 3 :]
    digits = _leading_digits(rest)
    after = rest[len(digits) :]
    if after and after[0] not in (INFO_SEP, FIELD_SEP):
        return None
    return int(digits) if digits else 0


def physical_size_from_name(name: str, *, broken_filename_sizes: bool = False) -> int | None:
    """``,S=`` unless ``maildir_broken_filename_sizes = yes`` tells Dovecot to distrust it
    (the ``,W=`` virtual size is still used in that case)."""
    if broken_filename_sizes:
        return None
    return size_field(name, "S")


def add_size_fields(base: str, size: int | None, vsize: int | None) -> str:
    """Append ``,S=<size>,W=<vsize>`` to a base, in the order Dovecot writes them."""
    if size is not None:
        base += f"{FIELD_SEP}S={size}"
    if vsize is not None:
        base += f"{FIELD_SEP}W={vsize}"
    return base


def escape_hostname(host: str) -> str:
    """``/`` -> ``\\057`` and ``:`` -> ``\\072`` so the host cannot break a file name."""
    return "".join(_HOST_ESCAPES.get(ch, ch) for ch in host)


def unescape_hostname(host: str) -> str:
    for raw, escaped in _HOST_ESCAPES.items():
        host = host.replace(escaped, raw)
    return host


def generate_base(secs: int, usecs: int, pid: int, host: str) -> str:
    """A new base in Dovecot's form ``<secs>.M<usecs>P<pid>.<host>`` (host escaped)."""
    if not 0 <= usecs < 1_000_000:
        raise ValueError(f"usecs out of range: {usecs}")
    return f"{secs}.M{usecs}P{pid}.{escape_hostname(host)}"


def keyword_letter(index: int) -> str:
    if not 0 <= index < MAX_KEYWORDS:
        raise ValueError(f"keyword index out of range 0-25: {index}")
    return chr(ord(KEYWORD_FIRST) + index)


def keyword_index(letter: str) -> int:
    if len(letter) != 1 or not KEYWORD_FIRST <= letter <= KEYWORD_LAST:
        raise ValueError(f"not a keyword letter: {letter!r}")
    return ord(letter) - ord(KEYWORD_FIRST)


def parse_info_flags(name: str) -> InfoFlags:
    """Flags from the part after the last ``:``, if it starts with ``2,`` (else none)."""
    pos = name.rfind(INFO_SEP)
    if pos < 0 or not name.startswith(FLAGS_INFO_PREFIX, pos + 1):
        return NO_FLAGS
    return parse_flags_info(name[pos + 3 :])


@functools.lru_cache(maxsize=4096)
def parse_flags_info(letters_and_extra: str) -> InfoFlags:
    """:func:`parse_info_flags` of the text after ``:2,``.

    Cached: a mailbox has few distinct flag combinations, and a full sync of 100,000
    messages would otherwise parse the same few strings over and over.
    """
    letters, comma, extra = letters_and_extra.partition(FIELD_SEP)
    system: set[str] = set()
    keywords: list[int] = []
    unknown: list[str] = []
    for ch in letters:
        if ch in LETTER_TO_SYSTEM_FLAG:
            system.add(LETTER_TO_SYSTEM_FLAG[ch])
        elif KEYWORD_FIRST <= ch <= KEYWORD_LAST:
            keywords.append(keyword_index(ch))
        else:
            unknown.append(ch)
    return InfoFlags(
        system_flags=frozenset(system),
        keyword_indexes=tuple(keywords),
        unknown_letters="".join(unknown),
        extra=f"{comma}{extra}" if comma else "",
    )


def set_flags(name: str, system_flags: Iterable[str], keyword_indexes: Iterable[int] | None = None) -> str:
    """The name with its flags replaced, merged exactly as Dovecot merges them.

    Letters Dovecot does not know stay where they were; the known ones are inserted
    so the letters stay in ASCII order (``D F R S T`` then ``a``-``z``); a further
    ``,...`` part is kept. The info part is cut at the last ``:`` (so ``:2,`` info is
    replaced, and non-``2,`` info is dropped, as Dovecot does). ``keyword_indexes=None``
    drops all keyword letters; pass the current ones to keep them.
    """
    letters_left = sorted({SYSTEM_FLAG_TO_LETTER[_system_flag(f)] for f in system_flags})
    kw_letters = sorted({keyword_letter(i) for i in keyword_indexes}) if keyword_indexes is not None else []
    pos = name.rfind(INFO_SEP)
    if pos >= 0:
        head = name[:pos]
        old = name[pos + 3 :] if name.startswith(FLAGS_INFO_PREFIX, pos + 1) else ""
    else:
        head, old = name, ""
    out = [head, INFO_SEP, FLAGS_INFO_PREFIX]
    i = 0
    keywords_done = False
    while True:
        while i < len(old) and (old[i] in LETTER_TO_SYSTEM_FLAG or KEYWORD_FIRST <= old[i] <= KEYWORD_LAST):
            i += 1  # known letters are re-created from the arguments
        at_end = i >= len(old) or old[i] == FIELD_SEP
        next_code = 256 if at_end else ord(old[i])
        while letters_left and next_code > ord(letters_left[0]):
            out.append(letters_left.pop(0))
        if not keywords_done and next_code > ord(KEYWORD_FIRST):
            out.extend(kw_letters)
            keywords_done = True
        if at_end:
            break
        out.append(old[i])
        i += 1
    out.append(old[i:])  # ",<extra>" or ""
    return "".join(out)


def compare_for_uid_order(name1: str, name2: str) -> int:
    """Dovecot's order for giving UIDs to new files: by the leading seconds, then by the
    ``M`` microseconds when both names have them, then by base name."""
    d1, d2 = _leading_digits(name1), _leading_digits(name2)
    secs1, secs2 = int(d1 or 0), int(d2 or 0)
    if secs1 != secs2:
        return -1 if secs1 < secs2 else 1
    rest1, rest2 = name1[len(d1) :], name2[len(d2) :]
    if rest1.startswith(".") and rest2.startswith("."):
        u1, u2 = _usecs_after_dot(rest1), _usecs_after_dot(rest2)
        if u1 is not None and u2 is not None and u1 != u2:
            return -1 if u1 < u2 else 1
    return _base_cmp(rest1, rest2)


uid_order_key = functools.cmp_to_key(compare_for_uid_order)

_ORDER_RE = re.compile(r"([0-9]*)(?:\.[^.:M]*M([0-9]*))?")


def sorted_for_uid_order(names: Iterable[str]) -> list[str]:
    """``sorted(names, key=uid_order_key)``, fast for the usual case.

    The pairwise order compares microseconds only when *both* names have them, so it has a
    plain sort key only when all names have them or none do; then (seconds, microseconds,
    the base up to its ``:`` with the ``:`` kept, as that character still takes part in the
    comparison) orders them the same. Mixed batches take the pairwise comparison, and so do
    two names that compare equal (one base ends where the other's ``:`` starts).
    """
    names = list(names)
    keys = []
    ties = set()
    with_usecs = 0
    for name in names:
        m = _ORDER_RE.match(name)
        assert m is not None  # every part of the pattern is optional
        digits, usecs = m.group(1), m.group(2)
        rest = name[len(digits):]
        cut = rest.find(INFO_SEP)
        base_key = rest if cut < 0 else rest[: cut + 1]
        if usecs is not None:
            with_usecs += 1
        key = (int(digits or 0), int(usecs or 0) if usecs is not None else 0, base_key)
        keys.append(key)
        ties.add(key[:2] + (base_key.rstrip(INFO_SEP),))
    if 0 < with_usecs < len(names) or len(ties) != len(names):
        return sorted(names, key=uid_order_key)
    order = sorted(range(len(names)), key=keys.__getitem__)
    return [names[i] for i in order]


def _base_cmp(a: str, b: str) -> int:
    # Character by character up to ':' or the end, like Dovecot (so "x:" sorts after "x.").
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i] and a[i] != INFO_SEP:
        i += 1
    ca = a[i] if i < len(a) else "\0"
    cb = b[i] if i < len(b) else "\0"
    if ca in ("\0", INFO_SEP) and cb in ("\0", INFO_SEP):
        return 0
    return (ca > cb) - (ca < cb)


def _system_flag(flag: str) -> str:
    for known in SYSTEM_FLAG_TO_LETTER:
        if known.lower() == flag.lower():
            return known
    raise ValueError(f"not a system flag Maildir can store: {flag!r}")


def _leading_digits(text: str) -> str:
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return text[:end]


def _usecs_of(uniqueness: str) -> int | None:
    return _usecs_after_dot("." + uniqueness)


def _usecs_after_dot(text: str) -> int | None:
    # Dovecot looks for an 'M' inside the uniqueness part only: up to the next '.' or ':'.
    i = 1
    while i < len(text) and text[i] not in ".:":
        if text[i] == "M":
            return int(_leading_digits(text[i + 1 :]) or 0)
        i += 1
    return None
