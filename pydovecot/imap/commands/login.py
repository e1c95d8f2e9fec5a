"""LOGIN: username and password through SASL PLAIN, refused while plaintext auth is disabled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import commands as c
from .auth import PLAINTEXT_DISABLED, login_disabled, sasl
from .common import CommandFailed, fail

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Login) -> None:
    if login_disabled(session):
        fail(session, cmd.tag, PLAINTEXT_DISABLED)
        return
    if b"\0" in cmd.username or b"\0" in cmd.password:
        fail(session, cmd.tag, CommandFailed("Authentication failed.", "AUTHENTICATIONFAILED"))
        return
    await sasl(session, cmd.tag, "PLAIN", b"\0" + cmd.username + b"\0" + cmd.password)
