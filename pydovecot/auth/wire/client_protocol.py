"""The auth client protocol (server side), sans-I/O, as Dovecot 2.3.19's auth process speaks it.

    conn = ClientConnection(mechanisms=["PLAIN", "LOGIN"], mech_lines=[...], spid=123, cuid=1,
                            cookie=b"...16 bytes...")
    transport.write(conn.data_to_send())          # the handshake
    conn.receive_data(chunk)
    while (event := conn.next_event()) is not None:
        ...                                       # AuthBegin, AuthContinue, AuthCancel, ...
    conn.send_continue(7, b"Password:")
    conn.send_ok(7, "alice", fields)
    transport.write(conn.data_to_send())

A `ProtocolError` event means Dovecot would now drop the connection: the state machine is closed
and ignores anything further; the driver closes the socket. Some answers the protocol layer gives
by itself, without an event (they are what the request handler answers before any mechanism
runs): the FAIL for a CONT to an unknown id, for an unexpected CONT, for invalid base64.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydovecot.auth.mechanisms import str_sanitize
from pydovecot.auth.schemes.codec import base64_decode

from .fields import NO_FIELDS, AuthFields
from .linebuffer import LineBuffer, LineTooLong
from .tabescape import tab_escape, tab_unescape

PROTOCOL_MAJOR_VERSION = 1
PROTOCOL_MINOR_VERSION = 2
# AUTH_CLIENT_MAX_LINE_LENGTH: the input buffer; the longest line is one byte shorter.
MAX_LINE_LENGTH = 16384
# The FAIL reasons the request handler itself sends (exact texts of 2.3.19).
REASON_TIMED_OUT = "Authentication request timed out"
REASON_UNEXPECTED_CONT = "Unexpected continuation"
REASON_BAD_BASE64_INITIAL = "Invalid base64 data in initial response"
REASON_BAD_BASE64_CONT = "Invalid base64 data in continued response"


# --- events ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Handshake:
    """VERSION and CPID received: requests may follow."""

    client_pid: int
    minor_version: int


@dataclass(frozen=True)
class AuthBegin:
    id: int
    mechanism: str  # upper-cased, one of the configured mechanisms
    params: tuple[tuple[str, str], ...]  # every key=value before resp=, unescaped, in order
    initial_response: bytes | None  # decoded resp=; b"" for "resp=" and None without one

    def param(self, key: str) -> str | None:
        for k, v in self.params:
            if k == key:
                return v
        return None

    def flag(self, key: str) -> bool:
        return any(k == key for k, _ in self.params)

    @property
    def service(self) -> str:
        return self.param("service") or ""


@dataclass(frozen=True)
class AuthContinue:
    id: int
    data: bytes  # decoded


@dataclass(frozen=True)
class AuthCancel:
    id: int


@dataclass(frozen=True)
class RequestAborted:
    """The protocol layer failed a running request by itself (see module docstring): forget it."""

    id: int
    reason: str


@dataclass(frozen=True)
class ProtocolError:
    """Dovecot logs `message` as an error and disconnects."""

    message: str


ClientEvent = Handshake | AuthBegin | AuthContinue | AuthCancel | RequestAborted | ProtocolError


class ConnectionState(enum.Enum):
    AWAIT_VERSION = "await_version"
    AWAIT_CPID = "await_cpid"
    READY = "ready"
    CLOSED = "closed"


class RequestState(enum.Enum):
    BUSY = "busy"  # the mechanism or passdb is working: a CONT now is unexpected
    AWAIT_CONT = "await_cont"  # a CONT was sent: exactly one answer is accepted


def _uint(text: str) -> int | None:
    """str_to_uint: decimal digits only, no sign, no spaces, fits in 32 bits."""
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value < 2**32 else None


def _sanitize(line: str, limit: int = 80) -> str:
    return str_sanitize(line, limit)


@dataclass
class ClientConnection:
    mechanisms: Sequence[str]  # the configured mechanism names (upper case)
    mech_lines: Sequence[str]  # handshake MECH lines, without LF
    spid: int
    cuid: int
    cookie: bytes  # 16 random bytes, sent as hex
    max_line_length: int = MAX_LINE_LENGTH
    state: ConnectionState = ConnectionState.AWAIT_VERSION
    client_pid: int = 0
    requests: dict[int, RequestState] = field(default_factory=dict)
    _input: LineBuffer = field(init=False)
    _output: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._input = LineBuffer(self.max_line_length)
        self._mechs = {m.upper() for m in self.mechanisms}
        self._output.append(f"VERSION\t{PROTOCOL_MAJOR_VERSION}\t{PROTOCOL_MINOR_VERSION}")
        self._output.extend(self.mech_lines)
        self._output.extend([f"SPID\t{self.spid}", f"CUID\t{self.cuid}", f"COOKIE\t{self.cookie.hex()}", "DONE"])

    # --- input ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Buffer input; take the events out one at a time with `next_event()`."""
        if self.state is not ConnectionState.CLOSED:
            self._input.feed(data)

    def next_event(self) -> ClientEvent | None:
        """The next event, None when more data is needed (or the connection is closed).

        One line at a time, because how a line is answered depends on what the driver did with
        the previous one (a CONT is expected only after the driver sent CONT)."""
        while self.state is not ConnectionState.CLOSED:
            try:
                raw = self._input.next_line()
            except LineTooLong:
                return self._close(f"BUG: Auth client {self.client_pid} sent us more than "
                                   f"{self.max_line_length} bytes")
            if raw is None:
                return None
            event = self._handle_line(raw.decode("utf-8", "surrogateescape"))
            if event is not None:
                return event
        return None

    def _close(self, message: str) -> ProtocolError:
        self.state = ConnectionState.CLOSED
        self.requests.clear()
        return ProtocolError(message)

    def _handle_line(self, line: str) -> ClientEvent | None:
        if self.state is ConnectionState.AWAIT_VERSION:
            major = _uint(line[8:].split("\t", 1)[0]) if line.startswith("VERSION\t") else None
            if major != PROTOCOL_MAJOR_VERSION:
                return self._close("Authentication client not compatible with this server "
                                   "(mixed old and new binaries?)")
            self.state = ConnectionState.AWAIT_CPID
            return None
        if self.state is ConnectionState.AWAIT_CPID:
            if not line.startswith("CPID\t"):
                return self._close(f"BUG: Authentication client sent unknown handshake command: {_sanitize(line)}")
            pid = _uint(line[5:])
            if not pid:
                return self._close("BUG: Authentication client said it's PID 0")
            self.state = ConnectionState.READY
            # On an authenticate-only socket the pid is not needed and not remembered.
            return Handshake(pid, PROTOCOL_MINOR_VERSION)
        if line.startswith("AUTH\t"):
            return self._auth(line[5:])
        if line.startswith("CONT\t"):
            return self._cont(line[5:])
        if line.startswith("CANCEL\t"):
            request_id = _uint(line[7:])
            if request_id is None:
                return self._close("BUG: Authentication client sent broken CANCEL")
            if self.requests.pop(request_id, None) is None:
                return None
            return AuthCancel(request_id)
        return self._close(f"BUG: Authentication client sent unknown command: {_sanitize(line)}")

    def _auth(self, args: str) -> ClientEvent | None:
        parts = args.split("\t")
        request_id = _uint(parts[0])
        if len(parts) < 2 or request_id is None:
            return self._close(f"BUG: Authentication client {self.client_pid} sent broken AUTH request")
        mechanism = parts[1].upper()
        if mechanism not in self._mechs:
            return self._close(f"BUG: Authentication client {self.client_pid} requested unsupported "
                               f"authentication mechanism {_sanitize(parts[1], 64)}")
        params: list[tuple[str, str]] = []
        resp: str | None = None
        rest = parts[2:]
        for index, item in enumerate(rest):
            key, _, value = item.partition("=")
            if key == "resp":
                resp = value
                if index != len(rest) - 1:
                    return self._close(f"BUG: Authentication client {self.client_pid} "
                                       "sent AUTH parameters after 'resp'")
                break
            params.append((key, tab_unescape(value)))
        if not any(k == "service" for k, _ in params):
            return self._close(f"BUG: Authentication client {self.client_pid} didn't specify service in request")
        if request_id in self.requests:
            return self._close(f"BUG: Authentication client {self.client_pid} sent a duplicate ID {request_id}")
        initial: bytes | None = None
        # "resp=" is an empty initial response (2.3.19 hands the mechanism zero bytes).
        if resp is not None:
            initial = base64_decode(resp.encode("utf-8", "surrogateescape"))
            if initial is None:
                self._fail_line(request_id, REASON_BAD_BASE64_INITIAL, code="invalid_base64")
                return None
        self.requests[request_id] = RequestState.BUSY
        return AuthBegin(request_id, mechanism, tuple(params), initial)

    def _cont(self, args: str) -> ClientEvent | None:
        id_text, tab, data = args.partition("\t")
        request_id = _uint(id_text)
        if not tab or request_id is None:
            return self._close("BUG: Authentication client sent broken CONT request")
        state = self.requests.get(request_id)
        if state is None:
            self._output.append(f"FAIL\t{request_id}\treason={REASON_TIMED_OUT}")
            return None
        if state is not RequestState.AWAIT_CONT:
            del self.requests[request_id]
            self._fail_line(request_id, REASON_UNEXPECTED_CONT)
            return RequestAborted(request_id, REASON_UNEXPECTED_CONT)
        decoded = base64_decode(data.encode("utf-8", "surrogateescape"))
        if decoded is None:
            del self.requests[request_id]
            self._fail_line(request_id, REASON_BAD_BASE64_CONT, code="invalid_base64")
            return RequestAborted(request_id, REASON_BAD_BASE64_CONT)
        self.requests[request_id] = RequestState.BUSY
        return AuthContinue(request_id, decoded)

    def _fail_line(self, request_id: int, reason: str, code: str | None = None) -> None:
        code_part = f"\tcode={code}" if code else ""
        self._output.append(f"FAIL\t{request_id}{code_part}\treason={tab_escape(reason)}")

    # --- output ---------------------------------------------------------------------------

    def is_active(self, request_id: int) -> bool:
        return request_id in self.requests

    def send_continue(self, request_id: int, data: bytes) -> None:
        self.requests[request_id] = RequestState.AWAIT_CONT
        self._output.append(f"CONT\t{request_id}\t{base64.b64encode(data).decode()}")

    def send_ok(self, request_id: int, user: str, fields: AuthFields = NO_FIELDS,
                tail: Iterable[tuple[str, str]] = ()) -> None:
        """OK with the passdb's extra fields, then `tail` (original_user=, ...) as Dovecot adds them."""
        self.requests.pop(request_id, None)
        line = fields.append_to(f"OK\t{request_id}\tuser={tab_escape(user)}")
        self._output.append(line + "".join(f"\t{k}={tab_escape(v)}" for k, v in tail))

    def retire(self, request_id: int) -> None:
        """The request has failed and its FAIL waits for auth_failure_delay: from now on a CONT
        for it is answered as for an unknown id."""
        self.requests.pop(request_id, None)

    def send_fail(self, request_id: int, *, user: str | None = None, code: str | None = None,
                  reason: str | None = None, fields: AuthFields = NO_FIELDS,
                  tail: Iterable[tuple[str, str]] = ()) -> None:
        self.requests.pop(request_id, None)
        line = f"FAIL\t{request_id}"
        if user is not None:
            line += f"\tuser={tab_escape(user)}"
        if code is not None:
            line += f"\tcode={code}"
        if reason is not None:
            line += f"\treason={tab_escape(reason)}"
        line = fields.append_to(line) if fields else line
        self._output.append(line + "".join(f"\t{k}={tab_escape(v)}" for k, v in tail))

    def data_to_send(self) -> bytes:
        if not self._output:
            return b""
        out = "".join(line + "\n" for line in self._output)
        self._output.clear()
        return out.encode("utf-8", "surrogateescape")
