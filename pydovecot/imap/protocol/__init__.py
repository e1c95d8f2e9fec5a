"""The IMAP protocol core, without I/O: bytes in, typed commands and events out.

`ImapServerProtocol` (core.py) is the entry point for the server layer; `ReceiveBuffer` frames
lines and literals, `parse_command` turns one framed line into a command from `commands`,
`responses` writes replies, `state` holds which command is valid in which state.
"""

from __future__ import annotations

from .buffer import ReceiveBuffer
from .core import (
    CommandReceived,
    CommandRejected,
    ConnectionClosing,
    Event,
    IdleDone,
    ImapServerProtocol,
    SaslResponse,
)
from .errors import ImapProtocolError, Severity
from .parser import parse_command
from .state import ConnectionState, check_command_state

__all__ = [
    "CommandReceived",
    "CommandRejected",
    "ConnectionClosing",
    "ConnectionState",
    "Event",
    "IdleDone",
    "ImapProtocolError",
    "ImapServerProtocol",
    "ReceiveBuffer",
    "SaslResponse",
    "Severity",
    "check_command_state",
    "parse_command",
]
