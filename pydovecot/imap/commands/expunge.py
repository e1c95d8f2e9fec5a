"""EXPUNGE and UID EXPUNGE (UIDPLUS): remove \\Deleted messages, report each one."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import Mailbox, MailboxError

from ..protocol import commands as c
from .common import fail, highestmodseq_code, ok, storage_error, sync_selected

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Expunge) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    if selected.read_only:
        ok(session, cmd.tag, "Expunge completed.", started=started)  # Dovecot: nothing to do, no error
        return
    try:
        wanted = None
        if cmd.uids is not None:
            wanted = set(selected.resolve(cmd.uids, uid=True) or [])
        done = await session.storage(_expunge, selected.mailbox, wanted)
        session.counters.expunged += len(done)
    except MailboxError as exc:
        if exc.code != "NOPERM":
            fail(session, cmd.tag, storage_error(exc, selected.vname))
            return
        # Dovecot: a permission error (acl without the `e` right) is not the client's failure,
        # so that clients expunging automatically do not show an error.
        await sync_selected(session)
        ok(session, cmd.tag, f"Expunge ignored: {str(exc).rstrip('.')}.", started=started)
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    await sync_selected(session)
    ok(session, cmd.tag, "Expunge completed.", highestmodseq_code(session), started=started)


def _expunge(mailbox: Mailbox, wanted: set[int] | None) -> tuple[int, ...]:
    """Sync, then expunge what is \\Deleted (of ``wanted``): one trip to the storage thread."""
    snapshot = mailbox.sync(take_recent=True)
    deleted = [m.uid for m in snapshot.messages if "\\Deleted" in m.flags and (wanted is None or m.uid in wanted)]
    return tuple(mailbox.expunge(deleted)) if deleted else ()
