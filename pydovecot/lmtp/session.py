"""One LMTP connection: Dovecot 2.3's command set, replies and states, byte for byte.

Each recipient gets its own reply after the message (RFC 2033), in RCPT order; a recipient named
twice in one transaction shares the first one's delivery and reply, as in Dovecot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.login.connection import ConnectionInfo

from .address import Path, PathError, mail_params_ok, orcpt_error, parse_path, rcpt_params_ok, split_detail
from .session_id import new_delivery_session_id
from .stream import InputStream, LineTooLong
from .userdb import lookup_user

if TYPE_CHECKING:
    from .server import LmtpService

log = logging.getLogger("pydovecot.lmtp")

# Dovecot's smtp-server: a command name longer than 32 is a syntax error, parameters longer than
# 4096 bytes make the line too long.
MAX_COMMAND_NAME = 32
MAX_PARAMETERS = 4096
COMMAND_LINE_LIMIT = MAX_COMMAND_NAME + 1 + MAX_PARAMETERS + 1
IDLE_TIMEOUT = 300.0
# Control characters make a command's parameters invalid.
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


@dataclass
class Recipient:
    path: Path
    username: str
    detail: str
    fields: dict[str, str]
    session_id: str
    duplicate_of: Recipient | None = None
    reply: str = ""


@dataclass
class Transaction:
    id: str
    sender: str
    recipients: list[Recipient] = field(default_factory=list)
    rcpt_commands: int = 0
    chunks: bytearray | None = None
    started: float = field(default_factory=time.time)


class Quit(Exception):
    pass


class LmtpSession:
    def __init__(self, service: LmtpService, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 conn: ConnectionInfo) -> None:
        self.service = service
        self.writer = writer
        self.conn = conn
        self.input = InputStream(reader, idle_timeout=IDLE_TIMEOUT, before_wait=self.flush)
        self.held: list[bytes] = []
        self.helo = ""
        self.tx: Transaction | None = None
        self.transactions = 0
        self.tls = conn.tls
        self.chunk_failed = False
        # LMTP is not a login service: its id is a guid_128 like Dovecot's, not the login's id.
        self.session_id = new_delivery_session_id()
        self.prefix = f"lmtp({os.getpid()}): "
        self.request_info: RequestInfo | None = None
        """What the userdb lookups of this connection's recipients are told (made once)."""

    # -- plumbing ------------------------------------------------------------------------------

    async def send(self, *lines: str) -> None:
        """Replies to pipelined commands are held back while the next command is already here,
        and go out together before the next wait for input (as Dovecot corks its output)."""
        self.held.append("".join(f"{line}\r\n" for line in lines).encode("utf-8", "surrogateescape"))
        if self.input.has_line():
            return
        self.flush()
        await self.writer.drain()

    def flush(self) -> None:
        if self.held:
            data = b"".join(self.held)
            self.held.clear()
            self.writer.write(data)

    @property
    def state(self) -> str:
        if self.tx is None:
            return "READY"
        if self.tx.chunks is not None:
            return "DATA"
        # Dovecot enters RCPT TO with the first recipient it accepts, not with a refused one.
        return "RCPT TO" if self.tx.recipients else "MAIL FROM"

    async def run(self) -> None:
        log.info("Connect from %s", self.conn.remote_ip or "unix", extra={"dovecot_prefix": self.prefix})
        reason = "Connection closed"
        try:
            await self.send(f"220 {self.service.hostname} {self.service.greeting}")
            while True:
                try:
                    line = await self.input.readline(COMMAND_LINE_LIMIT)
                except LineTooLong as exc:
                    await self.send(_too_long_reply(exc.head))
                    continue
                if line is None:
                    break
                await self.dispatch(line[:-1] if line.endswith(b"\r") else line)
        except Quit:
            reason = "Logged out"
        except TimeoutError:
            reason = "Disconnected for inactivity"
        except (ConnectionError, OSError):
            reason = "Connection closed"
        finally:
            self.input.close()
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                self.flush()
            state = self.state
            self.end_transaction()
            log.info("Disconnect from %s: %s (state=%s)", self.conn.remote_ip or "unix", reason, state,
                     extra={"dovecot_prefix": self.prefix})

    async def dispatch(self, line: bytes) -> None:
        name_bytes, _, arg_bytes = line.partition(b" ")
        if (not name_bytes.isalpha() and name_bytes) or len(name_bytes) > MAX_COMMAND_NAME:
            await self.send("500 5.5.2 Invalid command syntax")
            return
        if len(arg_bytes) > MAX_PARAMETERS:
            await self.send("500 5.5.2 Line too long")
            return
        if _CONTROL.search(arg_bytes) is not None:
            await self.send("500 5.5.2 Invalid command syntax")
            return
        name = name_bytes.decode("ascii").upper()
        arg = arg_bytes.decode("utf-8", "surrogateescape")
        handler = self.COMMANDS.get(name)
        if handler is None:
            await self.send("500 5.5.1 Unknown command")
            return
        await handler(self, arg)

    # -- commands -------------------------------------------------------------------------------

    async def cmd_lhlo(self, arg: str) -> None:
        if not arg.strip():
            await self.send("501 Missing hostname")
            return
        self.helo = arg.split()[0]
        self.end_transaction()
        caps = ["8BITMIME", "CHUNKING", "ENHANCEDSTATUSCODES", "PIPELINING"]
        if self.service.ssl_context is not None and not self.tls:
            caps.append("STARTTLS")
        lines = [f"250-{self.service.hostname}"] + [f"250-{cap}" for cap in caps]
        lines[-1] = "250 " + lines[-1][4:]
        await self.send(*lines)

    async def cmd_mail(self, arg: str) -> None:
        if self.tx is not None:
            await self.send("503 5.5.0 MAIL already given")
            return
        try:
            path = parse_path(arg, "FROM", allow_null=True)
        except PathError as exc:
            await self.send(f"501 5.5.4 Invalid FROM: {exc}")
            return
        except ValueError:
            await self.send("501 5.5.4 Invalid parameters")
            return
        if not mail_params_ok(path):
            await self.send("555 5.5.4 Unsupported parameters")
            return
        self.transactions += 1
        tid = self.session_id if self.transactions == 1 else f"{self.session_id}:T{self.transactions}"
        self.tx = Transaction(tid, path.address)
        await self.send("250 2.1.0 OK")

    async def cmd_rcpt(self, arg: str) -> None:
        tx = self.tx
        if tx is None:
            await self.send("503 5.5.0 MAIL needed first")
            return
        try:
            path = parse_path(arg, "TO", allow_null=False)
        except PathError as exc:
            await self.send(f"501 5.5.4 Invalid TO: {exc}")
            return
        except ValueError:
            await self.send("501 5.5.4 Invalid parameters")
            return
        if not rcpt_params_ok(path):
            await self.send("555 5.5.4 Unsupported parameters")
            return
        bad_orcpt = orcpt_error(path)
        if bad_orcpt is not None:
            await self.send(f"501 5.5.4 {bad_orcpt}")
            return
        tx.rcpt_commands += 1
        index = tx.rcpt_commands
        for earlier in tx.recipients:
            if earlier.path.address == path.address and earlier.duplicate_of is None:
                tx.recipients.append(Recipient(path, earlier.username, earlier.detail, earlier.fields,
                                               earlier.session_id, duplicate_of=earlier))
                await self.send("250 2.1.5 OK")
                return
        reply, rcpt = await self.lookup_recipient(path, tx, index)
        if rcpt is not None:
            tx.recipients.append(rcpt)
        await self.send(reply)

    async def lookup_recipient(self, path: Path, tx: Transaction, index: int) -> tuple[str, Recipient | None]:
        address = path.address
        username, detail = split_detail(address, self.service.recipient_delimiter(self.conn))
        info = self.request_info
        if info is None:
            info = self.request_info = RequestInfo(
                service="lmtp", local_ip=self.conn.local_ip, remote_ip=self.conn.remote_ip,
                local_port=_port(self.conn.local_port), remote_port=_port(self.conn.remote_port),
                secured=self.conn.secured)
        try:
            answer = await lookup_user(self.service.auth, username, info)
        except Exception:  # noqa: BLE001 - a broken userdb is a temporary failure for the client
            log.exception("userdb lookup failed", extra={"dovecot_prefix": self.prefix})
            return f"451 4.3.0 <{address}> Temporary internal error", None
        if answer.result is UserdbResult.USER_UNKNOWN:
            return f"550 5.1.1 <{address}> User doesn't exist: {username}", None
        if answer.result is not UserdbResult.OK:
            return f"451 4.3.0 <{address}> Temporary internal error", None
        user, fields = answer.user, answer.fields
        if not self.service.take_slot(user):
            return f"451 4.3.0 <{address}> Too many concurrent deliveries for user", None
        try:
            refused = await self.service.rcpt_quota_reply(self.conn, address, user, fields)
        except Exception:  # noqa: BLE001 - the user's storage could not be opened: try later
            log.exception("quota check failed", extra={"dovecot_prefix": self.prefix})
            refused = f"451 4.3.0 <{address}> Temporary internal error"
        if refused is not None:
            self.service.release_slot(user)
            return refused, None
        sid = tx.id if index == 1 else f"{tx.id}:R{index}"
        return "250 2.1.5 OK", Recipient(path, user, detail, fields, sid)

    async def cmd_data(self, arg: str) -> None:
        if not await self.data_allowed(bdat=False):
            return
        await self.send("354 OK")
        body = await self.input.read_dot_data()
        if body is None:
            raise ConnectionResetError
        await self.finish(body)

    async def cmd_bdat(self, arg: str) -> None:
        words = arg.split()
        if not words or not words[0].isdigit():
            await self.send("501 5.5.4 Invalid chunk size parameter")
            return
        size, last = int(words[0]), len(words) == 2 and words[1].upper() == "LAST"
        if len(words) > 2 or (len(words) == 2 and not last):
            # The size was readable: the chunk is still skipped, as Dovecot does.
            allowed = False
            await self.send("501 5.5.4 Invalid parameters")
        else:
            allowed = await self.data_allowed(bdat=True)
        chunk = await self.input.read_exactly(size)
        if chunk is None:
            raise ConnectionResetError
        if not allowed:
            # Dovecot refuses every later chunk (and DATA) until RSET, even without a transaction.
            self.chunk_failed = True
            return
        assert self.tx is not None
        if self.tx.chunks is None:
            self.tx.chunks = bytearray()
        self.tx.chunks += chunk
        if not last:
            await self.send(f"250 2.0.0 Added {size} octets")
            return
        await self.finish(bytes(self.tx.chunks))

    async def data_allowed(self, *, bdat: bool) -> bool:
        if self.chunk_failed:
            await self.send("503 5.5.0 Previous data chunk failed, issue RSET first")
            return False
        tx = self.tx
        if tx is None:
            await self.send("503 5.5.0 MAIL needed first")
            return False
        if not bdat and tx.chunks is not None:
            await self.send("503 5.5.0 Bad sequence of commands")
            return False
        if not tx.recipients:
            await self.send("503 5.5.0 No valid recipients")
            return False
        return True

    async def finish(self, body: bytes) -> None:
        tx = self.tx
        assert tx is not None
        replies = await self.service.deliver_transaction(self, tx, body)
        self.end_transaction()
        await self.send(*replies)

    def end_transaction(self) -> None:
        if self.tx is not None:
            for rcpt in self.tx.recipients:
                if rcpt.duplicate_of is None:
                    self.service.release_slot(rcpt.username)
        self.tx = None

    async def cmd_rset(self, arg: str) -> None:
        if arg.strip():
            await self.send("501 5.5.4 Invalid parameters")
            return
        self.end_transaction()
        self.chunk_failed = False
        await self.send("250 2.0.0 OK")

    async def cmd_noop(self, arg: str) -> None:
        await self.send("250 2.0.0 OK")

    async def cmd_quit(self, arg: str) -> None:
        if arg.strip():
            await self.send("501 5.5.4 Invalid parameters")
            return
        await self.send("221 2.0.0 Bye")
        raise Quit

    async def cmd_vrfy(self, arg: str) -> None:
        if not arg.strip():
            await self.send("501 5.5.4 Invalid parameters")
            return
        await self.send("252 2.3.3 Try RCPT instead")

    async def cmd_starttls(self, arg: str) -> None:
        ctx = self.service.ssl_context
        if arg.strip():
            await self.send("501 5.5.4 Invalid parameters")
            return
        if ctx is None:
            await self.send("502 5.5.1 TLS support is not enabled.")
            return
        if self.tls:
            await self.send("503 5.5.1 TLS is already active.")
            return
        await self.send("220 2.0.0 Begin TLS negotiation now.")
        self.flush()
        await self.writer.drain()
        self.input.discard_pending()
        await self.writer.start_tls(ctx)
        self.tls = True
        self.helo = ""
        self.end_transaction()

    async def cmd_unsupported(self, arg: str) -> None:
        await self.send("502 5.5.1 Unsupported command")

    COMMANDS: dict[str, Callable[[LmtpSession, str], Awaitable[None]]] = {
        "LHLO": cmd_lhlo, "MAIL": cmd_mail, "RCPT": cmd_rcpt, "DATA": cmd_data, "BDAT": cmd_bdat,
        "RSET": cmd_rset, "NOOP": cmd_noop, "QUIT": cmd_quit, "VRFY": cmd_vrfy, "STARTTLS": cmd_starttls,
        "AUTH": cmd_unsupported,
    }


def _too_long_reply(head: bytes) -> str:
    name = head.partition(b" ")[0]
    if len(name) > MAX_COMMAND_NAME or (name and not name.isalpha()):
        return "500 5.5.2 Invalid command syntax"
    return "500 5.5.2 Line too long"


def _port(port: int | None) -> str | None:
    return None if port is None else str(port)
