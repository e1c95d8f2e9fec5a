"""IDLE (RFC 2177): push mailbox changes until DONE.

No busy loop: the session waits for the client's DONE, for the inotify watcher (watch.py) to
say the mailbox changed, or for mailbox_idle_check_interval to pass (the fallback where
inotify is missing), whichever comes first; `* OK Still here` goes out every
imap_idle_notify_interval so that NAT boxes keep the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import TYPE_CHECKING

from ..protocol import IdleDone
from ..protocol import commands as c
from ..protocol.responses import bye, untagged
from .common import mailbox_gone, ok, sync_selected

if TYPE_CHECKING:
    from ..session import Session

# A delivery is several file operations: wait this long after the first before syncing.
SETTLE_SECONDS = 0.05


def _watched_paths(session: Session) -> list[str]:
    selected = session.selected
    path = getattr(selected.mailbox, "path", None) if selected is not None else None
    if not isinstance(path, str):
        return []
    return [os.path.join(path, sub) for sub in ("new", "cur")]


async def run(session: Session, cmd: c.Idle) -> None:
    started = time.monotonic()
    check = float(session.settings.get("mailbox_idle_check_interval") or 30)
    keepalive = float(session.settings.get("imap_idle_notify_interval") or 0)
    session.protocol.start_idle(cmd.tag)
    session.set_admin_state("IDLE")
    await sync_selected(session)
    await session.flush()
    changed = asyncio.Event()
    stop = session.service.watcher.watch(_watched_paths(session), changed)
    client = asyncio.ensure_future(session.next_event(autologout=False))
    last_keepalive = time.monotonic()
    try:
        while True:
            waiter = asyncio.ensure_future(changed.wait())
            timeout = min(check, keepalive) if keepalive else check
            done, _ = await asyncio.wait({client, waiter}, timeout=max(timeout, 0.05),
                                         return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if client in done:
                break
            if changed.is_set():
                await asyncio.sleep(SETTLE_SECONDS)
                changed.clear()
            await sync_selected(session)
            if await mailbox_gone(session):
                session.send(bye("IDLE failed: Mailbox was deleted under us"))
                session.closing = True
                return
            if keepalive and time.monotonic() - last_keepalive >= keepalive:
                session.send(untagged("OK Still here"))
                last_keepalive = time.monotonic()
            await session.flush()
    finally:
        session.set_admin_state("")
        stop()
        if not client.done():
            client.cancel()
            with contextlib.suppress(BaseException):
                await client
    event = client.result() if not client.cancelled() and client.exception() is None else None
    if event is None:
        session.closing = True
        return
    if isinstance(event, IdleDone):
        ok(session, cmd.tag, "Idle completed.", started=started)
        return
    # Anything but DONE: the core queued "BAD Expected DONE." and IDLE is over.
    session.bad_commands += 1
