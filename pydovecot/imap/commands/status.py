"""STATUS, and the item list LIST-STATUS shares with it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import MailboxStatus

from ..protocol import commands as c
from ..protocol.responses import untagged
from .common import CommandFailed, fail, mailbox_name, ok, storage_error

if TYPE_CHECKING:
    from ..session import Session

_ITEMS = {
    "MESSAGES": "messages", "RECENT": "recent", "UIDNEXT": "uidnext", "UIDVALIDITY": "uidvalidity",
    "UNSEEN": "unseen", "HIGHESTMODSEQ": "highestmodseq", "SIZE": "size",
}


async def mailbox_status(session: Session, vname: str) -> MailboxStatus:
    assert session.user is not None
    mailbox = await session.storage(session.user.open_mailbox, vname)
    return await session.storage(mailbox.status)


def status_line(vname: str, status: MailboxStatus, items: tuple[str, ...]) -> bytes:
    parts = [f"{item.upper()} {getattr(status, _ITEMS[item.upper()])}".encode()
             for item in items if item.upper() in _ITEMS]
    return untagged(b"STATUS " + mailbox_name(vname) + b" (" + b" ".join(parts) + b")")


async def run(session: Session, cmd: c.Status) -> None:
    started = time.monotonic()
    try:
        status = await mailbox_status(session, cmd.mailbox)
    except Exception as exc:  # noqa: BLE001
        error = storage_error(exc, cmd.mailbox)
        # STATUS words a missing mailbox without the NONEXISTENT code.
        fail(session, cmd.tag, CommandFailed(error.text, None if error.code == "NONEXISTENT" else error.code))
        return
    if "HIGHESTMODSEQ" in (i.upper() for i in cmd.items):
        session.enable_condstore()
    session.send(status_line(cmd.mailbox, status, cmd.items))
    if session.selected is not None and session.selected.vname == cmd.mailbox:
        ok(session, cmd.tag, "Status on selected mailbox completed.", b"[CLIENTBUG]", started=started)
        return
    ok(session, cmd.tag, "Status completed.", started=started)
