"""doveadm's search query (doveadm-search-query(7)) -> the IMAP parser's SearchKey tree.

The query is IMAP SEARCH keys in any case, plus doveadm's own: ``mailbox NAME`` (IMAP-style
wildcards), ``mailbox-guid GUID``, dates as ``YYYY-MM-DD``, a UNIX time or an interval
(``1d``, ``2w``...), sizes with k/M/G suffixes, and an *infix* ``OR`` (``uid 1 OR uid 2``;
Dovecot refuses to mix it with an implicit AND in one list: "Use parenthesis...").

Messages are matched by :mod:`pydovecot.storage.search` (the seam: doveadm only translates).
The mailbox keys are not message properties: :func:`for_mailbox` replaces them with constants
for one mailbox, so a query that cannot match there skips the mailbox without opening it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime

from pydovecot.imap.protocol.commands import (
    STAR,
    SearchAnd,
    SearchCriterion,
    SearchKey,
    SearchNot,
    SearchOr,
    SequenceSet,
)
from pydovecot.storage.namespace import pattern_regex

MAILBOX_KEY = "X-DOVEADM-MAILBOX"
MAILBOX_GUID_KEY = "X-DOVEADM-MAILBOX-GUID"
TRUE: SearchCriterion = SearchKey("ALL")
FALSE: SearchCriterion = SearchNot(SearchKey("ALL"))


class QueryError(Exception):
    """A query doveadm refuses: str(error) is the text after "Fatal: "."""


_NO_ARG = {"ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD", "RECENT", "SEEN", "UNANSWERED",
           "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "SAVEDATESUPPORTED"}
_STRING_ARG = {"FROM", "TO", "CC", "BCC", "SUBJECT", "BODY", "TEXT", "KEYWORD", "UNKEYWORD"}
_DATE_ARG = {"BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON",
             "SAVEDSINCE"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_INTERVAL = re.compile(r"([0-9]+)\s*(secs?|seconds?|s|mins?|minutes?|hours?|h|days?|d|weeks?|w)", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SEQSET = re.compile(r"(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?(?:,(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?)*")
_SIZE = re.compile(r"([0-9]+)\s*([kmgt]?)b?", re.I)


@dataclass
class _Tokens:
    args: list[str]
    pos: int = 0

    def peek(self) -> str | None:
        return self.args[self.pos] if self.pos < len(self.args) else None

    def take(self) -> str | None:
        token = self.peek()
        if token is not None:
            self.pos += 1
        return token

    def param(self, key: str) -> str:
        token = self.take()
        if token is None:
            raise QueryError(f"Missing parameter for search key (for search key: {key})")
        return token


def parse_query(args: list[str]) -> SearchCriterion:
    """The whole query; an empty one is refused by the callers (usage)."""
    tokens = _Tokens(list(args))
    tree = _list(tokens, top=True)
    return tree


def _list(tokens: _Tokens, *, top: bool) -> SearchCriterion:
    items: list[SearchCriterion] = []
    is_or = False
    pending_or = False
    while True:
        token = tokens.peek()
        if token is None:
            if not top:
                raise QueryError("Missing ')'")
            break
        if token == ")":
            if top:
                raise QueryError("Unexpected ')'")
            tokens.take()
            break
        if token.upper() == "OR":
            tokens.take()
            is_or = pending_or = True
            continue
        if is_or and not pending_or:
            raise QueryError("Use parenthesis when mixing ANDs and ORs")
        pending_or = False
        items.append(_key(tokens))
    if not items:
        return TRUE
    if len(items) == 1:
        return items[0]
    if is_or:
        tree = items[0]
        for item in items[1:]:
            tree = SearchOr(tree, item)
        return tree
    return SearchAnd(tuple(items))


def _key(tokens: _Tokens) -> SearchCriterion:
    token = tokens.take()
    assert token is not None
    if token == "(":
        return _list(tokens, top=False)
    name = token.upper()
    if name == "NOT":
        if tokens.peek() is None:
            raise QueryError("Missing parameter for search key (for search key: NOT)")
        return SearchNot(_key(tokens))
    if name in _NO_ARG:
        return SearchKey(name)
    if name in _STRING_ARG:
        return SearchKey(name, tokens.param(name))
    if name == "HEADER":
        field = tokens.param(name)
        return SearchKey(name, (field, tokens.param(name)))
    if name in ("UID", "SEQ"):
        return SearchKey("UID" if name == "UID" else "SEQUENCE", _seqset(tokens.param(name)))
    if name in ("LARGER", "SMALLER"):
        return SearchKey(name, _size(tokens.param(name)))
    if name in ("OLDER", "YOUNGER"):
        value = tokens.param(name)
        if not value.isdigit():
            raise QueryError(f"Invalid search key parameter: {value}")
        return SearchKey(name, int(value))
    if name in _DATE_ARG:
        return _date_key(name, tokens.param(name))
    if name == "MAILBOX":
        return SearchKey(MAILBOX_KEY, tokens.param(name))
    if name == "MAILBOX-GUID":
        return SearchKey(MAILBOX_GUID_KEY, tokens.param(name).lower())
    if name == "GUID":
        return SearchKey("X-GUID", tokens.param(name))
    if name == "MODSEQ":
        value = tokens.param(name)
        if not value.isdigit():
            raise QueryError(f"Invalid search key parameter: {value}")
        return SearchKey(name, int(value))
    if _SEQSET.fullmatch(token):
        return SearchKey("SEQUENCE", _seqset(token))
    raise QueryError(f"Unknown argument {name}")


def _seqset(text: str) -> SequenceSet:
    if not _SEQSET.fullmatch(text):
        raise QueryError(f"Invalid messageset: {text}")
    ranges = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        lo = STAR if low == "*" else int(low)
        hi = lo if not high else (STAR if high == "*" else int(high))
        ranges.append((lo, hi))
    return SequenceSet(tuple(ranges))  # type: ignore[arg-type]


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None:
        raise QueryError(f"Invalid search size parameter: {text}")
    power = " kmgt".index(match.group(2).lower() or " ")
    return int(match.group(1)) * 1024**power


def _date_key(name: str, text: str) -> SearchCriterion:
    interval = _INTERVAL.fullmatch(text)
    if interval is not None:
        seconds = int(interval.group(1)) * _UNIT_SECONDS[interval.group(2)[0].lower()]
        if name in ("BEFORE", "SINCE"):
            # Received before/since a moment: the evaluator's OLDER/YOUNGER (RFC 5032).
            return SearchKey("OLDER" if name == "BEFORE" else "YOUNGER", seconds)
        # SENT*/SAVED* intervals are matched by the day they fall on (a known approximation).
        return SearchKey(name, date.fromtimestamp(time.time() - seconds))
    return SearchKey(name, _parse_date(text))


def _parse_date(text: str) -> date:
    if text.isdigit():
        return date.fromtimestamp(int(text))
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        pass
    parts = text.split("-")
    if len(parts) == 3 and parts[1].lower() in _MONTHS and parts[0].isdigit() and parts[2].isdigit():
        try:
            return date(int(parts[2]), _MONTHS.index(parts[1].lower()) + 1, int(parts[0]))
        except ValueError:
            pass
    raise QueryError(f"Invalid search date parameter: {text}")


# --- per mailbox -------------------------------------------------------------------------------


def for_mailbox(tree: SearchCriterion, vname: str, guid: str | None, separator: str) -> SearchCriterion:
    """The tree with its mailbox keys decided for one mailbox, folded (TRUE/FALSE when constant)."""
    if isinstance(tree, SearchAnd):
        keys = [for_mailbox(k, vname, guid, separator) for k in tree.keys]
        if any(k == FALSE for k in keys):
            return FALSE
        keys = [k for k in keys if k != TRUE]
        return TRUE if not keys else keys[0] if len(keys) == 1 else SearchAnd(tuple(keys))
    if isinstance(tree, SearchOr):
        left = for_mailbox(tree.left, vname, guid, separator)
        right = for_mailbox(tree.right, vname, guid, separator)
        if TRUE in (left, right):
            return TRUE
        if left == FALSE:
            return right
        return left if right == FALSE else SearchOr(left, right)
    if isinstance(tree, SearchNot):
        inner = for_mailbox(tree.key, vname, guid, separator)
        if inner == TRUE:
            return FALSE
        return TRUE if inner == FALSE else SearchNot(inner)
    if tree.name == MAILBOX_KEY:
        assert isinstance(tree.value, str)
        return TRUE if pattern_regex(tree.value, separator).fullmatch(vname) else FALSE
    if tree.name == MAILBOX_GUID_KEY:
        return TRUE if guid is not None and tree.value == guid else FALSE
    return tree


def mailbox_patterns(tree: SearchCriterion) -> list[str] | None:
    """The names of ``mailbox`` keys every branch requires (None when some branch has none)."""
    if isinstance(tree, SearchAnd):
        for key in tree.keys:
            found = mailbox_patterns(key)
            if found is not None:
                return found
        return None
    if isinstance(tree, SearchOr):
        left, right = mailbox_patterns(tree.left), mailbox_patterns(tree.right)
        return None if left is None or right is None else left + right
    if isinstance(tree, SearchKey) and tree.name in (MAILBOX_KEY, MAILBOX_GUID_KEY):
        return [str(tree.value)]
    return None
