"""The sans-I/O IMAP server protocol: bytes in, events out, replies to protocol errors queued.

The server layer feeds received bytes with `receive_data()`, pulls `next_event()` until None,
executes each `CommandReceived`, writes `data_to_send()` to the socket, and tells the core about
state changes (`state = ...`) before pulling the next event: commands are parsed lazily, so a
pipelined FETCH after SELECT is checked against the state SELECT left behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import responses
from .buffer import (
    DEFAULT_MAX_LINE_LENGTH,
    DEFAULT_MAX_LITERAL_SIZE,
    BadLiteral,
    CommandLine,
    ContinuationNeeded,
    LineTooLong,
    ReceiveBuffer,
)
from .commands import Command, Noop
from .errors import ImapProtocolError, Severity
from .parser import parse_command, split_tag
from .state import ConnectionState, check_command_state


@dataclass(frozen=True)
class CommandReceived:
    command: Command


@dataclass(frozen=True)
class CommandRejected:
    """A malformed or out-of-state command; its reply is already queued in `data_to_send()`."""

    error: ImapProtocolError
    reply: bytes


@dataclass(frozen=True)
class IdleDone:
    tag: bytes


@dataclass(frozen=True)
class SaslResponse:
    """A client's line answering an AUTHENTICATE challenge (base64, or `*` to cancel)."""

    tag: bytes
    data: bytes


@dataclass(frozen=True)
class ConnectionClosing:
    """The peer broke the protocol beyond recovery; send the queued BYE and close."""

    reason: str


Event = CommandReceived | CommandRejected | IdleDone | SaslResponse | ConnectionClosing


class ImapServerProtocol:
    def __init__(
        self,
        state: ConnectionState = ConnectionState.NOT_AUTHENTICATED,
        max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
        max_literal_size: int = DEFAULT_MAX_LITERAL_SIZE,
    ) -> None:
        self.state = state
        self._buffer = ReceiveBuffer(max_line_length, max_literal_size)
        self._outgoing = bytearray()
        self._idle_tag: bytes | None = None
        self._sasl_tag: bytes | None = None
        self._closing = False

    @property
    def bytes_scanned(self) -> int:
        return self._buffer.bytes_scanned

    @property
    def logged_in(self) -> bool:
        return self.state in (ConnectionState.AUTHENTICATED, ConnectionState.SELECTED)

    @property
    def max_literal_size(self) -> int:
        return self._buffer.max_literal_size

    @max_literal_size.setter
    def max_literal_size(self, value: int) -> None:
        """The server raises the limit after login (APPEND) and keeps it low before."""
        self._buffer.max_literal_size = value

    def receive_data(self, data: bytes) -> None:
        self._buffer.feed(data)

    def take_unconsumed(self) -> bytes:
        """Bytes received but not yet returned as events (pipelined after LOGIN)."""
        return self._buffer.take_all()

    def data_to_send(self) -> bytes:
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def start_idle(self, tag: bytes) -> None:
        """The server accepted IDLE: send `+ idling` and wait for DONE."""
        self._idle_tag = tag
        self._outgoing += responses.continuation(responses.CONTINUE_IDLE)

    def start_sasl(self, tag: bytes, challenge: bytes) -> None:
        """AUTHENTICATE goes on: send `+ challenge`; the next line is the client's response."""
        self._sasl_tag = tag
        self._outgoing += b"+ " + challenge + responses.CRLF

    def next_event(self) -> Event | None:
        if self._closing:
            return None
        event = self._buffer.next_event()
        if event is None:
            return None
        if isinstance(event, ContinuationNeeded):
            self._outgoing += responses.continuation()
            return self.next_event()
        if isinstance(event, LineTooLong):
            return self._line_too_long(event.prefix)
        if isinstance(event, BadLiteral):
            return self._bad_literal(event)
        assert isinstance(event, CommandLine)
        if self._idle_tag is not None:
            return self._idle_line(event.raw)
        if self._sasl_tag is not None:
            tag, self._sasl_tag = self._sasl_tag, None
            return SaslResponse(tag, event.raw)
        return self._command_line(event.raw)

    def _command_line(self, raw: bytes) -> Event:
        tag, name, _ = split_tag(raw)
        if tag is not None and name is not None:
            display = name.decode("ascii")
            if name == b"UID":
                parts = raw.split(b" ", 3)
                if len(parts) > 2:
                    display = "UID " + parts[2].decode("ascii", "replace").upper()
            wrong_state = check_command_state(display, self.state)
            if wrong_state is not None:
                return self._reject(wrong_state.with_context(tag, display))
        try:
            command = parse_command(raw)
        except ImapProtocolError as error:
            return self._reject(error)
        return CommandReceived(command)

    def _idle_line(self, raw: bytes) -> Event:
        tag = self._idle_tag
        assert tag is not None
        self._idle_tag = None
        if raw.upper() == b"DONE":
            return IdleDone(tag)
        return self._reject(ImapProtocolError("Expected DONE", tag, "IDLE", prefixed=False))

    def _line_too_long(self, prefix: bytes) -> Event:
        if not self.logged_in:
            return self._close(responses.INPUT_BUFFER_FULL)
        tag, name, _ = split_tag(prefix)
        if name == b"NOOP" and tag is not None:
            return CommandReceived(Noop(tag))  # Dovecot skips NOOP's arguments without reading them
        command = name.decode("ascii") if name is not None else None
        return self._reject(ImapProtocolError("Too long argument", tag, command))

    def _bad_literal(self, event: BadLiteral) -> Event:
        if event.too_large:
            return self._close(responses.LITERAL_TOO_LARGE)
        tag, name, _ = split_tag(event.prefix)
        command = name.decode("ascii") if name is not None else None
        return self._reject(ImapProtocolError("Invalid literal size", tag, command, lexical=True))

    def _reject(self, error: ImapProtocolError) -> CommandRejected:
        reply = responses.error_reply(error, self.logged_in)
        self._outgoing += reply
        return CommandRejected(error, reply)

    def _close(self, reason: str) -> ConnectionClosing:
        self._closing = True
        self._outgoing += responses.error_reply(
            ImapProtocolError(reason, severity=Severity.BYE), self.logged_in
        )
        return ConnectionClosing(reason)
