"""STARTTLS: only when ssl is configured and the connection is not TLS yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.responses import tagged
from .common import CommandFailed, fail

if TYPE_CHECKING:
    from ..session import Session


def tls_available(session: Session) -> bool:
    return str(session.settings.get("ssl") or "no") != "no" and session.service.tls_context is not None


async def run(session: Session, cmd: c.StartTls) -> None:
    if session.conn.tls:
        fail(session, cmd.tag, CommandFailed("TLS is already active.", status="BAD"))
        return
    if not tls_available(session):
        fail(session, cmd.tag, CommandFailed("TLS support isn't enabled.", status="BAD"))
        return
    # Not deferred like other replies: it must be on the wire before the handshake starts.
    session.send(tagged(cmd.tag, "OK", "Begin TLS negotiation now."))
    session.last_status = "OK"
    await session.flush()
    await session.start_tls()
