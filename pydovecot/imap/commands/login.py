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
        # Dovecot's imap-login: the password already crossed the wire, so it says so first,
        # and the refusal counts as an attempt ("auth failed, 1 attempts" at disconnect).
        session.send(b"* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did "
                     b"it anyway. If anyone was listening, the password was exposed.\r\n")
        session.auth_attempts += 1
        fail(session, cmd.tag, PLAINTEXT_DISABLED)
        return
    if b"\0" in cmd.username or b"\0" in cmd.password:
        fail(session, cmd.tag, CommandFailed("Authentication failed.", "AUTHENTICATIONFAILED"))
        return
    await sasl(session, cmd.tag, "PLAIN", b"\0" + cmd.username + b"\0" + cmd.password)
