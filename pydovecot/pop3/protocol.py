"""The POP3 wire protocol for one connection, without any I/O (h11-style).

Feed received bytes with :meth:`Pop3Connection.receive_data`, pull events with
:meth:`Pop3Connection.next_event` and write out :meth:`Pop3Connection.data_to_send`.
The core answers everything it can decide alone (CAPA, STAT, LIST, RETR, ...) straight into
the outgoing buffer; only what needs the outside world becomes an event: credentials to check,
SASL exchanges, STLS, QUIT with its deletions, and disconnects.

While an event waits for its answer (for example ``login_succeeded``), no further pipelined
line is processed, so replies always leave in command order.

Reply texts are those of Dovecot 2.3.19: the login phase (Dovecot's pop3-login process) and the
mail session (its pop3 process) word some replies differently, and both are reproduced.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass, field
from typing import Protocol

# Dovecot's pop3-login drops a client at its third unknown command; the pop3 process allows 20.
LOGIN_MAX_BAD_COMMANDS = 3
SESSION_MAX_BAD_COMMANDS = 20
# A POP3 command line is short (RFC 1939 limits it to 255 octets); we are generous but bounded.
MAX_LINE_LENGTH = 65536
# next_event() pauses while this much output waits, so pipelined RETRs cannot fill memory
OUTPUT_HIGH_WATER = 1 << 20

INACTIVITY_REPLY = b"-ERR Disconnected for inactivity.\r\n"
AUTH_FAILED_TEXT = "[AUTH] Authentication failed."
PLAINTEXT_DISALLOWED_TEXT = "[AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
PLAINTEXT_DISABLED_TEXT = "[AUTH] Plaintext authentication disabled."


class Pop3State(enum.Enum):
    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"
    CLOSED = "CLOSED"


class Pop3ProtocolError(Exception):
    """The client broke the protocol in a way that ends the connection (e.g. an endless line)."""


class MessageExpunged(LookupError):
    """Raised by Pop3Mailbox.message_bytes when another process expunged the message meanwhile."""


class Pop3Mailbox(Protocol):
    """The view of a mailbox the POP3 core needs; message numbers here are 0-based indexes."""

    def message_count(self) -> int: ...

    def message_size(self, index: int) -> int:
        """The size as sent on the wire (CRLF line endings), as Dovecot's virtual size."""
        ...

    def message_uidl(self, index: int) -> str: ...

    def message_bytes(self, index: int) -> bytes:
        """The raw message; LF or CRLF line endings are both accepted."""
        ...


@dataclass(frozen=True)
class Pop3ProtocolSettings:
    greeting: str = "Dovecot ready."  # login_greeting
    sasl_mechanisms: tuple[str, ...] = ("PLAIN",)
    plaintext_auth_allowed: bool = True  # disable_plaintext_auth = no, or the connection is secured
    tls_available: bool = False
    enable_last: bool = False  # pop3_enable_last
    apop_challenge: str | None = None  # "<pid.time@host>" when APOP is offered
    tls_active: bool = False  # after STLS (or on a pop3s listener): a second STLS is refused
    # mechanisms sending the password in the clear: hidden and refused while plaintext is not allowed
    plaintext_mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")
    # pop3_client_workarounds, split: "outlook-no-nuls", "oe-ns-eoh" (see apply_workarounds)
    workarounds: frozenset[str] = frozenset()

    def offered_mechanisms(self) -> tuple[str, ...]:
        if self.plaintext_auth_allowed:
            return self.sasl_mechanisms
        return tuple(m for m in self.sasl_mechanisms if m not in self.plaintext_mechanisms)


@dataclass
class Pop3Stats:
    """What pop3_logout_format reports: %t/%p (TOP), %r/%b (RETR). Bytes are the status line plus
    the dot-stuffed body, without the final ".\r\n", as Dovecot counts them."""

    top_count: int = 0
    top_bytes: int = 0
    retr_count: int = 0
    retr_bytes: int = 0


# ---- events: what the core needs the outside world to do ------------------------------------


@dataclass(frozen=True)
class CheckPassword:
    """USER/PASS: verify; answer with login_succeeded() or login_failed()."""

    user: str
    password: str


