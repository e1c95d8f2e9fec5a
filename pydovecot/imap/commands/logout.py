"""LOGOUT: BYE, the tagged OK, and the connection ends (the server logs the logout line)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import ConnectionState
from ..protocol import commands as c
from ..protocol.responses import bye
from .common import ok

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Logout) -> None:
    session.send(bye("Logging out"))
    ok(session, cmd.tag, "Logout completed.")
    session.closing = True
    session.state = ConnectionState.LOGOUT
