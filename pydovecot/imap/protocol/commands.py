"""Immutable, typed IMAP commands, grouped by the state in which they are valid.

The parser produces these; the server layer executes them. Mailbox names are already decoded from
modified UTF-7; strings that carry user data (passwords, message bodies) stay bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

# ---------------------------------------------------------------- shared value types


class Star(Enum):
    """`*` in a sequence set: the largest number in use."""

    STAR = "*"


STAR = Star.STAR
SeqNumber = int | Star


@dataclass(frozen=True)
class SequenceSet:
    """`1:3,5,7:*`; `saved_result` is SEARCHRES `$` (RFC 5182), then `ranges` is empty."""

    ranges: tuple[tuple[SeqNumber, SeqNumber], ...] = ()
    saved_result: bool = False


@dataclass(frozen=True)
class Section:
    """BODY[part.TEXT] etc: `part` numbers, then an optional text specifier and its header list."""

    part: tuple[int, ...] = ()
    text: str | None = None  # HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchAttribute:
    """One FETCH item: FLAGS, UID, BODY.PEEK[1.MIME]<0.100>, BINARY.SIZE[2], MODSEQ, ..."""

    name: str  # upper case, without .PEEK: BODY, BINARY, BINARY.SIZE, RFC822.HEADER, ...
    section: Section | None = None
    partial: tuple[int, int] | None = None  # (start, length)
    peek: bool = False


@dataclass(frozen=True)
class Flag:
    """A system flag (`\\Seen`) or keyword (`$Junk`); system flags are canonically capitalised."""

    name: str

    @property
    def is_system(self) -> bool:
        return self.name.startswith("\\")


class StoreAction(Enum):
    REPLACE = "FLAGS"
    ADD = "+FLAGS"
    REMOVE = "-FLAGS"


# ---------------------------------------------------------------- SEARCH keys


@dataclass(frozen=True)
class SearchKey:
    """A leaf key: `name` upper case; `value` its argument(s), already typed."""

    name: str
    value: str | int | date | SequenceSet | tuple[str, str] | tuple[str, ...] | None = None


@dataclass(frozen=True)
class SearchAnd:
    keys: tuple[SearchCriterion, ...]


@dataclass(frozen=True)
class SearchOr:
    left: SearchCriterion
    right: SearchCriterion


@dataclass(frozen=True)
class SearchNot:
    key: SearchCriterion


SearchCriterion = SearchKey | SearchAnd | SearchOr | SearchNot


# ---------------------------------------------------------------- any state


@dataclass(frozen=True)
class Capability:
    tag: bytes


@dataclass(frozen=True)
class Noop:
    tag: bytes


@dataclass(frozen=True)
class Logout:
    tag: bytes


@dataclass(frozen=True)
class Id:
    """RFC 2971; `fields` is None for `ID NIL`."""

    tag: bytes
    fields: tuple[tuple[str, str | None], ...] | None


# ---------------------------------------------------------------- not authenticated


@dataclass(frozen=True)
class Login:
    tag: bytes
    username: bytes
    password: bytes = field(repr=False)


@dataclass(frozen=True)
class Authenticate:
    """`initial_response` is the SASL-IR argument still base64-encoded (`=` means empty)."""

    tag: bytes
    mechanism: str
    initial_response: bytes | None = None


@dataclass(frozen=True)
class StartTls:
    tag: bytes


# ---------------------------------------------------------------- authenticated


@dataclass(frozen=True)
class QresyncParams:
    uidvalidity: int
    modseq: int
    known_uids: SequenceSet | None = None
    seq_match: tuple[SequenceSet, SequenceSet] | None = None


@dataclass(frozen=True)
class Select:
    """SELECT, or EXAMINE when `read_only`."""

    tag: bytes
    mailbox: str
    read_only: bool = False
    condstore: bool = False
    qresync: QresyncParams | None = None


@dataclass(frozen=True)
class Create:
    tag: bytes
    mailbox: str
    special_use: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delete:
    tag: bytes
    mailbox: str


@dataclass(frozen=True)
class Rename:
    tag: bytes
    old: str
    new: str


@dataclass(frozen=True)
class Subscribe:
    tag: bytes
    mailbox: str
    unsubscribe: bool = False


@dataclass(frozen=True)
class ListMailboxes:
    """LIST (with LIST-EXTENDED selection/return options), or LSUB when `lsub`."""

    tag: bytes
    reference: str
    patterns: tuple[str, ...]
    selection: tuple[str, ...] = ()
    return_options: tuple[str, ...] = ()
    return_status: tuple[str, ...] = ()
    lsub: bool = False
    extended: bool = False
    """LIST-EXTENDED syntax: a selection list, a pattern list or RETURN, even an empty one."""


@dataclass(frozen=True)
class Namespace:
    tag: bytes


@dataclass(frozen=True)
class Status:
    tag: bytes
    mailbox: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class CatenateUrl:
    url: bytes


@dataclass(frozen=True)
class AppendMessage:
    """One message of a (MULTI)APPEND; `parts` has one bytes item unless CATENATE was used."""

    flags: tuple[Flag, ...]
    internal_date: datetime | None
    parts: tuple[bytes | CatenateUrl, ...]
    catenate: bool = False
    binary: bool = False


@dataclass(frozen=True)
class Append:
    tag: bytes
    mailbox: str
    messages: tuple[AppendMessage, ...]


@dataclass(frozen=True)
class Enable:
    tag: bytes
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class Idle:
    tag: bytes


# ---------------------------------------------------------------- selected


@dataclass(frozen=True)
class Check:
    tag: bytes


@dataclass(frozen=True)
class Close:
    tag: bytes


@dataclass(frozen=True)
class Unselect:
    tag: bytes


@dataclass(frozen=True)
class Expunge:
    """EXPUNGE, or UID EXPUNGE (UIDPLUS) when `uids` is given."""

    tag: bytes
    uids: SequenceSet | None = None


@dataclass(frozen=True)
class Search:
    tag: bytes
    criteria: SearchAnd
    uid: bool = False
    charset: str | None = None
    return_options: tuple[str, ...] | None = None  # ESEARCH; None when RETURN was not given


@dataclass(frozen=True)
class Sort:
    """SORT (RFC 5256), with ESORT's RETURN options (RFC 5267) when given."""

    tag: bytes
    program: tuple[str, ...]  # upper case, REVERSE kept as a word
    charset: str
    criteria: SearchAnd
    uid: bool = False
    return_options: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Thread:
    tag: bytes
    algorithm: str  # upper case: REFERENCES, REFS, ORDEREDSUBJECT
    charset: str
    criteria: SearchAnd
    uid: bool = False