@dataclass(frozen=True)
class CheckApop:
    user: str
    digest: str


@dataclass(frozen=True)
class SaslStart:
    """AUTH: answer with sasl_challenge(), login_succeeded() or login_failed()."""

    mechanism: str
    initial_response: bytes | None


@dataclass(frozen=True)
class SaslResponse:
    data: bytes


@dataclass(frozen=True)
class SaslAborted:
    """The client sent '*': the core already replied; the SASL exchange must be dropped."""


@dataclass(frozen=True)
class LoginRefused:
    """The core refused a login attempt itself (already answered): only the login log cares.

    ``reason`` is "plaintext" (USER/PASS without TLS, counted as a failed attempt),
    "plaintext_mechanism" (a plaintext SASL mechanism without TLS) or "unsupported_mechanism"."""

    reason: str
    user: str | None = None
    mechanism: str | None = None


@dataclass(frozen=True)
class StartTls:
    """STLS was accepted (+OK is queued): start TLS once that reply is flushed, then call tls_started()."""


@dataclass(frozen=True)
class Quit:
    """QUIT in TRANSACTION: expunge ``deleted`` and mark ``seen`` (RETR'd, not deleted) as \\Seen.

    Indexes are 0-based; the reply is already queued."""

    deleted: tuple[int, ...]
    seen: tuple[int, ...] = ()


@dataclass(frozen=True)
class Disconnect:
    """Close the connection once data_to_send() is flushed."""

    reason: str


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()
Pop3Event = (CheckPassword | CheckApop | SaslStart | SaslResponse | SaslAborted | LoginRefused | StartTls | Quit
             | Disconnect)


# ---- output formatting ---------------------------------------------------------------------


