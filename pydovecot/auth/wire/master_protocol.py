"""The auth master/userdb protocol (server side), sans-I/O, as Dovecot 2.3.19 speaks it.

`auth-master` accepts USER, PASS, LIST, REQUEST and CACHE-FLUSH; `auth-userdb`
(`userdb_only=True`) only USER, PASS and LIST. Anything else, a malformed line, a line of
1024 bytes or more, or a first line that is not `VERSION\\t1\\t...` is a `ProtocolError`: the
driver closes the connection. While a LIST runs, Dovecot stops reading the socket, so lines that
arrive in later reads wait until `send_list_done`; the driver then asks `next_event()` again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pydovecot.auth.mechanisms import str_sanitize

from .client_protocol import ProtocolError  # one event type: Dovecot drops the connection
from .fields import AuthFields
from .linebuffer import LineBuffer, LineTooLong
from .tabescape import tab_escape, tab_unescape

PROTOCOL_MAJOR_VERSION = 1
PROTOCOL_MINOR_VERSION = 1
MAX_LINE_LENGTH = 1024  # MAX_INBUF_SIZE of auth-master-connection.c
COOKIE_SIZE = 16


@dataclass(frozen=True)
class UserLookup:
    id: int
    user: str  # as sent; the service applies the username rules (failure -> NOTFOUND)
    params: tuple[tuple[str, str], ...]

    @property
    def service(self) -> str:
        return dict(self.params).get("service", "")


@dataclass(frozen=True)
class PassLookup:
    """A passdb lookup without a password (doveadm auth lookup, LDA's proxy checks)."""

    id: int
    user: str
    params: tuple[tuple[str, str], ...]

    @property
    def service(self) -> str:
        return dict(self.params).get("service", "")


@dataclass(frozen=True)
class ListUsers:
    id: int
    user_mask: str | None  # user=<mask>; Dovecot hands it to the userdb, which may ignore it
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LoginRequest:
    """REQUEST: a post-login process picks up a login's successful authentication."""

    id: int
    client_pid: int
    client_id: int
    cookie: bytes
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CacheFlush:
    id: str  # echoed verbatim: Dovecot does not parse it
    users: tuple[str, ...]


MasterEvent = UserLookup | PassLookup | ListUsers | LoginRequest | CacheFlush | ProtocolError


class MasterState(enum.Enum):
    AWAIT_VERSION = "await_version"
    READY = "ready"
    CLOSED = "closed"


def _uint(text: str) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value < 2**32 else None


def _params(items: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        key, _, value = item.partition("=")
        out.append((key, tab_unescape(value)))
    return tuple(out)


@dataclass
class MasterConnection:
    spid: int
    userdb_only: bool = False  # auth-userdb instead of auth-master
    max_line_length: int = MAX_LINE_LENGTH
    state: MasterState = MasterState.AWAIT_VERSION
    listing: int | None = None  # the id of the running LIST
    _input: LineBuffer = field(init=False)
    _output: list[str] = field(default_factory=list, init=False)
    _held: bytearray = field(default_factory=bytearray, init=False)

    def __post_init__(self) -> None:
        self._input = LineBuffer(self.max_line_length)
        self._output.append(f"VERSION\t{PROTOCOL_MAJOR_VERSION}\t{PROTOCOL_MINOR_VERSION}")
        self._output.append(f"SPID\t{self.spid}")

    @property
    def socket_kind(self) -> str:
        return "userdb" if self.userdb_only else "master"

    # --- input ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Buffer input; take the events out one at a time with `next_event()`."""
        if self.state is MasterState.CLOSED:
            return
        if self.listing is not None:
            self._held += data  # Dovecot does not read the socket while it iterates
        else:
            self._input.feed(data)

    def next_event(self) -> MasterEvent | None:
        while self.state is not MasterState.CLOSED:
            try:
                raw = self._input.next_line()
            except LineTooLong:
                return self._close(f"BUG: Master sent us more than {self.max_line_length} bytes")
            if raw is None:
                return None
            event = self._handle_line(raw.decode("utf-8", "surrogateescape"))
            if event is not None:
                return event
        return None

    def _close(self, message: str) -> ProtocolError:
        self.state = MasterState.CLOSED
        return ProtocolError(message)

    def _handle_line(self, line: str) -> MasterEvent | None:
        if self.state is MasterState.AWAIT_VERSION:
            major = _uint(line[8:].split("\t", 1)[0]) if line.startswith("VERSION\t") else None
            if major != PROTOCOL_MAJOR_VERSION:
                return self._close("Master not compatible with this server (mixed old and new binaries?)")
            self.state = MasterState.READY
            return None
        command, _, args = line.partition("\t")
        if _ and command in ("USER", "PASS"):
            return self._lookup(command, args)
        if _ and command == "LIST":
            return self._list(args)
        if _ and not self.userdb_only:
            if command == "REQUEST":
                return self._request(args)
            if command == "CACHE-FLUSH":
                parts = args.split("\t")
                return CacheFlush(parts[0], tuple(parts[1:]))
            if command == "CPID":
                return self._close("Authentication client trying to connect to master socket")
        return self._close(f"BUG: Unknown command in {self.socket_kind} socket: {str_sanitize(line, 80)}")

    def _lookup(self, command: str, args: str) -> MasterEvent:
        parts = args.split("\t")
        request_id = _uint(parts[0])
        if len(parts) < 2 or request_id is None:
            return self._close(f"BUG: Master sent broken {command}")
        params = _params(parts[2:])
        if not any(k == "service" for k, _ in params):
            return self._close(f"BUG: Master sent {command} request without service")
        cls = UserLookup if command == "USER" else PassLookup
        return cls(request_id, parts[1], params)

    def _list(self, args: str) -> MasterEvent | None:
        parts = args.split("\t")
        request_id = _uint(parts[0])
        if request_id is None:
            return self._close("BUG: Master sent broken LIST")
        if self.listing is not None:
            self._output.append(f"DONE\t{request_id}\tfail")
            return None
        params = _params(parts[1:])
        mask = next((v for k, v in params if k == "user"), None)
        self.listing = request_id
        return ListUsers(request_id, mask, params)

    def _request(self, args: str) -> MasterEvent:
        parts = args.split("\t")
        numbers = [_uint(p) for p in parts[:3]]
        if len(parts) < 4 or None in numbers:
            return self._close("BUG: Master sent broken REQUEST")
        try:
            cookie = bytes.fromhex(parts[3])
        except ValueError:
            return self._close("BUG: Master sent broken REQUEST cookie")
        request_id, client_pid, client_id = (n for n in numbers if n is not None)
        return LoginRequest(request_id, client_pid, client_id, cookie, _params(parts[4:]))

    # --- output ---------------------------------------------------------------------------

    def send_user(self, request_id: int, user: str, fields: AuthFields) -> None:
        # Dovecot always writes the TAB after the user name, even with no fields.
        self._output.append(f"USER\t{request_id}\t{tab_escape(user)}\t{fields.visible()}")

    def send_pass(self, request_id: int, user: str, fields: AuthFields) -> None:
        self._output.append(fields.append_to(f"PASS\t{request_id}\tuser={tab_escape(user)}"))

    def send_notfound(self, request_id: int) -> None:
        self._output.append(f"NOTFOUND\t{request_id}")

    def send_fail(self, request_id: int, reason: str | None = None) -> None:
        self._output.append(f"FAIL\t{request_id}" + (f"\treason={reason}" if reason else ""))

    def send_list_user(self, request_id: int, user: str) -> None:
        self._output.append(f"LIST\t{request_id}\t{tab_escape(user)}")

    def send_list_done(self, request_id: int, failed: bool = False) -> None:
        self._output.append(f"DONE\t{request_id}\t{'fail' if failed else ''}")
        if self.listing == request_id:
            self.listing = None
            self._input.feed(bytes(self._held))
            self._held.clear()

    def send_cache_flushed(self, request_id: str, count: int) -> None:
        self._output.append(f"OK\t{request_id}\t{count}")

    def data_to_send(self) -> bytes:
        if not self._output:
            return b""
        out = "".join(line + "\n" for line in self._output)
        self._output.clear()
        return out.encode("utf-8", "surrogateescape")
