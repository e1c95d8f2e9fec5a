"""The IMAP service: one asyncio task per connection, from greeting through login to logout.

Like Dovecot's imap-login and imap processes in one: before login the connection speaks the
login process's dialect (its capability list, generic BAD texts, three bad commands and out);
after login the mail process's. `ImapService.create(tree, auth_service=...)` is what the
master plugs into its listeners (pydovecot.master.protocol_services).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any

from pydovecot.login.auth_client import AuthClient
from pydovecot.login.connection import ConnectionInfo
from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import Variable, VariableContext

from . import commands, loginlog
from .capabilities import CapabilitySettings, pre_login
from .commands.auth import login_disabled
from .commands.common import refresh_selected
from .commands.starttls import tls_available
from .protocol import (
    CommandReceived,
    CommandRejected,
    ConnectionClosing,
    ConnectionState,
    IdleDone,
    ImapServerProtocol,
    SaslResponse,
)
from .protocol import commands as c
from .protocol.responses import bye, response_code, untagged_status
from .session import (
    LOGIN_IDLE_TIMEOUT,
    MAX_BAD_COMMANDS,
    MAX_BAD_COMMANDS_LOGIN,
    MAX_LOGIN_LITERAL,
    SESSION_IDLE_TIMEOUT,
    Session,
    log,
)
from .watch import MailboxWatcher

TOO_MANY_BAD = "Too many invalid IMAP commands."
# imap_logout_format's variables (Dovecot's imap-client.c client_get_logout_vars).
LOGOUT_FORMAT = VariableContext(
    "imap_logout_format",
    tuple(Variable(name, short) for name, short in (
        ("input", "i"), ("output", "o"), ("user", "u"), ("session", None), ("fetch_hdr_count", None),
        ("fetch_hdr_bytes", None), ("fetch_body_count", None), ("fetch_body_bytes", None),
        ("deleted", None), ("expunged", None), ("trashed", None), ("autoexpunged", None),
        ("appended", None))),
)


class ImapService:
    def __init__(self, tree: Any, auth_service: Any, auth_client: AuthClient | None) -> None:
        self.tree = tree
        self.auth_service = auth_service
        self.auth_client = auth_client
        self.tls_context: ssl.SSLContext | None = None
        self.watcher = MailboxWatcher()
        self.login_idle_timeout = LOGIN_IDLE_TIMEOUT
        self.session_idle_timeout = SESSION_IDLE_TIMEOUT
        self._userip: dict[tuple[str, str | None], int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.AbstractServer] = []
        # In a login process (privilege separation): gives logged-in clients to the master
        # (pydovecot.master.handoff.LoginHandoff); None when this process serves mail itself.
        self.handoff: Any = None

    @classmethod
    async def create(cls, tree: Any, *, auth_service: Any, tls_context: ssl.SSLContext | None = None,
                     auth_client: AuthClient | None = None) -> ImapService:
        """`auth_client` (optional): an existing connection to auth, e.g. the master's auth-client
        socket from a worker process; else one to `auth_service` in this process."""
        client = auth_client
        if client is None and auth_service is not None:
            client = await AuthClient.in_process(auth_service)
        service = cls(tree, auth_service, client)
        service.tls_context = tls_context if tls_context is not None else _settings_tls(tree)
        return service

    @classmethod
    async def create_mail(cls, tree: Any) -> ImapService:
        """In a mail process: sessions arrive logged in (``resume``); no auth, no STARTTLS."""
        return cls(tree, None, None)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self.watcher.close()
        if self.auth_client is not None:
            await self.auth_client.close()
            # The in-process auth session's task (AuthClient.in_process) ends with us.
            server_task = getattr(self.auth_client, "_server_task", None)
            if server_task is not None:
                server_task.cancel()
                with contextlib.suppress(BaseException):
                    await server_task

    async def serve_tcp(self, host: str, port: int) -> asyncio.AbstractServer:
        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("sockname") or (None, None)
            peer = writer.get_extra_info("peername") or (None, None)
            await self.handle_connection(reader, writer, ConnectionInfo(sock[0], sock[1], peer[0], peer[1], "imap"))

        server = await asyncio.start_server(connected, host, port)
        self._servers.append(server)
        return server

    def connection_slot(self, user: str, remote_ip: str | None, limit: int) -> bool:
        """Take one of the user's mail_max_userip_connections from this address (0: no limit)."""
        key = (user, remote_ip)
        if limit and self._userip.get(key, 0) >= limit:
            return False
        self._userip[key] = self._userip.get(key, 0) + 1
        return True

    def _release_slot(self, session: Session) -> None:
        if session.user is None:
            return
        key = (session.user.username, session.conn.remote_ip)
        left = self._userip.get(key, 1) - 1
        if left > 0:
            self._userip[key] = left
        else:
            self._userip.pop(key, None)

    def pre_login_capability(self, session: Session) -> str:
        mechanisms = self.auth_client.mechanisms if self.auth_client is not None else {}
        starttls = tls_available(session) and not session.conn.tls
        return pre_login(CapabilitySettings.from_node(session.settings),
                         mechanisms={k: v for k, v in mechanisms.items()},
                         starttls=starttls, login_disabled=login_disabled(session),
                         secured=session.conn.secured)

    # --- one connection ----------------------------------------------------------------------

    def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 conn: ConnectionInfo) -> Session:
        settings = self.tree.lookup(service="imap", local=conn.local_ip, remote=conn.remote_ip)
        max_line = int(settings.get("imap_max_line_length") or 65536)
        protocol = ImapServerProtocol(max_line_length=max_line, max_literal_size=MAX_LOGIN_LITERAL)
        return Session(self, reader, writer, conn, settings, protocol)

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                                conn: ConnectionInfo) -> None:
        await self._run(self._session(reader, writer, conn), self._serve)

    async def resume(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handoff: Any) -> None:
        """In a mail process: a client imap-login authenticated (pydovecot.master.handoff.Handoff).
        The userdb answer came with it; we build the user, send LOGIN's tagged OK, and serve."""
        from .commands.auth import start_session

        session = self._session(reader, writer, handoff.connection_info())
        session.capability_sent = handoff.capability_sent
        session.protocol.receive_data(handoff.pending_bytes)

        async def serve(session: Session) -> None:
            ok = await start_session(session, handoff.tag_bytes, handoff.user, handoff.userdb,
                                     handoff.mechanism, log_login=False)
            if session.tagged is not None:
                session.send(session.tagged)
                session.tagged = None
            await session.flush()
            if not ok:
                return
            await self._serve(session, greet=False)

        await self._run(session, serve)

    async def _run(self, session: Session, serve: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await serve(session)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                session.writer.write(bye("Server shutting down."))
        except Exception:  # noqa: BLE001 - one client's failure never takes the server down
            log.exception("IMAP connection failed", extra={"dovecot_prefix": session.user_prefix()})
            with contextlib.suppress(Exception):
                session.writer.write(bye("Internal error occurred. Refer to server log for more information."))
        finally:
            session.unregister()
            if not session.handed_off:
                self._log_disconnect(session)
            self._release_slot(session)
            session.selected = None
            with contextlib.suppress(Exception):
                session.writer.close()  # the current one: COMPRESS (imap_zlib) swaps it
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, session: Session, *, greet: bool = True) -> None:
        if greet:
            greeting = str(session.settings.get("login_greeting") or "Dovecot ready.")
            caps = session.capability()
            session.send(untagged_status("OK", greeting, response_code("CAPABILITY", caps.encode())))
        while not session.closing:
            event = await session.next_event()
            if event is None:
                break
            await self._event(session, event)
            await session.flush()
        await session.flush()

    async def _event(self, session: Session, event: object) -> None:
        if isinstance(event, ConnectionClosing):
            session.closing = True
            return
        if isinstance(event, CommandRejected | IdleDone | SaslResponse):
            if isinstance(event, CommandRejected):
                self._closes_on_bad_select(session, event)
                if event.error.severity.value == "BAD":
                    self._bad_command(session, event.reply)
            return
        assert isinstance(event, CommandReceived)
        await self._command(session, event.command)

    def _closes_on_bad_select(self, session: Session, event: CommandRejected) -> None:
        """Dovecot closes the selected mailbox before it looks at SELECT's arguments."""
        if session.selected is None or event.error.command not in ("SELECT", "EXAMINE"):
            return
        pending = session.protocol.data_to_send()
        if pending.endswith(event.reply):
            pending = pending[: -len(event.reply)]
        session.selected = None
        session.state = ConnectionState.AUTHENTICATED
        session.send(pending + untagged_status("OK", "Previous mailbox closed.", b"[CLOSED]") + event.reply)

    def _bad_command(self, session: Session, reply: bytes) -> None:
        session.bad_commands += 1
        if not session.logged_in:
            if session.bad_commands >= MAX_BAD_COMMANDS_LOGIN:
                # imap-login drops the BAD and says goodbye instead.
                pending = session.protocol.data_to_send()
                if pending.endswith(reply):
                    pending = pending[: -len(reply)]
                session.send(pending + bye(TOO_MANY_BAD))
                session.closing = True
            return
        if session.bad_commands >= MAX_BAD_COMMANDS:
            session.send(session.protocol.data_to_send() + bye(TOO_MANY_BAD))
            session.closing = True

    async def _command(self, session: Session, cmd: c.Command) -> None:
        handler = commands.handler_for(cmd)
        if handler is None:
            return
        bad_before = session.bad_commands
        if session.logged_in:
            session.commands_after_login += 1
        session.tagged, session.after_tagged, session.last_status = None, b"", ""
        session.view_checked = False
        await handler(session, cmd)
        session.last_command = _command_name(cmd)
        session.last_finished = time.monotonic()
        if session.bad_commands == bad_before and session.last_status != "BAD":
            session.bad_commands = 0
        else:
            session.bad_commands = max(session.bad_commands, bad_before + 1)
        if session.tagged is not None and session.selected is not None and not isinstance(cmd, c.Rename):
            # The gone check and the sync after the command: one trip to the storage thread.
            sync = not isinstance(cmd, commands.HANDLES_OWN_SYNC)
            expunges = not isinstance(cmd, commands.NO_EXPUNGE_SYNC) or bool(getattr(cmd, "uid", False))
            if session.view_checked and not sync:
                gone = session.selected.gone  # the command's own sync just looked
            else:
                gone = await refresh_selected(session, sync=sync, expunges=expunges)
            if gone:
                # Renamed or deleted by someone (this session included): Dovecot gives up on it.
                session.send(bye(f"{_command_name(cmd)} failed: Mailbox was deleted under us"))
                session.tagged = None
                session.closing = True
        if session.tagged is not None:
            session.send(session.tagged)
            session.tagged = None
        session.send(session.after_tagged)
        if session.bad_commands > bad_before:
            self._bad_command_limit(session)

    def _bad_command_limit(self, session: Session) -> None:
        limit = MAX_BAD_COMMANDS if session.logged_in else MAX_BAD_COMMANDS_LOGIN
        if session.bad_commands >= limit:
            session.send(bye(TOO_MANY_BAD))
            session.closing = True

    # --- logging -----------------------------------------------------------------------------

    def _log_disconnect(self, session: Session) -> None:
        if session.user is None:
            self._log_login_disconnect(session)
            return
        fmt = str(session.settings.get("imap_logout_format") or "")
        counters = session.counters
        table: dict[str, str | None] = {
            "input": str(counters.bytes_in), "output": str(counters.bytes_out),
            "deleted": str(counters.deleted), "expunged": str(counters.expunged),
            "trashed": str(counters.trashed), "fetch_hdr_count": str(counters.fetch_hdr_count),
            "fetch_hdr_bytes": str(counters.fetch_hdr_bytes), "fetch_body_count": str(counters.fetch_body_count),
            "fetch_body_bytes": str(counters.fetch_body_bytes), "autoexpunged": "0", "appended": "0",
            "user": session.user.username, "session": session.conn.session_id,
        }
        try:
            detail = expand(fmt, table, context=LOGOUT_FORMAT).text
        except Exception:  # noqa: BLE001 - a format we cannot expand still gets logged raw
            detail = fmt
        if session.kicked:
            reason = "Server shutting down."
        elif session.state is ConnectionState.LOGOUT:
            reason = "Logged out"
        elif session.commands_after_login == 0:
            reason = "Connection closed (No commands sent)"
        else:
            ago = time.monotonic() - session.last_finished
            reason = f"Connection closed ({session.last_command} finished {ago:.3f} secs ago)"
        log.info("Disconnected: %s %s", reason, detail, extra={"dovecot_prefix": session.user_prefix()})

    def _log_login_disconnect(self, session: Session) -> None:
        seconds = int(time.time() - session.started)
        how = "Aborted login by logging out" if session.state is ConnectionState.LOGOUT else "Connection closed"
        from pydovecot.master.tls import client_cert_disconnect_reason

        cert_reason = client_cert_disconnect_reason(
            session.writer.get_extra_info("ssl_object"), auth_attempts=session.auth_attempts,
            required=bool(session.settings.get("auth_ssl_require_client_cert")))
        if cert_reason is not None:
            detail = cert_reason
        elif session.last_auth_temp_fail:
            detail = "auth service reported temporary failure"
        elif session.auth_attempts:
            detail = f"auth failed, {session.auth_attempts} attempts in {seconds} secs"
        else:
            detail = f"no auth attempts in {seconds} secs"
        loginlog.info(session, f"Disconnected: {how} ({detail})", user=session.last_user,
                      mechanism=session.last_mechanism)


def _settings_tls(tree: Any) -> ssl.SSLContext | None:
    """The STARTTLS context from the imap settings (None with ssl = no)."""
    from pydovecot.master.tls import TLSConfigError, selected_tls_context

    try:
        return selected_tls_context(tree, "imap")  # SNI picks a local_name block's certificate
    except (TLSConfigError, OSError, ssl.SSLError) as exc:
        log.error("TLS is not available: %s", exc, extra={"dovecot_prefix": "imap-login: "})
        return None


def _command_name(cmd: c.Command) -> str:
    """The command's name as Dovecot logs it (`UID FETCH`, `LIST`)."""
    names = {c.ListMailboxes: "LSUB" if getattr(cmd, "lsub", False) else "LIST",
             c.Select: "EXAMINE" if getattr(cmd, "read_only", False) else "SELECT",
             c.Subscribe: "UNSUBSCRIBE" if getattr(cmd, "unsubscribe", False) else "SUBSCRIBE",
             c.Copy: "MOVE" if getattr(cmd, "move", False) else "COPY"}
    name = names.get(type(cmd), type(cmd).__name__.upper())
    return ("UID " if getattr(cmd, "uid", False) else "") + name


