"""CLOSE (expunges \\Deleted messages quietly when read-write) and UNSELECT (does not)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import MailboxError

from ..protocol import commands as c
from .common import ok
from .select import close_selected

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Close | c.Unselect) -> None:
    started = time.monotonic()
    selected = session.selected
    text = "Close completed." if isinstance(cmd, c.Close) else "Unselect completed."
    if isinstance(cmd, c.Close) and selected is not None and not selected.read_only:
        try:
            snapshot = await session.storage(selected.mailbox.sync)
            deleted = [m.uid for m in snapshot.messages if "\\Deleted" in m.flags]
            if deleted:
                done = await session.storage(selected.mailbox.expunge, deleted)
                session.counters.expunged += len(done)
        except MailboxError as exc:
            if exc.code == "NOPERM":  # acl without the `e` right: Dovecot says so, still OK
                text = f"Closed without expunging: {str(exc).rstrip('.')}."
        except Exception:  # noqa: BLE001 - CLOSE succeeds even when the expunge could not run
            pass
    close_selected(session)
    ok(session, cmd.tag, text, started=started)
