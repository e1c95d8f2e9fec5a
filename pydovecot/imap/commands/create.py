"""CREATE: a trailing separator is allowed (it asks for a parent of future children)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.maildir.layout import INBOX

from ..protocol import commands as c
from .common import CommandFailed, fail, ok, storage_error

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Create) -> None:
    started = time.monotonic()
    assert session.user is not None
    user = session.user
    name = cmd.mailbox
    try:
        ns, storage = await session.storage(user.resolve, name)  # storage thread: may look up a shared owner
        if name.rstrip(ns.separator) != name and name.rstrip(ns.separator):
            name = name.rstrip(ns.separator)
            ns, storage = await session.storage(user.resolve, name)
        if storage == INBOX:
            raise CommandFailed("Mailbox already exists.", "ALREADYEXISTS")
        # Through the user, so that plugins (acl, mail_log) may refuse or observe it.
        await session.storage(user.create_mailbox, name)
    except CommandFailed as exc:
        fail(session, cmd.tag, exc)
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, name))
        return
    ok(session, cmd.tag, "Create completed.", started=started)
