"""AUTHENTICATE with SASL-IR (RFC 4959): `=` is an empty initial response."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from ..protocol import commands as c
from .auth import sasl
from .common import CommandFailed, fail

if TYPE_CHECKING:
    from ..session import Session


async def run(session: Session, cmd: c.Authenticate) -> None:
    initial: bytes | None = None
    if cmd.initial_response is not None:
        if cmd.initial_response == b"=":
            initial = b""
        else:
            try:
                initial = base64.b64decode(cmd.initial_response, validate=True)
            except (binascii.Error, ValueError):
                fail(session, cmd.tag, CommandFailed("Invalid base64 data in initial response", status="BAD"))
                return
    await sasl(session, cmd.tag, cmd.mechanism, initial)
