"""RENAME, within one namespace (Dovecot refuses moving between namespaces)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.maildir.mailbox_list import MailboxExistsError, MailboxOperationError

from ..protocol import commands as c
from .common import CommandFailed, fail, ok, storage_error

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Rename) -> None:
    started = time.monotonic()
    assert session.user is not None
    try:
        old_ns, _ = await session.storage(session.user.resolve, cmd.old)  # may look up a shared owner
        new_ns, _ = await session.storage(session.user.resolve, cmd.new)
        if old_ns is not new_ns:
            raise CommandFailed("Can't rename mailboxes across namespaces.")
        await session.storage(session.user.rename_mailbox, cmd.old, cmd.new)
    except CommandFailed as exc:
        fail(session, cmd.tag, exc)
        return
    except MailboxOperationError as exc:
        fail(session, cmd.tag, CommandFailed(str(exc), "CANNOT"))
        return
    except MailboxExistsError:
        fail(session, cmd.tag, CommandFailed("Target mailbox already exists.", "ALREADYEXISTS"))
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, cmd.old))
        return
    ok(session, cmd.tag, "Rename completed.", started=started)