@dataclass(frozen=True)
class Fetch:
    tag: bytes
    sequence_set: SequenceSet
    attributes: tuple[FetchAttribute, ...]
    uid: bool = False
    changed_since: int | None = None
    vanished: bool = False


@dataclass(frozen=True)
class Store:
    tag: bytes
    sequence_set: SequenceSet
    action: StoreAction
    flags: tuple[Flag, ...]
    silent: bool = False
    uid: bool = False
    unchanged_since: int | None = None


@dataclass(frozen=True)
class Copy:
    """COPY, or MOVE (RFC 6851) when `move`."""

    tag: bytes
    sequence_set: SequenceSet
    mailbox: str
    uid: bool = False
    move: bool = False


@dataclass(frozen=True)
class Extension:
    """A command a plugin implements (GETQUOTA...): its handler reads `arguments` itself, so a
    session without the plugin answers "Unknown command" whatever the arguments are."""

    tag: bytes
    name: str
    arguments: bytes


AnyStateCommand = Capability | Noop | Logout | Id
NotAuthenticatedCommand = Login | Authenticate | StartTls
AuthenticatedCommand = (
    Select
    | Create
    | Delete
    | Rename
    | Subscribe
    | ListMailboxes
    | Namespace
    | Status
    | Append
    | Enable
    | Idle
    | Extension
)
SelectedCommand = Check | Close | Unselect | Expunge | Search | Sort | Thread | Fetch | Store | Copy
Command = AnyStateCommand | NotAuthenticatedCommand | AuthenticatedCommand | SelectedCommand