def format_line(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape") + b"\r\n"


def dot_stuff(data: bytes) -> bytes:
    """Message data as a multi-line body: CRLF endings, leading dots doubled, no terminator.

    Whole-buffer replaces instead of a loop over lines: RETR of big messages stays fast."""
    if not data:
        return b""
    if not data.endswith(b"\n"):
        data += b"\n"  # the terminator needs a line of its own
    text = data.replace(b"\r\n", b"\n")
    text = text.replace(b"\n.", b"\n..")
    if text.startswith(b"."):
        text = b"." + text
    return text.replace(b"\n", b"\r\n")


def parse_workarounds(text: str) -> frozenset[str]:
    """``pop3_client_workarounds``: names separated by spaces or commas."""
    return frozenset(text.replace(",", " ").split())


def _has_header_end(data: bytes) -> bool:
    """Dovecot's test while streaming a message: a CR or LF at the start of a line."""
    return data[:1] in (b"\r", b"\n") or b"\n\n" in data or b"\n\r" in data


def apply_workarounds(body: bytes, sent: bytes, workarounds: frozenset[str]) -> bytes:
    """The dot-stuffed ``body`` of RETR/TOP as Dovecot sends it to buggy clients.

    outlook-no-nuls: every NUL becomes 0x80 (Outlook stops reading at a NUL).
    oe-ns-eoh: a message whose header never ends (no empty line) gets one, since
    Outlook Express and Netscape otherwise take the whole message for its header.
    ``sent`` is the raw message part that was sent (before stuffing)."""
    if "outlook-no-nuls" in workarounds:
        body = body.replace(b"\0", b"\x80")
    if "oe-ns-eoh" in workarounds and not _has_header_end(sent):
        body += b"\r\n"
    return body


def format_multiline(first: str, body: bytes) -> bytes:
    """A multi-line reply: status line, dot-stuffed body, then the lone-dot terminator."""
    return format_line(first) + body + b".\r\n"


def top_of_message(data: bytes, body_lines: int) -> bytes:
    """The header, the blank line after it, and the first body_lines lines of the body."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for end, line in enumerate(lines):
        if line in (b"", b"\r"):
            return b"\n".join(lines[: end + 1 + body_lines]) + b"\n"
    return data


# ---- the connection state machine -------------------------------------------------------------


@dataclass
class _Command:
    name: str  # as the client spelled it
    args: str  # everything after the first space, untouched


def _split_command(line: str) -> _Command:
    name, _, args = line.partition(" ")
    return _Command(name, args)


class _ArgumentError(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass
class Pop3Connection:
    settings: Pop3ProtocolSettings = field(default_factory=Pop3ProtocolSettings)
    state: Pop3State = Pop3State.AUTHORIZATION
    mailbox: Pop3Mailbox | None = None

    def __post_init__(self) -> None:
        self._inbuf = bytearray()
        self._scanned = 0  # bytes of _inbuf already known to hold no LF (keeps receive linear)
        self._outbuf = bytearray()
        self._events: list[Pop3Event] = []
        self._waiting = False  # an event awaits the caller's answer
        self._in_sasl = False
        self._user: str | None = None
        self._bad_commands = 0
        self._deleted: set[int] = set()
        self._last_retrieved = 0
        self._retrieved: set[int] = set()
        self._closing = False
        self.stats = Pop3Stats()

    # -- I/O boundary --

    def greeting(self) -> bytes:
        text = f"+OK {self.settings.greeting}"
        if self.settings.apop_challenge:
            text += f" {self.settings.apop_challenge}"
        return format_line(text)

    def receive_data(self, data: bytes) -> None:
        self._inbuf += data

    def take_unconsumed(self) -> bytes:
        """Input not yet read as commands (pipelined after PASS): a login process passes it on."""
        data = bytes(self._inbuf)
        self._inbuf.clear()
        self._scanned = 0
        return data

    def resume_login(self, pending: bytes) -> None:
        """In a mail process: the login process asked auth, the answer is ours to give
        (``login_succeeded`` / ``login_failed``); ``pending`` is what the client sent after."""
        self._waiting = True
        self._inbuf = bytearray(pending)
        self._scanned = 0

    def data_to_send(self) -> bytes:
        out = bytes(self._outbuf)
        self._outbuf.clear()
        return out

    @property
    def deleted_indexes(self) -> tuple[int, ...]:
        return tuple(sorted(self._deleted))

    @property
    def output_backlogged(self) -> bool:
        """Input is left unprocessed until data_to_send() is drained: call next_event() again then."""
        return len(self._outbuf) >= OUTPUT_HIGH_WATER

    def pending_read_size(self) -> int | None:
        """Message bytes that answering the buffered input would read from the mailbox.

        0 when it reads none; None when that is not known to be small: outside TRANSACTION,
        more than one command waiting (pipelining), or a command that may touch storage in
        other ways (UIDL, QUIT). The server answers what is known to be cheap on its event loop
        instead of handing it to a worker thread: a thread round trip per command costs more
        than reading a small message file."""
        if self.state is not Pop3State.TRANSACTION or self._in_sasl or self._events or self._waiting:
            return None
        newline = self._inbuf.find(b"\n", self._scanned)
        if newline < 0:
            return 0
        if newline != len(self._inbuf) - 1:
            return None
        name, _, args = bytes(self._inbuf).rstrip(b"\r\n").partition(b" ")
        name = name.upper()
        if name in _NO_READ_COMMANDS:
            return 0
        if name not in (b"RETR", b"TOP"):
            return None
        digits = len(args) - len(args.lstrip(b"0123456789"))
        number = int(args[:digits]) if digits else 0
        if not 0 < number <= self._box.message_count():
            return 0  # an error reply
        return self._box.message_size(number - 1)

    def inactivity_timeout(self) -> Disconnect:
        self._send_raw(INACTIVITY_REPLY)
        return self._close("inactivity")

    def next_event(self) -> Pop3Event | _NeedData:
        while not self._events:
            if self._waiting or self._closing or self.output_backlogged:
                return NEED_DATA
            line = self._next_line()
            if line is None:
                return NEED_DATA
            self._handle_line(line)
        return self._events.pop(0)

    # -- answers to events --

    def login_succeeded(self, mailbox: Pop3Mailbox) -> None:
        self._require_waiting()
        self.mailbox = mailbox
        self.state = Pop3State.TRANSACTION
        self._in_sasl = False
        self._waiting = False
        self._bad_commands = 0
        self._send("+OK Logged in.")

    def login_failed(self, text: str = AUTH_FAILED_TEXT) -> None:
        self._require_waiting()
        self._in_sasl = False
        self._waiting = False
        self._user = None
        self._send(f"-ERR {text}")

    def sasl_challenge(self, data: bytes) -> None:
        self._require_waiting()
        self._waiting = False
        self._send("+ " + base64.b64encode(data).decode("ascii"))

    def tls_started(self) -> None:
        self._require_waiting()
        self._waiting = False
        # whatever arrived in the clear after STLS must not be read as if it came over TLS
        self._inbuf.clear()
        self._scanned = 0

    # -- internals --

    def _require_waiting(self) -> None:
        if not self._waiting:
            raise RuntimeError("no POP3 event is waiting for an answer")

    def _next_line(self) -> str | None:
        newline = self._inbuf.find(b"\n", self._scanned)
        if newline < 0:
            self._scanned = len(self._inbuf)
            if self._scanned > MAX_LINE_LENGTH:
                raise Pop3ProtocolError("command line too long")
            return None
        raw = bytes(self._inbuf[:newline])
        del self._inbuf[: newline + 1]
        self._scanned = 0
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return raw.decode("utf-8", "surrogateescape")

    def _send(self, text: str) -> None:
        self._outbuf += format_line(text)

    def _send_raw(self, data: bytes) -> None:
        self._outbuf += data

    def _emit(self, event: Pop3Event, *, wait: bool = True) -> None:
        self._events.append(event)
        self._waiting = wait

    def _close(self, reason: str) -> Disconnect:
        self._closing = True
        self.state = Pop3State.CLOSED
        return Disconnect(reason)

    def _handle_line(self, line: str) -> None:
        if self._in_sasl:
            self._handle_sasl_line(line)
        elif self.state is Pop3State.AUTHORIZATION:
            self._handle_login_command(_split_command(line))
        elif self.state is Pop3State.TRANSACTION:
            self._handle_session_command(_split_command(line))

    # AUTHORIZATION (Dovecot's pop3-login)

    def _login_bad_command(self) -> None:
        self._send("-ERR Unknown command.")
        self._bad_commands += 1
        if self._bad_commands >= LOGIN_MAX_BAD_COMMANDS:
            self._send("-ERR Too many invalid bad commands.")
            self._emit(self._close("too many bad commands"), wait=False)

    def _handle_login_command(self, command: _Command) -> None:
        name = command.name.upper()
        settings = self.settings
        if name == "CAPA":
            capabilities = ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
            if settings.tls_available and not settings.tls_active:
                capabilities.append("STLS")
            if settings.plaintext_auth_allowed:
                capabilities.append("USER")
            capabilities.append(" ".join(["SASL", *settings.offered_mechanisms()]))
            body = "".join(f"{c}\r\n" for c in capabilities).encode()
            self._send_raw(format_multiline("+OK", body))
        elif name in ("USER", "PASS") and not settings.plaintext_auth_allowed:
            self._send(f"-ERR {PLAINTEXT_DISALLOWED_TEXT}")
            user = command.args if name == "USER" else None
            self._emit(LoginRefused("plaintext", user=user), wait=False)
        elif name == "USER":
            self._user = command.args
            self._send("+OK")
        elif name == "PASS":
            if self._user is None:
                self._send("-ERR No username given.")
            else:
                self._emit(CheckPassword(self._user, command.args))
        elif name == "APOP":
            if settings.apop_challenge is None:
                self._send("-ERR APOP not enabled.")
            else:
                user, _, digest = command.args.rpartition(" ")
                self._emit(CheckApop(user, digest))
        elif name == "AUTH":
            self._start_sasl(command.args)
        elif name == "STLS":
            if settings.tls_active:
                self._send("-ERR TLS is already active.")
            elif not settings.tls_available:
                self._send("-ERR TLS support isn't enabled.")
            else:
                self._send("+OK Begin TLS negotiation now.")
                self._emit(StartTls())
        elif name == "QUIT":
            self._send("+OK Logging out")
            self._emit(self._close("quit"), wait=False)
        else:
            self._login_bad_command()
            return
        self._bad_commands = 0  # as in the session: only consecutive unknown commands count

    def _start_sasl(self, args: str) -> None:
        if args == "":
            body = "".join(f"{m}\r\n" for m in self.settings.offered_mechanisms()).encode()
            self._send_raw(format_multiline("+OK", body))
            return
        mechanism, _, initial = args.partition(" ")
        if mechanism.upper() not in self.settings.sasl_mechanisms:
            self._send("-ERR [AUTH] Unsupported authentication mechanism.")
            self._emit(LoginRefused("unsupported_mechanism", mechanism=mechanism.upper()), wait=False)
            return
        if mechanism.upper() not in self.settings.offered_mechanisms():
            self._send(f"-ERR {PLAINTEXT_DISABLED_TEXT}")
            self._emit(LoginRefused("plaintext_mechanism", mechanism=mechanism.upper()), wait=False)
            return
        initial_response: bytes | None = None
        if initial != "":
            try:
                # "=" alone is RFC 5034's empty initial response
                initial_response = b"" if initial == "=" else base64.b64decode(initial, validate=True)
            except (binascii.Error, ValueError):
                self._send("-ERR [AUTH] Invalid base64 data in initial response")
                return
        self._in_sasl = True
        self._emit(SaslStart(mechanism.upper(), initial_response))

    def _handle_sasl_line(self, line: str) -> None:
        if line == "*":
            self._in_sasl = False
            self._send("-ERR Authentication aborted by client.")
            self._emit(SaslAborted(), wait=False)
            return
        try:
            data = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            self._in_sasl = False
            self._send("-ERR [AUTH] Invalid base64 data in continued response")
            self._emit(SaslAborted(), wait=False)
            return
        self._emit(SaslResponse(data))

    # TRANSACTION (Dovecot's pop3 process)

    def _handle_session_command(self, command: _Command) -> None:
        handler = _SESSION_COMMANDS.get(command.name.upper())
        if handler is None or (handler is Pop3Connection._cmd_last and not self.settings.enable_last):
            self._session_error(f"Unknown command: {command.name}")
            return
        try:
            handler(self, command.args)
        except _ArgumentError as error:
            self._session_error(error.reply)
        else:
            # Dovecot counts consecutive failures only: any command that succeeds forgives them
            self._bad_commands = 0

    def _session_error(self, text: str) -> None:
        self._send(f"-ERR {text}")
        self._bad_commands += 1
        if self._bad_commands > SESSION_MAX_BAD_COMMANDS:
            self._send("-ERR Too many bad commands.")
            self._emit(self._close("too many bad commands"), wait=False)

    @property
    def _box(self) -> Pop3Mailbox:
        assert self.mailbox is not None
        return self.mailbox

    def _message_number(self, args: str, *, last: bool) -> tuple[int, str]:
        """Parse a message number; return its 0-based index and the arguments after it."""
        digits = len(args) - len(args.lstrip("0123456789"))
        if digits == 0 or not args[:digits].isascii():
            raise _ArgumentError(f"Invalid message number: {args}")
        number = int(args[:digits])
        if number >= 2**32:  # Dovecot parses into an unsigned int and refuses what overflows
            raise _ArgumentError(f"Invalid message number: {args}")
        rest = args[digits:]
        if number == 0 or number > self._box.message_count():
            raise _ArgumentError(f"There's no message {number}.")
        if number - 1 in self._deleted:
            raise _ArgumentError("Message is deleted.")
        if (last and rest != "") or (not last and not rest.startswith(" ")):
            raise _ArgumentError(f"Noise after message number: {rest}")
        return number - 1, rest.lstrip(" ")

    def _live_indexes(self) -> list[int]:
        return [i for i in range(self._box.message_count()) if i not in self._deleted]

    def _cmd_capa(self, args: str) -> None:
        capabilities = ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
        body = "".join(f"{c}\r\n" for c in capabilities).encode()
        self._send_raw(format_multiline("+OK", body))

    def _cmd_stat(self, args: str) -> None:
        live = self._live_indexes()
        self._send(f"+OK {len(live)} {sum(self._box.message_size(i) for i in live)}")

    def _cmd_list(self, args: str) -> None:
        if args == "":
            live = self._live_indexes()
            body = "".join(f"{i + 1} {self._box.message_size(i)}\r\n" for i in live).encode()
            self._send_raw(format_multiline(f"+OK {len(live)} messages:", body))
            return
        index, _ = self._message_number(args, last=True)
        self._send(f"+OK {index + 1} {self._box.message_size(index)}")

    def _cmd_uidl(self, args: str) -> None:
        if args == "":
            body = "".join(f"{i + 1} {self._box.message_uidl(i)}\r\n" for i in self._live_indexes())
            self._send_raw(format_multiline("+OK", body.encode()))
            return
        index, _ = self._message_number(args, last=True)
        self._send(f"+OK {index + 1} {self._box.message_uidl(index)}")

    def _message_data(self, index: int) -> bytes:
        try:
            return self._box.message_bytes(index)
        except MessageExpunged:
            # Dovecot's wording; the failure counts as a bad command, so a client retrying
            # the same vanished message forever is eventually disconnected
            raise _ArgumentError(f"Message {index + 1} expunged.") from None

    def _send_message(self, first: str, body: bytes) -> int:
        status = format_line(first)
        self._send_raw(status + body + b".\r\n")
        return len(status) + len(body)

    def _cmd_retr(self, args: str) -> None:
        index, _ = self._message_number(args, last=True)
        data = self._message_data(index)
        self._last_retrieved = max(self._last_retrieved, index + 1)
        self._retrieved.add(index)
        body = apply_workarounds(dot_stuff(data), data, self.settings.workarounds)
        sent = self._send_message(f"+OK {self._box.message_size(index)} octets", body)
        self.stats.retr_count += 1
        self.stats.retr_bytes += sent

    def _cmd_top(self, args: str) -> None:
        index, rest = self._message_number(args, last=False)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits == 0 or not rest[:digits].isascii():
            raise _ArgumentError(f"Invalid size: {rest}")
        body_lines = int(rest[:digits])
        data = self._message_data(index)
        part = top_of_message(data, body_lines)
        sent = self._send_message("+OK", apply_workarounds(dot_stuff(part), part, self.settings.workarounds))
        self.stats.top_count += 1
        self.stats.top_bytes += sent

    def _cmd_dele(self, args: str) -> None:
        index, _ = self._message_number(args, last=True)
        self._deleted.add(index)
        self._send("+OK Marked to be deleted.")

    def _cmd_rset(self, args: str) -> None:
        self._deleted.clear()
        self._retrieved.clear()  # as Dovecot: RSET forgets the \\Seen changes too
        self._last_retrieved = 0
        self._send("+OK")

    def _cmd_noop(self, args: str) -> None:
        self._send("+OK")

    def _cmd_last(self, args: str) -> None:
        self._send(f"+OK {self._last_retrieved}")

    def _cmd_quit(self, args: str) -> None:
        self.state = Pop3State.UPDATE
        deleted = tuple(sorted(self._deleted))
        seen = tuple(sorted(self._retrieved - self._deleted))
        self._send("+OK Logging out, messages deleted." if deleted else "+OK Logging out.")
        self._emit(Quit(deleted, seen), wait=False)
        self._emit(self._close("quit"), wait=False)


_SESSION_COMMANDS = {
    "CAPA": Pop3Connection._cmd_capa,
    "STAT": Pop3Connection._cmd_stat,
    "LIST": Pop3Connection._cmd_list,
    "UIDL": Pop3Connection._cmd_uidl,
    "RETR": Pop3Connection._cmd_retr,
    "TOP": Pop3Connection._cmd_top,
    "DELE": Pop3Connection._cmd_dele,
    "RSET": Pop3Connection._cmd_rset,
    "NOOP": Pop3Connection._cmd_noop,
    "LAST": Pop3Connection._cmd_last,
    "QUIT": Pop3Connection._cmd_quit,
}

# session commands answered from what the session holds in memory (see pending_read_size)
_NO_READ_COMMANDS = frozenset({b"CAPA", b"STAT", b"LIST", b"DELE", b"RSET", b"NOOP", b"LAST"})
