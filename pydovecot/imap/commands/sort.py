"""SORT / UID SORT (RFC 5256) with ESORT's RETURN options (RFC 5267), over the search package."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.search import BadCharsetError, SearchContext, check_charset, matches
from pydovecot.storage.sort import SortError, sort_messages

from ..protocol import commands as c
from ..protocol.responses import quoted, untagged
from ..selected import SelectedMailbox, uid_set
from .common import CommandFailed, fail, ok, storage_error, sync_without_expunges
from .search import _Message, _messages

if TYPE_CHECKING:
    from ..session import Session


def matching(selected: SelectedMailbox, cmd: c.Sort | c.Thread) -> list[_Message]:
    """The messages the search keys select, in mailbox order (storage thread)."""
    check_charset(cmd.charset)
    ctx = SearchContext(selected.exists, selected.uids[-1] if selected.uids else 0, selected.saved,
                        cmd.charset, selected.vname)
    return [m for m in _messages(selected) if matches(cmd.criteria, m, ctx)]


def _sorted(selected: SelectedMailbox, cmd: c.Sort) -> list[_Message]:
    return sort_messages(matching(selected, cmd), cmd.program)


async def run(session: Session, cmd: c.Sort) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    await sync_without_expunges(session)
    try:
        ordered = await session.storage(_sorted, selected, cmd)
    except SortError as exc:
        fail(session, cmd.tag, CommandFailed(f"Error in IMAP command {'UID ' if cmd.uid else ''}SORT: {exc}.",
                                             status="BAD"))
        return
    except BadCharsetError:
        fail(session, cmd.tag, CommandFailed("Unknown charset.", "BADCHARSET"))
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    numbers = [m.uid if cmd.uid else m.seq for m in ordered]
    if cmd.return_options is None:
        session.send(untagged(b"SORT" + b"".join(b" %d" % n for n in numbers)))
    else:
        options = cmd.return_options
        if "SAVE" in options:
            selected.saved = frozenset(m.uid for m in ordered)
        if not set(options) <= {"SAVE"}:
            out = b"ESEARCH (TAG " + quoted(cmd.tag) + b")" + (b" UID" if cmd.uid else b"")
            if numbers and "MIN" in options:
                out += b" MIN %d" % numbers[0]
            if numbers and "MAX" in options:
                out += b" MAX %d" % numbers[-1]
            if numbers and "ALL" in options:
                out += b" ALL " + uid_set(numbers)
            if "COUNT" in options:
                out += b" COUNT %d" % len(numbers)
            session.send(untagged(out))
    ok(session, cmd.tag, "Sort completed.", started=started)
