"""CAPABILITY: the list before login differs from the one after it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.responses import untagged
from .common import ok

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Capability) -> None:
    started = time.monotonic()
    session.send(untagged("CAPABILITY " + session.capability()))
    if session.logged_in:
        ok(session, cmd.tag, "Capability completed.", started=started)
        return
    if not session.starttls_done:
        # As imap-login: clients must ask again after STARTTLS, so only a CAPABILITY before it
        # says the client reads the untagged list rather than the login OK's resp-code.
        session.capability_sent = True
    ok(session, cmd.tag, "Pre-login capabilities listed, post-login capabilities have more.")
