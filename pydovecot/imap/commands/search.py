"""SEARCH / UID SEARCH, with ESEARCH return options (RFC 4731) and SEARCHRES `$` (RFC 5182).

The matching itself is the storage's search package; this module adapts the selected view to
its SearchableMessage and writes the replies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydovecot.storage.access import charge, may_block
from pydovecot.storage.interface import Mailbox, MessageInfo
from pydovecot.storage.search import BadCharsetError, SearchContext, check_charset, search, uses_modseq
from pydovecot.storage.search.message import InfoFields

from ..protocol import commands as c
from ..protocol.responses import quoted, untagged
from ..selected import SelectedMailbox, uid_set
from .common import CommandFailed, fail, ok, storage_error, sync_without_expunges

if TYPE_CHECKING:
    from ..session import Session

# The keys a full-text index answers (pydovecot.plugins.fts.engine.KEY_COLUMNS).
FTS_KEYS = frozenset({"BODY", "TEXT", "FROM", "TO", "CC", "BCC", "SUBJECT"})


@dataclass
class _Message(InfoFields):
    """One message as the search package sees it."""

    seq: int
    info: MessageInfo
    all_flags: frozenset[str]
    mailbox: Mailbox
    _raw: bytes | None = None

    @property
    def uid(self) -> int:
        return self.info.uid

    @property
    def flags(self) -> frozenset[str]:
        return self.all_flags

    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = self.mailbox.read(self.info.uid) or b""
        return self._raw


def _messages(selected: SelectedMailbox, only: set[int] | None = None) -> list[_Message]:
    """The selected messages (``only``: just those UIDs, which the full-text index left)."""
    if only is not None:
        pairs = [(seq, uid) for uid in sorted(only) if (seq := selected.seq_of(uid)) is not None]
    else:
        pairs = list(enumerate(selected.uids, 1))
    charge(32 * len(pairs))  # a search over a large folder is thread work, whatever its keys
    out = []
    for seq, uid in pairs:
        info = selected.messages[uid]
        flags = set(info.flags)
        if uid in selected.recent:
            flags.add("\\Recent")
        out.append(_Message(seq, info, frozenset(flags), selected.mailbox))
    return out


def _run_search(selected: SelectedMailbox, cmd: c.Search, saved: frozenset[int] | None) -> list[int]:
    """UIDs of the matches (runs in the storage thread: may read every message)."""
    ctx = SearchContext(selected.exists, selected.uids[-1] if selected.uids else 0, saved, cmd.charset,
                        selected.vname)
    check_charset(cmd.charset)
    criteria, candidates = cmd.criteria, None
    fts_lookup = getattr(selected.mailbox, "fts_lookup", None)
    if fts_lookup is not None:
        may_block()  # the index is a database another process may be writing
        criteria, candidates = _narrow_by_fts(fts_lookup, criteria, selected.uids)
        if candidates is not None and not criteria.keys:
            # The index answered every key: no message needs a look (UID order is mailbox order).
            return sorted(candidates)
    return search(criteria, _messages(selected, candidates), ctx, uid=True)


def _narrow_by_fts(fts_lookup: Callable[..., set[int] | None], criteria: c.SearchAnd,
                   uids: list[int]) -> tuple[c.SearchAnd, set[int] | None]:
    """Answer the AND-ed text keys from the full-text index (whole words, as fts_lucene does;
    see pydovecot.plugins.fts.engine for where that differs from substring matching).

    Returns the keys the index did not answer and the UIDs its answers leave (None: it answered
    none). Keys under OR/NOT, and keys the index cannot answer (None), stay with the substring
    evaluator, which then looks only at the UIDs left.
    """
    rest: list[c.SearchCriterion] = []
    candidates: set[int] | None = None
    for key in _and_keys(criteria):
        if isinstance(key, c.SearchKey) and key.name in FTS_KEYS and isinstance(key.value, str):
            found = fts_lookup(key.name, key.value, uids if candidates is None else candidates)
            if found is not None:
                candidates = found if candidates is None else candidates & found
                continue
        rest.append(key)
    return c.SearchAnd(tuple(rest)), candidates


def _and_keys(node: c.SearchAnd) -> Iterator[c.SearchCriterion]:
    for key in node.keys:
        if isinstance(key, c.SearchAnd):
            yield from _and_keys(key)
        else:
            yield key


async def run(session: Session, cmd: c.Search) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    await sync_without_expunges(session)
    saved = selected.saved
    try:
        uids = await session.storage_light(_run_search, selected, cmd, saved)
    except BadCharsetError:
        fail(session, cmd.tag, CommandFailed("Unknown charset.", "BADCHARSET"))
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    with_modseq = uses_modseq(cmd.criteria)
    if with_modseq:
        session.enable_condstore()
    numbers = uids if cmd.uid else [selected.seq_of(u) or 0 for u in uids]
    highest = max((selected.messages[u].modseq for u in uids), default=0)
    options = cmd.return_options
    if options is not None:
        if "SAVE" in options:
            selected.saved = frozenset(uids)
        if options and set(options) <= {"SAVE"}:
            ok(session, cmd.tag, "Search completed.", started=started)
            return
        session.send(_esearch(cmd, numbers, options or ("ALL",), highest if with_modseq else None))
    else:
        line = b"SEARCH" + b"".join(b" %d" % n for n in numbers)
        if with_modseq and numbers:
            line += b" (MODSEQ %d)" % highest
        session.send(untagged(line))
    ok(session, cmd.tag, "Search completed.", started=started)


def _esearch(cmd: c.Search, numbers: list[int], options: tuple[str, ...], modseq: int | None) -> bytes:
    out = b"ESEARCH (TAG " + quoted(cmd.tag) + b")"
    if cmd.uid:
        out += b" UID"
    if numbers:
        if "MIN" in options:
            out += b" MIN %d" % min(numbers)
        if "MAX" in options:
            out += b" MAX %d" % max(numbers)
    if "ALL" in options and numbers:
        out += b" ALL " + uid_set(sorted(numbers))
    if "COUNT" in options:
        out += b" COUNT %d" % len(numbers)
    if modseq is not None and numbers:
        out += b" MODSEQ %d" % modseq
    return untagged(out)
