"""The POP3 service: Dovecot's pop3-login and pop3 processes for one client, over asyncio.

The sans-I/O core (:mod:`pydovecot.pop3.protocol`) decides every reply; this module feeds it the
socket's bytes and answers its events: credentials go to auth through :class:`AuthClient`, a
successful login gets its userdb answer, its :class:`MailUser` and a frozen INBOX
(:mod:`pydovecot.pop3.session`), STLS upgrades the stream. While the client is in the
TRANSACTION state the core reads message files, so its processing runs through ``run_as``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import time
from dataclasses import dataclass, replace
from typing import Any

from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.login.auth_client import AuthClient, AuthClientError, AuthParams, AuthReply, temp_failure_text
from pydovecot.login.connection import ConnectionInfo
from pydovecot.login.sessions import Session, register_session
from pydovecot.pop3.protocol import (
    AUTH_FAILED_TEXT,
    NEED_DATA,
    CheckApop,
    CheckPassword,
    Disconnect,
    LoginRefused,
    Pop3Connection,
    Pop3Event,
    Pop3ProtocolError,
    Pop3ProtocolSettings,
    Pop3State,
    Quit,
    SaslAborted,
    SaslResponse,
    SaslStart,
    StartTls,
    parse_workarounds,
)
from pydovecot.pop3.session import Pop3MailSession, Pop3SessionSettings, SessionLock
from pydovecot.storage.access import call_as, run_as
from pydovecot.storage.mail_user import MailUser, create_mail_user

LOGIN_LOG = logging.getLogger("pydovecot.pop3-login")
LOG = logging.getLogger("pydovecot.pop3")
LOGIN_PREFIX = {"dovecot_prefix": "pop3-login: "}

LOGIN_IDLE_TIMEOUT = 180.0  # Dovecot's login processes drop a silent client after 3 minutes
SESSION_IDLE_TIMEOUT = 600.0  # pop3: 10 minutes of silence ends the session
READ_SIZE = 65536
# a command reading at most this much message data runs on the event loop, not in a thread
INLINE_READ_LIMIT = 128 * 1024
INTERNAL_ERROR_TEXT = "[SYS/TEMP] Internal error occurred. Refer to server log for more information."
TEMP_FAIL_TEXT = "[SYS/TEMP] Temporary authentication failure."
LOCKED_TEXT = "[IN-USE] Mailbox is locked by another POP3 session."


class _ClientGone(Exception):
    """The socket broke while we wrote (e.g. the client vanished in the middle of a RETR)."""


class Pop3Service:
    """One POP3 service: the shape the master plugs in (create / handle_connection / close)."""

    def __init__(self, tree: Any, auth_service: Any, auth_client: AuthClient | None,
                 tls: ssl.SSLContext | None) -> None:
        self.tree = tree
        self.auth_service = auth_service
        self.auth_client = auth_client
        self.tls = tls
        self.pid = os.getpid()
        self.login_idle_timeout = LOGIN_IDLE_TIMEOUT
        self.session_idle_timeout = SESSION_IDLE_TIMEOUT
        # In a login process (privilege separation): gives logged-in clients to the master
        # (pydovecot.master.handoff.LoginHandoff); None when this process serves mail itself.
        self.handoff: Any = None

    @classmethod
    async def create(cls, tree: Any, *, auth_service: Any, auth_client: AuthClient | None = None,
                     tls_context: ssl.SSLContext | None = None) -> Pop3Service:
        """``auth_client``: an existing connection to auth (a login process's), else one to
        ``auth_service`` in this process; ``tls_context``: STLS's, built where the key can be read
        (a login process gets it made before it drops root), else from the settings here."""
        from pydovecot.master.tls import selected_tls_context

        if auth_client is None:
            auth_client = await AuthClient.in_process(auth_service)
        # SNI picks a local_name block's certificate for STLS too
        tls = tls_context if tls_context is not None else selected_tls_context(tree, "pop3")
        return cls(tree, auth_service, auth_client, tls)

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                                conn: ConnectionInfo) -> None:
        client = Pop3Client(self, reader, writer, conn)
        try:
            await client.run()
        except Exception:  # noqa: BLE001 - one client's bug must not take the service down
            LOG.exception("POP3 connection failed", extra=client.log_extra)
        finally:
            await client.finish()

    @classmethod
    async def create_mail(cls, tree: Any) -> Pop3Service:
        """In a mail process: sessions arrive logged in (``resume``)."""
        return cls(tree, None, None, None)

    async def resume(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handoff: Any) -> None:
        """In a mail process: a client pop3-login authenticated (pydovecot.master.handoff.Handoff):
        open its INBOX, say "+OK Logged in." and serve."""
        client = Pop3Client(self, reader, writer, handoff.connection_info())
        client.login.method = handoff.mechanism
        client.login.user = handoff.user
        client.core.resume_login(handoff.pending_bytes)
        try:
            if await client.start_mail(handoff.user, handoff.userdb):
                await client.run(greet=False)
            else:
                await client._flush()
        except Exception:  # noqa: BLE001 - one client's bug must not take the service down
            LOG.exception("POP3 connection failed", extra=client.log_extra)
        finally:
            await client.finish()

    async def serve_tcp(self, host: str, port: int) -> asyncio.Server:
        """A plain listener for tests and simple set-ups (the master has its own listeners)."""

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            local = writer.get_extra_info("sockname") or (None, None)
            remote = writer.get_extra_info("peername") or (None, None)
            info = ConnectionInfo(local[0], local[1], remote[0], remote[1], listener="pop3")
            await self.handle_connection(reader, writer, info)

        return await asyncio.start_server(accept, host, port)

    async def close(self) -> None:
        if self.auth_client is not None:
            await self.auth_client.close()


@dataclass
class _LoginState:
    """What pop3-login remembers for its log lines."""

    started: float
    attempts: int = 0
    user: str | None = None
    method: str | None = None
    sasl_id: int | None = None
    pending_user: str | None = None
    tried_plaintext: bool = False
    tried_unsupported: bool = False
    temp_failed: bool = False  # the last failure was auth's temporary one


class Pop3Client:
    def __init__(self, service: Pop3Service, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 conn: ConnectionInfo) -> None:
        self.service = service
        self.reader = reader
        self.writer = writer
        self.conn = conn
        self.node = service.tree.lookup(service="pop3", local=conn.local_ip, remote=conn.remote_ip)
        self.tls = conn.tls
        self.core = Pop3Connection(self._protocol_settings())
        self.login = _LoginState(time.monotonic())
        self.user: MailUser | None = None
        self.session: Pop3MailSession | None = None
        self.end_reason = "Connection closed"
        self.registered: Session | None = None  # in the process's session registry (doveadm who)
        self.kicked = False
        self.bytes_in = 0
        self.bytes_out = 0
        self._closed = False
        self.handed_off = False  # given to a mail process (privilege separation): nothing more here

    # -- settings and log prefixes --

    def _protocol_settings(self) -> Pop3ProtocolSettings:
        mechanisms = self.service.auth_client.mechanisms if self.service.auth_client is not None else {}
        offered = tuple(m for m, flags in mechanisms.items() if "private" not in flags)
        plaintext = tuple(m for m, flags in mechanisms.items() if "plaintext" in flags)
        secured = self.tls or self.conn.secured
        # ssl = required refuses plaintext auth without TLS whatever disable_plaintext_auth says
        plaintext_refused = bool(self.node.get("disable_plaintext_auth")) or str(self.node.get("ssl")) == "required"
        return Pop3ProtocolSettings(
            greeting=str(self.node.get("login_greeting")),
            sasl_mechanisms=offered,
            plaintext_auth_allowed=secured or not plaintext_refused,
            tls_available=self.service.tls is not None,
            tls_active=self.tls,
            plaintext_mechanisms=plaintext,
        )

    @property
    def log_extra(self) -> dict[str, str]:
        if self.user is None:
            return LOGIN_PREFIX
        prefix = f"pop3({self.user.username})<{self.service.pid}><{self.conn.session_id}>: "
        return {"dovecot_prefix": prefix}

    def _security(self) -> str | None:
        if self.tls:
            return "TLS"
        return "secured" if self.conn.secured else None

    # -- the connection loop --

    async def run(self, *, greet: bool = True) -> None:
        try:
            if greet:
                await self._write(self.core.greeting())
            else:
                await self._flush()
                if not await self._process():  # what the client pipelined after PASS
                    return
            while not self._closed:
                if not await self._read_once():
                    break
        except _ClientGone:
            self.end_reason = "Connection closed"

    async def _read_once(self) -> bool:
        in_session = self.core.state is Pop3State.TRANSACTION
        timeout = self.service.session_idle_timeout if in_session else self.service.login_idle_timeout
        try:
            async with asyncio.timeout(timeout):
                data = await self.reader.read(READ_SIZE)
        except TimeoutError:
            self.core.inactivity_timeout()
            self.end_reason = "Inactivity" if not in_session else "Disconnected for inactivity"
            await self._flush()
            return False
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self.end_reason = "Server shutting down." if self.kicked else "Connection closed"
            return False
        self.bytes_in += len(data)
        self.core.receive_data(data)
        return await self._process()

    async def _process(self) -> bool:
        """Run the core over what it has; False when the connection should end."""
        while True:
            try:
                events, backlogged = await self._pump()
            except Pop3ProtocolError:
                in_session = self.core.state is Pop3State.TRANSACTION
                self.end_reason = "Input line too long" if in_session else "Input buffer full"
                return False
            if not any(isinstance(e, Quit) for e in events):
                await self._flush()
            # else: QUIT's changes are committed before its "+OK Logging out" leaves, as in Dovecot
            for event in events:
                if not await self._handle(event):
                    await self._flush()
                    return False
            await self._flush()
            if not events and not backlogged:
                return True

    async def _pump(self) -> tuple[list[Pop3Event], bool]:
        if self.session is not None and self.user is not None:
            reads = self.core.pending_read_size()
            if reads is not None and reads <= INLINE_READ_LIMIT:
                # one small message file (or none): cheaper here than a round trip to a thread
                return call_as(self.user.uid, self.user.gid, self._pump_sync)
            return await run_as(self.user.uid, self.user.gid, self._pump_sync)
        return self._pump_sync()

    def _pump_sync(self) -> tuple[list[Pop3Event], bool]:
        events: list[Pop3Event] = []
        while True:
            event = self.core.next_event()
            if event is NEED_DATA:
                break
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)
            if not isinstance(event, (Quit, Disconnect, SaslAborted, LoginRefused)):
                break  # the core waits for our answer to this one
        if self.session is not None:
            self.session.flush()
        return events, self.core.output_backlogged

    async def _write(self, data: bytes) -> None:
        if not data:
            return
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise _ClientGone from exc
        self.bytes_out += len(data)

    async def _flush(self) -> None:
        await self._write(self.core.data_to_send())

    # -- events --

    async def _handle(self, event: Pop3Event) -> bool:
        if isinstance(event, CheckPassword):
            self.login.pending_user = event.user
            initial = b"\0" + event.user.encode("utf-8", "surrogateescape") + b"\0" \
                + event.password.encode("utf-8", "surrogateescape")
            await self._auth_begin("PLAIN", initial)
        elif isinstance(event, SaslStart):
            self.login.pending_user = None
            await self._auth_begin(event.mechanism, event.initial_response)
        elif isinstance(event, SaslResponse):
            await self._auth_continue(event.data)
        elif isinstance(event, SaslAborted):
            if self.login.sasl_id is not None:
                self.service.auth_client.cancel(self.login.sasl_id)
                self.login.sasl_id = None
        elif isinstance(event, LoginRefused):
            self._login_refused(event)
        elif isinstance(event, CheckApop):
            self.core.login_failed()  # APOP is never offered, as in Dovecot's default set-up
        elif isinstance(event, StartTls):
            await self._start_tls()
        elif isinstance(event, Quit):
            await self._quit(event)
        elif isinstance(event, Disconnect):
            self._set_disconnect_reason(event.reason)
            return False
        return not (self.handed_off or self._closed)

    def _login_refused(self, event: LoginRefused) -> None:
        if event.reason == "plaintext":
            self.login.attempts += 1  # Dovecot counts a refused USER as a failed attempt
            if event.user is not None:
                self.login.user = event.user
        elif event.reason == "plaintext_mechanism":
            self.login.tried_plaintext = True
            self.login.method = event.mechanism
        else:
            self.login.tried_unsupported = True

    def _set_disconnect_reason(self, reason: str) -> None:
        in_session = self.session is not None
        if reason == "quit":
            self.end_reason = "Logged out" if in_session else "Aborted login by logging out"
        elif reason == "too many bad commands":
            self.end_reason = "Too many bad commands." if in_session else "Disconnected: Too many bad commands"
        elif reason == "inactivity":
            self.end_reason = "Disconnected for inactivity" if in_session else "Inactivity"

    async def _start_tls(self) -> None:
        from pydovecot.master.tls import start_tls

        assert self.service.tls is not None
        await self._flush()
        try:
            await start_tls(self.writer, self.service.tls)
        except (ConnectionError, OSError, ssl.SSLError, TimeoutError) as exc:
            raise _ClientGone from exc
        self.tls = True
        self.core.settings = replace(self.core.settings, tls_active=True, plaintext_auth_allowed=True)
        self.core.tls_started()

    # -- authentication --

    def _auth_params(self) -> AuthParams:
        from pydovecot.master.tls import client_cert_username

        c = self.conn
        field = str(self.node.get("ssl_cert_username_field") or "commonName")
        cert_name = client_cert_username(self.writer.get_extra_info("ssl_object"), field)
        return AuthParams(service="pop3", local_ip=c.local_ip, remote_ip=c.remote_ip, local_port=c.local_port,
                          remote_port=c.remote_port, secured=self.tls or c.secured, session=c.session_id,
                          valid_client_cert=cert_name is not None, cert_username=cert_name)

    async def _auth_begin(self, mechanism: str, initial: bytes | None) -> None:
        self.login.attempts += 1
        self.login.method = mechanism
        try:
            reply = await self.service.auth_client.begin(mechanism, self._auth_params(), initial)
        except AuthClientError:
            LOGIN_LOG.error("Auth server connection lost", extra=LOGIN_PREFIX)
            self.core.login_failed(TEMP_FAIL_TEXT)
            return
        await self._auth_reply(reply)

    async def _auth_continue(self, data: bytes) -> None:
        if self.login.sasl_id is None:
            self.core.login_failed()
            return
        try:
            reply = await self.service.auth_client.cont(self.login.sasl_id, data)
        except AuthClientError:
            self.login.sasl_id = None
            self.core.login_failed(TEMP_FAIL_TEXT)
            return
        await self._auth_reply(reply)

    async def _auth_reply(self, reply: AuthReply) -> None:
        if reply.kind == "CONT":
            self.login.sasl_id = reply.id
            self.core.sasl_challenge(reply.data)
            return
        self.login.sasl_id = None
        self.login.user = reply.user or self.login.pending_user or self.login.user
        if reply.kind == "OK" and "nologin" not in reply.fields:
            await self._finish_login(reply)
            return
        self.login.temp_failed = not reply.reason and reply.temporary
        # As pop3-login: a reason from auth wins, then a temporary failure named with host and time.
        if reply.reason:
            self.core.login_failed(f"[AUTH] {reply.reason}")
        elif reply.temporary:
            self.core.login_failed(f"[SYS/TEMP] {temp_failure_text()}")
        else:
            self.core.login_failed(AUTH_FAILED_TEXT)

    async def _finish_login(self, reply: AuthReply) -> None:
        username = reply.user or self.login.pending_user or ""
        if self.service.handoff is not None:
            await self._hand_off(username, reply)
            return
        fields = await self._userdb_fields(username, reply)
        if fields is None:
            return
        self._log_login(username)
        await self.start_mail(username, fields)

    async def _hand_off(self, username: str, reply: AuthReply) -> None:
        """pop3-login's end: the client and what it pipelined go to the master, which gives them
        to the user's mail process; that one answers PASS."""
        from pydovecot.master.handoff import Handoff, conn_fields, proxy

        conn = replace(self.conn, tls=self.tls)
        handoff = Handoff("pop3", username, conn_fields(conn), mechanism=self.login.method or "",
                          pending=self.core.take_unconsumed().decode("latin-1"), auth_fields=dict(reply.fields))
        await self._flush()
        result, pair = await self.service.handoff.hand_off(self.reader, self.writer, handoff)
        LOGIN_LOG.info("Login: %s", self._log_elements(username, result.mail_pid), extra=LOGIN_PREFIX)
        if not result.ok:  # what Dovecot's pop3 process says when the user cannot be set up, then close
            self.core.login_failed(INTERNAL_ERROR_TEXT)
            await self._flush()
            self._closed = True
        self.handed_off = True
        if pair is not None:  # TLS stays here: copy between it and the mail process
            await proxy(self.reader, self.writer, pair)

    async def start_mail(self, username: str, fields: dict[str, str]) -> bool:
        """The mail session from the userdb fields; False (the client told) when it cannot be."""
        user = self._mail_user(username, fields)
        if user is None:
            return False
        self.user = user
        try:
            session = await self._open_session(user)
        except _SessionLocked:
            self.core.login_failed(LOCKED_TEXT)
            self.user = None
            return False
        except Exception as exc:  # noqa: BLE001 - a storage failure is the client's temp failure
            LOG.error("Couldn't open INBOX: %s", exc, extra=self.log_extra)
            self.core.login_failed(INTERNAL_ERROR_TEXT)
            self.user = None
            return False
        self.session = session
        self.core.login_succeeded(session)
        self.registered = register_session("pop3", user.username, self.conn.remote_ip, kick_callback=self.kick)
        enable_last = bool(user.settings.get("pop3_enable_last"))
        workarounds = parse_workarounds(str(user.settings.get("pop3_client_workarounds")))
        self.core.settings = replace(self.core.settings, enable_last=enable_last, workarounds=workarounds)
        return True

    async def _userdb_fields(self, username: str, reply: AuthReply) -> dict[str, str] | None:
        c = self.conn
        info = RequestInfo(service="pop3", local_ip=c.local_ip, remote_ip=c.remote_ip,
                           local_port=None if c.local_port is None else str(c.local_port),
                           remote_port=None if c.remote_port is None else str(c.remote_port),
                           secured=self.tls or c.secured)
        try:
            answer = await self.service.auth_service.backend.lookup_user(username, info)
        except Exception as exc:  # noqa: BLE001 - the auth side logs its own failures
            LOGIN_LOG.error("userdb lookup(%s) failed: %s", username, exc, extra=LOGIN_PREFIX)
            answer = None
        if answer is None or answer.result is not UserdbResult.OK:
            if answer is not None:
                reason = answer.reason or ("user doesn't exist" if answer.result is UserdbResult.USER_UNKNOWN
                                           else "internal failure")
                LOGIN_LOG.error("userdb lookup(%s) failed: %s", username, reason, extra=LOGIN_PREFIX)
            self.core.login_failed(INTERNAL_ERROR_TEXT)
            return None
        fields = {f.key: f.value for f in answer.fields.items}
        for key, value in reply.fields.items():  # passdb prefetch: userdb_<name>=value
            if key.startswith("userdb_"):
                fields.setdefault(key[len("userdb_"):], value)
        if answer.user:
            fields.setdefault("user", answer.user)
        return fields

    def _mail_user(self, username: str, fields: dict[str, str]) -> MailUser | None:
        c = self.conn
        extra = {"local_ip": c.local_ip, "remote_ip": c.remote_ip, "session": c.session_id,
                 "pid": str(self.service.pid)}
        try:
            return create_mail_user(self.node, fields.get("user", username), fields, service="pop3",
                                    extra_variables=extra)
        except Exception as exc:  # noqa: BLE001 - MailUserError, a plugin failing to load...: a temp failure
            LOG.error("%s", exc, extra={"dovecot_prefix": f"pop3({username})<{self.service.pid}>"
                                                          f"<{c.session_id}>: "})
            self.core.login_failed(INTERNAL_ERROR_TEXT)
            return None

    async def _open_session(self, user: MailUser) -> Pop3MailSession:
        settings = Pop3SessionSettings.from_user(user)
        lock = None
        if settings.lock_session:
            lock = await self._lock_session(user, settings.lock_timeout)
        try:
            return await run_as(user.uid, user.gid, Pop3MailSession.open, user, settings, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    async def _lock_session(self, user: MailUser, timeout: float) -> SessionLock:
        """pop3_lock_session: wait (without blocking the loop) for the other session to end."""
        directory = await run_as(user.uid, user.gid, Pop3MailSession.control_dir, user)
        deadline = time.monotonic() + timeout
        while True:
            lock = await run_as(user.uid, user.gid, SessionLock.try_acquire, directory)
            if lock is not None:
                return lock
            if time.monotonic() >= deadline:
                raise _SessionLocked
            await asyncio.sleep(0.1)

    def _log_elements(self, user: str, mail_pid: int | None = None) -> str:
        """login_log_format_elements, expanded for this connection."""
        from pydovecot.login.log_elements import login_elements, ssl_security

        c = self.conn
        values = {"user": user, "username": user.partition("@")[0], "domain": user.partition("@")[2],
                  "service": "pop3", "local_ip": c.local_ip, "remote_ip": c.remote_ip, "pid": str(os.getpid()),
                  "mechanism": self.login.method, "local_port": str(c.local_port or ""),
                  "remote_port": str(c.remote_port or ""), "secured": self._security(),
                  "ssl_security": ssl_security(self.writer) if self.tls else None,
                  "mail_pid": str(mail_pid) if mail_pid is not None else None, "session": c.session_id}
        return login_elements(str(self.node.get("login_log_format_elements")), values)

    def _log_login(self, username: str) -> None:
        LOGIN_LOG.info("Login: %s", self._log_elements(username, self.service.pid), extra=LOGIN_PREFIX)

    # -- the end --

    async def _quit(self, event: Quit) -> None:
        assert self.session is not None and self.user is not None
        self.end_reason = "Logged out"
        try:
            await run_as(self.user.uid, self.user.gid, self.session.commit, event.deleted, event.seen)
        except Exception as exc:  # noqa: BLE001 - logged; the client already has its +OK
            LOG.error("Couldn't update INBOX at QUIT: %s", exc, extra=self.log_extra)
            self.end_reason = "Storage error during logout."

    def kick(self) -> None:
        """`doveadm kick`: end this session as Dovecot's SIGTERM does."""
        self.kicked = True
        self.writer.close()

    async def finish(self) -> None:
        self._closed = True
        if self.handed_off:
            with contextlib.suppress(Exception):
                self.writer.close()
            return
        if self.registered is not None:
            self.registered.unregister()
        if self.login.sasl_id is not None:
            with contextlib.suppress(Exception):
                self.service.auth_client.cancel(self.login.sasl_id)
        if self.session is not None and self.user is not None:
            stats = self.session.logout_text(self.core, input_bytes=self.bytes_in, output_bytes=self.bytes_out,
                                             session_id=self.conn.session_id)
            LOG.info("Disconnected: %s %s", self.end_reason, stats, extra=self.log_extra)
            with contextlib.suppress(Exception):
                await run_as(self.user.uid, self.user.gid, self.session.close)
        else:
            self._log_login_disconnect()
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 5)

    def _log_login_disconnect(self) -> None:
        from pydovecot.master.tls import client_cert_disconnect_reason

        secs = int(time.monotonic() - self.login.started)
        cert_reason = client_cert_disconnect_reason(
            self.writer.get_extra_info("ssl_object"), auth_attempts=self.login.attempts,
            required=bool(self.node.get("auth_ssl_require_client_cert")))
        if cert_reason is not None:
            state = cert_reason
        elif self.login.tried_plaintext:
            state = "tried to use disallowed plaintext auth"
        elif self.login.tried_unsupported:
            state = "tried to use unsupported auth mechanism"
        elif self.login.temp_failed:
            state = "auth service reported temporary failure"
        elif self.login.attempts:
            state = f"auth failed, {self.login.attempts} attempts in {secs} secs"
        else:
            state = f"no auth attempts in {secs} secs"
        LOGIN_LOG.info("Disconnected: %s (%s): %s", self.end_reason, state, self._log_elements(self.login.user or ""),
                       extra=LOGIN_PREFIX)


class _SessionLocked(Exception):
    pass
