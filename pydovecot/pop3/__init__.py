"""POP3: the sans-I/O protocol core (protocol.py), the mail session (session.py), the server (server.py)."""

from __future__ import annotations

from pydovecot.pop3.protocol import (
    NEED_DATA,
    CheckApop,
    CheckPassword,
    Disconnect,
    LoginRefused,
    MessageExpunged,
    Pop3Connection,
    Pop3Event,
    Pop3Mailbox,
    Pop3ProtocolError,
    Pop3ProtocolSettings,
    Pop3State,
    Pop3Stats,
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
    "LoginRefused",
    "MessageExpunged",
    "Pop3Connection",
    "Pop3Event",
    "Pop3Mailbox",
    "Pop3ProtocolError",
    "Pop3ProtocolSettings",
    "Pop3State",
    "Pop3Stats",
    "Quit",
    "SaslAborted",
    "SaslResponse",
    "SaslStart",
    "StartTls",
]
