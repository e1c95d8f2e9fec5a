"""POP3: the sans-I/O protocol core (protocol.py); the session and server come later."""

from __future__ import annotations

from pydovecot.pop3.protocol import (
    NEED_DATA,
    CheckApop,
    CheckPassword,
    Disconnect,
    Pop3Connection,
    Pop3Event,
    Pop3Mailbox,
    Pop3ProtocolError,
    Pop3ProtocolSettings,
    Pop3State,
    Quit,
    SaslAborted,
    SaslResponse,
    SaslStart,
    StartTls,
)

__all__ = [
    "NEED_DATA",
    "CheckApop",
    "CheckPassword",
    "Disconnect",
    "Pop3Connection",
    "Pop3Event",
    "Pop3Mailbox",
    "Pop3ProtocolError",
    "Pop3ProtocolSettings",
    "Pop3State",
    "Quit",
    "SaslAborted",
    "SaslResponse",
    "SaslStart",
    "StartTls",
]
