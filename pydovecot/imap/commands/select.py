"""SELECT and EXAMINE, with CONDSTORE and QRESYNC (RFC 7162) parameters."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from ..protocol import ConnectionState
from ..protocol import commands as c
from ..protocol.responses import response_code, untagged, untagged_status
from ..selected import SelectedMailbox, uid_set
from .common import CommandFailed, fail, ok, storage_error, sync_view

if TYPE_CHECKING:
    from pydovecot.storage.interface import MailboxSnapshot
    from pydovecot.storage.mail_user import MailUser

    from ..session import Session


def close_selected(session: Session) -> None:
    if session.selected is not None:
        session.selected = None
        session.state = ConnectionState.AUTHENTICATED


async def run(session: Session, cmd: c.Select) -> None:
    started = time.monotonic()
    assert session.user is not None
    if session.selected is not None:
        close_selected(session)
        session.send(untagged_status("OK", "Previous mailbox closed.", b"[CLOSED]"))
    if cmd.qresync is not None and not session.qresync:
        fail(session, cmd.tag, CommandFailed("QRESYNC isn't enabled", status="BAD"))
        return
    try:
        selected, snapshot, keywords, gone = await session.storage_light(_open, session.user, cmd)
    except Exception as exc:  # noqa: BLE001 - storage failures are the client's NO
        error = storage_error(exc, cmd.mailbox)
        # SELECT words a missing mailbox without the NONEXISTENT code, as STATUS does.
        fail(session, cmd.tag, CommandFailed(error.text, None if error.code == "NONEXISTENT" else error.code))
        return
    if cmd.condstore:
        session.enabled.add("CONDSTORE")
    selected.gone = gone
    session.view_checked = True  # checked in _open's trip (a storage call since clears it)
    selected.load(snapshot, keywords)
    session.send(selected.flags_replies())
    session.send(untagged(f"{selected.exists} EXISTS"))
    session.send(untagged(f"{len(selected.recent)} RECENT"))
    first_unseen = next((i + 1 for i, uid in enumerate(selected.uids)
                         if "\\Seen" not in selected.messages[uid].flags), None)
    if first_unseen is not None:
        session.send(untagged_status("OK", "First unseen.", b"[UNSEEN %d]" % first_unseen))
    session.send(untagged_status("OK", "UIDs valid", b"[UIDVALIDITY %d]" % selected.uidvalidity))
    session.send(untagged_status("OK", "Predicted next UID", b"[UIDNEXT %d]" % selected.uidnext))
    if session.condstore:
        session.send(untagged_status("OK", "Highest", b"[HIGHESTMODSEQ %d]" % selected.highestmodseq))
    if cmd.qresync is not None and cmd.qresync.uidvalidity == selected.uidvalidity:
        await _qresync(session, selected, cmd.qresync)
    session.selected = selected
    session.state = ConnectionState.SELECTED
    # Read-only also when a plugin says so (acl: no right that would change anything).
    mode = "READ-ONLY" if cmd.read_only or getattr(selected.mailbox, "is_readonly", lambda: False)() else "READ-WRITE"
    verb = "Examine" if cmd.read_only else "Select"
    ok(session, cmd.tag, f"{verb} completed.", response_code(mode), started=started)


def _open(user: MailUser, cmd: c.Select) -> tuple[SelectedMailbox, MailboxSnapshot, tuple[str, ...], bool]:
    """Open, sync, and whether the folder is gone already (the server's check after the
    command, see common.mailbox_gone): one trip to the storage thread (runs there)."""
    mailbox = user.open_mailbox(cmd.mailbox)
    selected = SelectedMailbox(cmd.mailbox, mailbox, cmd.read_only)
    # EXAMINE leaves new/ mail where it is and \Recent for the next SELECT to claim.
    snapshot, keywords = sync_view(selected), mailbox.known_keywords()
    path = getattr(mailbox, "path", None)
    return selected, snapshot, keywords, isinstance(path, str) and not os.path.isdir(path)


async def _qresync(session: Session, selected: SelectedMailbox, params: c.QresyncParams) -> None:
    """VANISHED (EARLIER) for what went away and FETCH for what changed since the client's modseq."""
    known = None
    if params.known_uids is not None:
        known = set(selected.resolve(params.known_uids, uid=True) or [])
    vanished_since = getattr(selected.mailbox, "vanished_since", None)
    vanished: tuple[int, ...] | None = None
    if vanished_since is not None:
        vanished = await session.storage(vanished_since, params.modseq)
    if vanished:
        gone = sorted(u for u in vanished if params.known_uids is None or _in_set(u, params.known_uids))
        if gone:
            session.send(untagged(b"VANISHED (EARLIER) " + uid_set(gone)))
    for uid in selected.uids:
        info = selected.messages[uid]
        if info.modseq > params.modseq and (known is None or uid in known or params.known_uids is None):
            session.send(selected.fetch_flags(uid, True, True, modseq_last=True))


def _in_set(uid: int, seqset: c.SequenceSet) -> bool:
    for first, last in seqset.ranges:
        lo = 0xFFFFFFFF if first is c.STAR else int(first)
        hi = 0xFFFFFFFF if last is c.STAR else int(last)
        if min(lo, hi) <= uid <= max(lo, hi):
            return True
    return False
