"""One client connection's state, from greeting to logout: settings, user, selected mailbox.

The server (server.py) owns the socket and the sans-I/O `ImapServerProtocol`; command modules
(commands/) read and change this object and queue replies with `send()`. Storage calls go
through `storage()` so they run off the event loop with the user's file-system identity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydovecot.login.connection import ConnectionInfo
from pydovecot.login.sessions import Session as AdminSession
from pydovecot.login.sessions import register_session
from pydovecot.storage.access import run_as, run_light

from .capabilities import CapabilitySettings, post_login
from .protocol import ConnectionState, Event, ImapServerProtocol
from .selected import SelectedMailbox

if TYPE_CHECKING:
    from pydovecot.storage.mail_user import MailUser

    from .server import ImapService

T = TypeVar("T")
log = logging.getLogger("pydovecot.imap")

# Dovecot's inactivity limits: 3 minutes before login, 30 after (imap's autologout).
LOGIN_IDLE_TIMEOUT = 180.0
SESSION_IDLE_TIMEOUT = 30 * 60.0
INACTIVITY_BYE = b"* BYE Disconnected for inactivity.\r\n"
# Literals we hold in memory: before login only LOGIN/AUTHENTICATE arguments, after login a
# message for APPEND. (Dovecot streams APPEND to a temporary file and has no such limit.)
MAX_LOGIN_LITERAL = 64 * 1024
MAX_SESSION_LITERAL = 64 * 1024 * 1024
# Dovecot's limits on consecutive malformed commands (imap-login, then imap).
MAX_BAD_COMMANDS_LOGIN = 3
MAX_BAD_COMMANDS = 20


@dataclass
class Counters:
    """What imap_logout_format reports."""

    bytes_in: int = 0
    bytes_out: int = 0
    deleted: int = 0
    expunged: int = 0
    trashed: int = 0
    fetch_hdr_count: int = 0
    fetch_hdr_bytes: int = 0
    fetch_body_count: int = 0
    fetch_body_bytes: int = 0


@dataclass
class Session:
    service: ImapService
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    conn: ConnectionInfo
    settings: Any  # the settings node of this connection (service imap, lip, rip)
    protocol: ImapServerProtocol
    user: MailUser | None = None
    selected: SelectedMailbox | None = None
    enabled: set[str] = field(default_factory=set)
    counters: Counters = field(default_factory=Counters)
    bad_commands: int = 0
    capability_sent: bool = False
    starttls_done: bool = False
    auth_attempts: int = 0
    last_mechanism: str | None = None
    last_auth_temp_fail: bool = False  # the last failure was auth's temporary one (for the log)
    last_user: str | None = None
    commands_after_login: int = 0
    last_command: str = ""
    last_finished: float = 0.0
    started: float = field(default_factory=time.time)
    closing: bool = False
    tagged: bytes | None = None
    """The current command's tagged reply: sent after the changes the command's end reports."""
    after_tagged: bytes = b""
    last_status: str = ""
    registered: AdminSession | None = None
    """This session in the process's session registry (`doveadm who` lists it, `kick` ends it)."""
    kicked: bool = False
    handed_off: bool = False
    """A login process gave the client to a mail process: nothing more to say or log here."""
    notify: Any = None
    """NOTIFY's state (notify.NotifyState) from the first NOTIFY on: reads go through it."""
    view_checked: bool = False
    """The selected mailbox was checked (gone or not) after this command's last storage call:
    the server's check after the command would only repeat it (see commands/common.py)."""
    _out: bytearray = field(default_factory=bytearray)

    # --- output ------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self._out += data

    def reply(self, line: bytes, status: str) -> None:
        """Set the tagged reply of the running command (the server sends it last)."""
        self.tagged = line
        self.last_status = status

    def take_output(self) -> bytes:
        data = bytes(self._out) + self.protocol.data_to_send()
        self._out.clear()
        self.counters.bytes_out += len(data)
        return data

    async def flush(self) -> None:
        data = self.take_output()
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def next_event(self, timeout: float | None = None, *, autologout: bool = True) -> Event | None:
        """The next client event; None at end of input (or after the inactivity BYE).

        TimeoutError after `timeout` seconds when one is given."""
        while True:
            event = self.protocol.next_event()
            if event is not None:
                return event  # its replies go out after the caller handled it
            await self.flush()
            if self.closing:
                return None
            # With NOTIFY set, changes are pushed while waiting for the client (notify.py).
            read = self.reader.read(65536) if self.notify is None else self.notify.read(self)
            if timeout is not None:
                data = await asyncio.wait_for(read, timeout)
            elif autologout:
                limit = self.service.session_idle_timeout if self.logged_in else self.service.login_idle_timeout
                try:
                    data = await asyncio.wait_for(read, limit)
                except TimeoutError:
                    self.send(INACTIVITY_BYE)
                    self.closing = True
                    await self.flush()
                    return None
            else:
                data = await read
            if not data:
                return None
            self.counters.bytes_in += len(data)
            self.protocol.receive_data(data)

    async def start_tls(self) -> None:
        """STARTTLS: wrap the connection; the client starts over with a new capability list."""
        await self.writer.start_tls(self.service.tls_context)  # type: ignore[arg-type]
        self.conn = replace(self.conn, tls=True)
        self.starttls_done = True

    # --- state -------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self.protocol.state

    @state.setter
    def state(self, value: ConnectionState) -> None:
        self.protocol.state = value

    @property
    def logged_in(self) -> bool:
        return self.user is not None

    @property
    def condstore(self) -> bool:
        return "CONDSTORE" in self.enabled

    @property
    def qresync(self) -> bool:
        return "QRESYNC" in self.enabled

    def enable_condstore(self) -> None:
        """A command used CONDSTORE without ENABLE: from now on it is on, as Dovecot says."""
        if "CONDSTORE" in self.enabled:
            return
        self.enabled.add("CONDSTORE")
        if self.selected is not None:
            self.send(b"* OK [HIGHESTMODSEQ %d] Highest\r\n" % self.selected.highestmodseq)

    def capability(self) -> str:
        settings = CapabilitySettings.from_node(self.settings)
        if self.user is None:
            return self.service.pre_login_capability(self)
        special_use = any(box.special_use for ns in self.user.namespaces.namespaces
                          for box in ns.mailboxes.values())
        metadata = bool(self.user.settings.get("imap_metadata")) and bool(self.user.settings.str("mail_attribute_dict"))
        return post_login(settings, special_use=special_use, plugins=self.user.plugins, metadata=metadata)

    def user_prefix(self) -> str:
        name = self.user.username if self.user is not None else ""
        return f"imap({name})<{os.getpid()}><{self.conn.session_id}>: "

    # --- the admin session registry (doveadm who / kick) -------------------------------------

    def register(self) -> None:
        """After login: what Dovecot's imap tells anvil (CONNECT pid imap/ip/user)."""
        assert self.user is not None
        loop = asyncio.get_running_loop()
        self.registered = register_session("imap", self.user.username, self.conn.remote_ip,
                                           kick_callback=lambda: loop.call_soon_threadsafe(self.kick))

    def set_admin_state(self, state: str) -> None:
        """The command in progress for the process title ("IDLE"; "" when it ends)."""
        if self.registered is not None:
            self.registered.set_state(state)

    def unregister(self) -> None:
        if self.registered is not None:
            registered, self.registered = self.registered, None
            registered.unregister()

    def kick(self) -> None:
        """`doveadm kick`: end this session as Dovecot's imap does on SIGTERM."""
        if self.kicked:
            return
        self.kicked = True
        self.closing = True
        with contextlib.suppress(Exception):
            self.send(b"* BYE Server shutting down.\r\n")
            self.writer.write(self.take_output())
            self.writer.close()

    # --- storage -----------------------------------------------------------------------------

    async def storage(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self.user is not None
        self.view_checked = False
        return await run_as(self.user.uid, self.user.gid, func, *args, **kwargs)

    async def storage_light(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A storage call that usually only reads a little: on the event loop unless it turns out
        to need a lock, a flush or much reading (see :func:`run_light`)."""
        assert self.user is not None
        self.view_checked = False
        return await run_light(self.user.uid, self.user.gid, func, *args, **kwargs)
