"""COPY and MOVE (RFC 6851), with UIDPLUS's COPYUID."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import Mailbox, MailboxError

from ..protocol import commands as c
from ..protocol.responses import untagged_status
from ..selected import uid_set
from .common import (
    CommandFailed,
    fail,
    highestmodseq_code,
    ok,
    storage_error,
    sync_selected,
    sync_without_expunges,
)

if TYPE_CHECKING:
    from ..session import Session


async def _expunge_moved(session: Session, target: Mailbox, pairs: tuple[tuple[int, int], ...]) -> None:
    """MOVE's second half; when the source refuses the expunge (acl without `e`), the copies
    go again, so that the refused MOVE changed nothing, as Dovecot's."""
    assert session.selected is not None
    try:
        await session.storage(session.selected.mailbox.expunge, [src for src, _ in pairs])
    except MailboxError:
        with contextlib.suppress(Exception):  # the refusal is what the client hears about
            await session.storage(target.expunge, [dst for _, dst in pairs])
        raise


async def run(session: Session, cmd: c.Copy) -> None:
    started = time.monotonic()
    selected = session.selected
    user = session.user
    assert selected is not None and user is not None
    name = "MOVE" if cmd.move else "COPY"
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if uids is None:
        fail(session, cmd.tag, CommandFailed(f"Error in IMAP command {name}: Invalid messageset.", status="BAD"))
        return
    if not uids:
        ok(session, cmd.tag, "No messages found.", started=started)
        return
    if cmd.move and selected.read_only:
        fail(session, cmd.tag, CommandFailed("Mailbox is read-only.", "READ-ONLY"))
        return
    try:
        target = await session.storage(user.open_mailbox, cmd.mailbox)
    except Exception as exc:  # noqa: BLE001
        error = storage_error(exc, cmd.mailbox)
        fail(session, cmd.tag, CommandFailed(error.text, "TRYCREATE" if error.code == "NONEXISTENT" else error.code))
        return
    try:
        pairs = await session.storage(selected.mailbox.copy_to, uids, target) if uids else ()
        status = await session.storage(target.status)
        if cmd.move and pairs:
            await _expunge_moved(session, target, pairs)
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, cmd.mailbox))
        return
    ns, _ = user.resolve(cmd.mailbox)
    if "\\Trash" in ns.special_use(cmd.mailbox):
        session.counters.trashed += len(pairs)
    code = None
    if pairs:
        code = (b"[COPYUID %d " % status.uidvalidity + uid_set([s for s, _ in pairs]) + b" "
                + uid_set([d for _, d in pairs]) + b"]")
    if cmd.move:
        if code is not None:
            session.send(untagged_status("OK", "Moved UIDs.", code))
        await sync_selected(session)
        ok(session, cmd.tag, "Move completed.", highestmodseq_code(session), started=started)
        return
    if not cmd.uid:
        await sync_without_expunges(session)
        ok(session, cmd.tag, "Copy completed.", code, started=started)
        return
    await sync_selected(session)
    ok(session, cmd.tag, "Copy completed.", code, started=started)
