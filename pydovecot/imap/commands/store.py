"""STORE / UID STORE: FLAGS, +FLAGS, -FLAGS, .SILENT, and CONDSTORE's UNCHANGEDSINCE."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import Mailbox, MailboxSnapshot, StoreAction

from ..protocol import commands as c
from ..protocol.responses import response_code
from ..selected import uid_set
from .common import CommandFailed, fail, ok, storage_error

if TYPE_CHECKING:
    from ..session import Session

_ACTIONS = {
    c.StoreAction.REPLACE: StoreAction.REPLACE,
    c.StoreAction.ADD: StoreAction.ADD,
    c.StoreAction.REMOVE: StoreAction.REMOVE,
}


async def run(session: Session, cmd: c.Store) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if uids is None:
        fail(session, cmd.tag, CommandFailed("Error in IMAP command STORE: Invalid messageset.", status="BAD"))
        return
    if selected.read_only:
        new = [f.name for f in cmd.flags if not f.is_system and f.name not in selected.keywords]
        if new:
            # Dovecot registers the keyword names all the same and says so.
            selected.keywords = (*selected.keywords, *new)
            session.send(selected.flags_replies())
        ok(session, cmd.tag, "Store ignored with read-only mailbox.", started=started)
        return
    if cmd.unchanged_since is not None:
        session.enable_condstore()
    flags = [f.name for f in cmd.flags if f.is_system]
    keywords = [f.name for f in cmd.flags if not f.is_system]
    try:
        # Two light calls, not one: an inline call that stops starts again from the beginning
        # in a thread, and the change itself must not run twice.
        result = await session.storage_light(selected.mailbox.store, uids, _ACTIONS[cmd.action], flags, keywords,
                                             unchanged_since=cmd.unchanged_since)
        snapshot, known, gone = await session.storage_light(_after_store, selected.mailbox)
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    session.view_checked = True  # the server's check after the command was made in that trip
    selected.gone = selected.gone or gone
    changed = {m.uid for m in result.changed}
    session.counters.deleted += sum(
        1 for m in result.changed
        if "\\Deleted" in m.flags and "\\Deleted" not in selected.messages.get(m.uid, m).flags)
    # Our own changes: reported (unless .SILENT) as FETCH with the fields the client asked about;
    # everyone else's changes as usual.
    session.send(selected.apply(snapshot, known, expunges=cmd.uid, uid_fetch=cmd.uid,
                                condstore=session.condstore, qresync=session.qresync,
                                quiet_uids=frozenset(changed)))
    for uid in uids:
        if uid not in changed or selected.seq_of(uid) is None:
            continue
        if not cmd.silent:
            session.send(selected.fetch_flags(uid, cmd.uid or session.qresync, session.condstore))
        elif session.condstore:
            # .SILENT still tells a CONDSTORE client the new modseq (RFC 7162 3.1.3).
            session.send(selected.fetch_flags(uid, cmd.uid or session.qresync, True, flags=False))
    if result.unchanged_since_failed:
        failed = sorted(result.unchanged_since_failed)
        numbers = failed if cmd.uid else [selected.seq_of(u) or 0 for u in failed]
        ok(session, cmd.tag, "Conditional store failed.", response_code("MODIFIED", uid_set(numbers)),
           started=started)
        return
    ok(session, cmd.tag, "Store completed.", started=started)


def _after_store(mailbox: Mailbox) -> tuple[MailboxSnapshot, tuple[str, ...], bool]:
    """The sync after a change and whether the folder is gone (see common.mailbox_gone)."""
    snapshot, known = mailbox.sync(take_recent=True), mailbox.known_keywords()
    path = getattr(mailbox, "path", None)
    return snapshot, known, isinstance(path, str) and not os.path.isdir(path)
