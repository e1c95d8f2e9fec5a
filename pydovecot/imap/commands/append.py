"""APPEND with MULTIAPPEND (RFC 3502), flags, internal date and UIDPLUS's APPENDUID."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..selected import uid_set
from . import catenate
from .common import CommandFailed, fail, ok, storage_error, sync_selected

if TYPE_CHECKING:
    from pydovecot.storage.interface import Mailbox, MailboxStatus

    from ..session import Session


async def run(session: Session, cmd: c.Append) -> None:
    started = time.monotonic()
    user = session.user
    assert user is not None
    try:
        mailbox = await session.storage_light(user.open_mailbox, cmd.mailbox)
    except Exception as exc:  # noqa: BLE001
        error = storage_error(exc, cmd.mailbox)
        fail(session, cmd.tag, CommandFailed(error.text, "TRYCREATE" if error.code == "NONEXISTENT" else error.code))
        return
    uids: list[int] = []
    try:
        status = None
        for i, message in enumerate(cmd.messages):
            data = b"".join([await catenate.resolve(session, part) for part in message.parts])
            flags = [f.name for f in message.flags if f.is_system]
            keywords = [f.name for f in message.flags if not f.is_system]
            date = message.internal_date.timestamp() if message.internal_date is not None else None
            uid, status = await session.storage(_append, mailbox, data, flags, keywords, date,
                                                i == len(cmd.messages) - 1)
            uids.append(uid)
        if status is None:
            status = await session.storage(mailbox.status)
    except CommandFailed as exc:
        fail(session, cmd.tag, exc)
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, cmd.mailbox))
        return
    if session.selected is not None:
        await sync_selected(session)
    code = b"[APPENDUID %d " % status.uidvalidity + uid_set(uids) + b"]"
    ok(session, cmd.tag, "Append completed.", code, started=started)


def _append(mailbox: Mailbox, data: bytes, flags: list[str], keywords: list[str], date: float | None,
            last: bool) -> tuple[int, MailboxStatus | None]:
    """One message saved, and after the last one the status APPENDUID needs: one trip to the
    storage thread."""
    uid = mailbox.append(data, flags=flags, keywords=keywords, internaldate=date)
    return uid, mailbox.status() if last else None
