"""DELETE; deleting the selected mailbox closes it first, as Dovecot does."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.responses import bye
from .common import fail, ok, storage_error
from .select import close_selected

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Delete) -> None:
    started = time.monotonic()
    assert session.user is not None
    try:
        await session.storage(session.user.delete_mailbox, cmd.mailbox)
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, cmd.mailbox))
        return
    ok(session, cmd.tag, "Delete completed.", started=started)
    if session.selected is not None and session.selected.vname == cmd.mailbox:
        close_selected(session)
        session.after_tagged = bye("Selected mailbox was deleted, have to disconnect.")
        session.closing = True
