"""ENABLE (RFC 5161): CONDSTORE and QRESYNC (which implies CONDSTORE); others are ignored."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.responses import untagged
from .common import ok

if TYPE_CHECKING:
    from ..session import Session

# Dovecot 2.3.19 knows UTF8=ACCEPT only as a name; it does not enable it.
SUPPORTED = ("CONDSTORE", "QRESYNC")


async def run(session: Session, cmd: c.Enable) -> None:
    started = time.monotonic()
    if not session.logged_in:
        session.send(untagged("ENABLED"))
        ok(session, cmd.tag, "ENABLE ignored in non-authenticated state.")
        return
    names: list[str] = []
    for cap in cmd.capabilities:
        upper = cap.upper()
        if upper in SUPPORTED and upper not in names:
            names.append(upper)
    if names:
        session.enable_condstore()  # both need it; says HIGHESTMODSEQ when a mailbox is selected
    session.enabled.update(names)
    session.send(untagged(" ".join(["ENABLED", *names])))
    ok(session, cmd.tag, "Enabled.", started=started)
