"""SUBSCRIBE and UNSUBSCRIBE; a name need not exist to be (un)subscribed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from .common import CommandFailed, fail, ok, storage_error

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Subscribe) -> None:
    started = time.monotonic()
    assert session.user is not None
    try:
        ns, storage = await session.storage(session.user.resolve, cmd.mailbox)  # may look up a shared owner
        if not cmd.unsubscribe and not await session.storage(ns.mailbox_list.has_entry, storage):
            # Dovecot 2.3 refuses to subscribe to a mailbox that does not exist (a bare fs
            # directory counts as existing; a level only Maildir++ children imply does not).
            raise CommandFailed(f"Mailbox doesn't exist: {cmd.mailbox}.")
        action = ns.mailbox_list.unsubscribe if cmd.unsubscribe else ns.mailbox_list.subscribe
        await session.storage(action, storage)
    except CommandFailed as exc:
        fail(session, cmd.tag, exc)
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, cmd.mailbox))
        return
    ok(session, cmd.tag, "Unsubscribe completed." if cmd.unsubscribe else "Subscribe completed.",
       started=started)
