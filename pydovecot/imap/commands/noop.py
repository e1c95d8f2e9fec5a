"""NOOP and CHECK: nothing to do but tell the client what changed in the selected mailbox."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from .common import ok, sync_selected

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Noop | c.Check) -> None:
    started = time.monotonic()
    name = "NOOP" if isinstance(cmd, c.Noop) else "Check"
    if not session.logged_in:
        ok(session, cmd.tag, "NOOP completed.")
        return
    await sync_selected(session)
    ok(session, cmd.tag, f"{name} completed.", started=started)
