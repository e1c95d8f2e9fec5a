"""Evaluate a parsed SEARCH program (pydovecot.imap.protocol.commands) against messages.

Matching follows Dovecot 2.3: strings compare by substring under i;unicode-casemap; FROM/TO/CC/BCC
match the normalized address list (message_address_write form, encoded words decoded); SUBJECT
compresses runs of white space in the header first; HEADER matches the unfolded, decoded value
of every field of that name (an empty string matches when the field exists); BODY searches the
decoded text parts, TEXT the header lines and those parts. Dates: BEFORE/ON/SINCE use
INTERNALDATE in the server's time zone, SENT* the Date header in its own zone (a missing or
invalid Date counts as 1-Jan-1970), SAVED* the save date like INTERNALDATE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from pydovecot.imap.protocol.commands import (
    STAR,
    SearchAnd,
    SearchCriterion,
    SearchKey,
    SearchNot,
    SearchOr,
    SequenceSet,
)
from pydovecot.storage.casemap import casemap
from pydovecot.storage.search.addresses import parse_addresses, write_addresses
from pydovecot.storage.search.context import SearchContext, check_charset
from pydovecot.storage.search.dates import DAY, day_start, parse_date_header
from pydovecot.storage.search.message import SearchableMessage
from pydovecot.storage.search.message_text import MessageText, casemap_header_value

__all__ = ["in_sequence_set", "matches", "search", "uses_modseq"]

_ADDRESS_KEYS = {"FROM", "TO", "CC", "BCC"}
_FLAG_KEYS = {
    "ANSWERED": ("\\Answered", True),
    "DELETED": ("\\Deleted", True),
    "DRAFT": ("\\Draft", True),
    "FLAGGED": ("\\Flagged", True),
    "SEEN": ("\\Seen", True),
    "RECENT": ("\\Recent", True),
    "UNANSWERED": ("\\Answered", False),
    "UNDELETED": ("\\Deleted", False),
    "UNDRAFT": ("\\Draft", False),
    "UNFLAGGED": ("\\Flagged", False),
    "UNSEEN": ("\\Seen", False),
    "OLD": ("\\Recent", False),
}
_LWSP_RUN = re.compile(r"[ \t]+")


class _Cached:
    """A message plus its parsed text, built on first use and kept for the whole search."""

    def __init__(self, msg: SearchableMessage) -> None:
        self.msg = msg
        self._text: MessageText | None = None

    @property
    def text(self) -> MessageText:
        if self._text is None:
            self._text = MessageText(self.msg.raw())
        return self._text


def in_sequence_set(number: int, sset: SequenceSet, star: int, uid: bool = False) -> bool:
    """number within a non-`$` sequence set where `*` means star.

    Dovecot orders a sequence-number range with `*` as the largest number and only then
    replaces it, so `*:100` and `100:*` are empty in a smaller mailbox; a UID range is ordered
    after replacing `*`, so `UID 200:*` always holds the last message (RFC 3501)."""
    for low, high in sset.ranges:
        if uid:
            lo = star if low is STAR else low
            hi = star if high is STAR else high
            lo, hi = min(lo, hi), max(lo, hi)
        else:
            big = 1 << 32
            lo, hi = sorted(big if b is STAR else b for b in (low, high))
            lo, hi = (star if lo == big else lo), (star if hi == big else hi)
        if lo <= number <= hi:
            return True
    return False


def matches(criteria: SearchCriterion, msg: SearchableMessage, ctx: SearchContext) -> bool:
    """Whether one message matches the search program."""
    return _eval(criteria, _Cached(msg), ctx)


def search(
    criteria: SearchCriterion, messages: Iterable[SearchableMessage], ctx: SearchContext, uid: bool = False
) -> list[int]:
    """Sequence numbers (or UIDs) of the matching messages, in mailbox order.
    Raises BadCharsetError before looking at any message when ctx.charset is unknown."""
    check_charset(ctx.charset)
    return [m.uid if uid else m.seq for m in messages if _eval(criteria, _Cached(m), ctx)]


def _eval(node: SearchCriterion, m: _Cached, ctx: SearchContext) -> bool:
    if isinstance(node, SearchAnd):
        return all(_eval(k, m, ctx) for k in node.keys)
    if isinstance(node, SearchOr):
        return _eval(node.left, m, ctx) or _eval(node.right, m, ctx)
    if isinstance(node, SearchNot):
        return not _eval(node.key, m, ctx)
    return _key(node, m, ctx)


def _key(key: SearchKey, m: _Cached, ctx: SearchContext) -> bool:
    name, value, msg = key.name, key.value, m.msg
    if name == "ALL":
        return True
    if name in _FLAG_KEYS:
        flag, wanted = _FLAG_KEYS[name]
        return (flag in msg.flags) == wanted
    if name == "NEW":
        return "\\Recent" in msg.flags and "\\Seen" not in msg.flags
    if name in ("KEYWORD", "UNKEYWORD"):
        assert isinstance(value, str)
        has = value.lower() in {k.lower() for k in msg.keywords}
        return has == (name == "KEYWORD")
    if name in ("SEQUENCE", "UID"):
        assert isinstance(value, SequenceSet)
        if value.saved_result:
            return ctx.saved_uids is not None and msg.uid in ctx.saved_uids
        if name == "UID":
            return in_sequence_set(msg.uid, value, ctx.max_uid, uid=True)
        return in_sequence_set(msg.seq, value, ctx.messages_count)
    if name in ("LARGER", "SMALLER"):
        assert isinstance(value, int)
        return msg.size > value if name == "LARGER" else msg.size < value
    if name == "MODSEQ":
        assert isinstance(value, int)
        return msg.modseq >= value
    if name in ("OLDER", "YOUNGER"):
        assert isinstance(value, int)
        limit = ctx.now - value
        return msg.internaldate <= limit if name == "OLDER" else msg.internaldate >= limit
    if name == "SAVEDATESUPPORTED":
        return msg.savedate is not None
    if isinstance(value, date):
        return _date_key(name, value, m, ctx)
    if name == "X-MAILBOX":
        assert isinstance(value, str)
        return casemap(value) in casemap(ctx.mailbox_name)
    if name == "X-GUID":
        return str(getattr(msg, "guid", "")) == value
    return _string_key(name, value, m)


def _date_key(name: str, day: date, m: _Cached, ctx: SearchContext) -> bool:
    msg = m.msg
    if name.startswith("SENT"):
        parsed = parse_date_header(m.text.first("Date"))
        utc, zone = parsed if parsed is not None else (0, 0)
        when = utc + zone * 60
        kind = name[4:]
    elif name.startswith("SAVED"):
        if msg.savedate is None:
            return False
        when = msg.savedate + ctx.tz_offset(msg.savedate)
        kind = name[5:]
    else:
        when = msg.internaldate + ctx.tz_offset(msg.internaldate)
        kind = name
    start = day_start(day)
    if kind == "BEFORE":
        return when < start
    if kind == "ON":
        return start <= when < start + DAY
    return when >= start


def _string_key(name: str, value: object, m: _Cached) -> bool:
    if name == "HEADER":
        assert isinstance(value, tuple)
        field_name, needle = value
        values = m.text.values(field_name)
        if not values:
            return False
        wanted = casemap(needle)
        return any(wanted in casemap_header_value(v) for v in values)
    assert isinstance(value, str)
    needle = casemap(value)
    if name in _ADDRESS_KEYS:
        values = m.text.values(name)
        if not values:
            return False
        return any(needle in casemap_header_value(write_addresses(parse_addresses(v))) for v in values)
    if name == "SUBJECT":
        values = m.text.values("Subject")
        if not values:
            return False
        return any(needle in casemap_header_value(_LWSP_RUN.sub(" ", v)) for v in values)
    if name == "BODY":
        return not needle or any(needle in casemap(t) for t in m.text.body_texts)
    if name == "TEXT":
        if not needle:
            return True
        if needle in m.text.header_text:
            return True
        return any(needle in casemap(t) for t in m.text.body_texts)
    raise ValueError(f"unknown search key {name}")


def uses_modseq(criteria: SearchCriterion) -> bool:
    """Whether the program has a MODSEQ key: then (RFC 7162) a non-empty SEARCH/SORT answer
    ends with `(MODSEQ <highest mod-sequence of the matches>)`."""
    stack: list[SearchCriterion] = [criteria]
    while stack:
        node = stack.pop()
        if isinstance(node, SearchAnd):
            stack.extend(node.keys)
        elif isinstance(node, SearchOr):
            stack.extend((node.left, node.right))
        elif isinstance(node, SearchNot):
            stack.append(node.key)
        elif node.name == "MODSEQ":
            return True
    return False
