"""The auth service: asyncio UNIX-socket servers driving the wire state machines.

    service = AuthService(backend, AuthServiceSettings(mechanisms="plain login cram-md5"))
    await service.start(client_path=".../auth-client", master_path=".../auth-master",
                        userdb_path=".../auth-userdb")
    ...
    await service.close()

SASL runs in `pydovecot.auth.mechanisms`; every password and user lookup goes through an
`AuthBackend` (below), whose methods are coroutines so that nothing here blocks the loop.
Failed authentications are answered after `failure_delay` seconds (auth_failure_delay) without
holding up other requests, with the same answer for an unknown user and a wrong password.
With an `AuthPenalty` table (pydovecot.auth.penalty), a request from an IP with recent failures
starts only after that IP's penalty delay, as with Dovecot's anvil.
Master user logins: a mechanism's authorization identity reaches the backend as
`RequestInfo.login_user`; the answer's `master_user` becomes auth_user= in OK (or in the FAIL
with code=authz_fail when the login user fails the normal passdbs).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import enum
import itertools
import logging
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydovecot.auth.mechanisms import (
    AuthRequestContext,
    Challenge,
    Event,
    Failure,
    LookupCredentials,
    Mechanism,
    PassdbCapabilities,
    PassdbReply,
    PassdbResult,
    Success,
    UsernameRules,
    VerifyPlain,
    configured_mechanisms,
    create_mechanism,
    fix_username,
    handshake_mech_lines,
)
from pydovecot.auth.penalty import AuthPenalty, userpass_checksum
from pydovecot.auth.wire import client_protocol as cp
from pydovecot.auth.wire import master_protocol as mp
from pydovecot.auth.wire.fields import AuthFields

log = logging.getLogger("pydovecot.auth")

T = TypeVar("T")

READ_SIZE = 65536


# --- what the backend (passdb/userdb chain) must provide --------------------------------------

@dataclass(frozen=True)
class RequestInfo:
    """What a lookup knows about the request (Dovecot's auth_request fields, for %-variables)."""

    service: str
    local_ip: str | None = None
    remote_ip: str | None = None
    local_port: str | None = None
    remote_port: str | None = None
    secured: bool = False
    mechanism: str | None = None  # None for master-socket lookups
    params: tuple[tuple[str, str], ...] = ()
    # The SASL authorization identity (PLAIN authzid, or the part before
    # auth_master_user_separator): the user a master user asks to log in as. The `user` the
    # backend is called with is then the master user, whose password is checked.
    login_user: str | None = None


@dataclass(frozen=True)
class PassdbAnswer:
    result: PassdbResult
    # The username after the lookup when the passdb changed it (its `user` field).
    user: str | None = None
    # The passdb's extra fields: visible ones go into OK/PASS, hidden ones (userdb_* prefetch)
    # are only counted (see AuthFields.append_to).
    fields: AuthFields = AuthFields()
    # lookup_credentials: the raw credentials in the asked scheme (see mechanisms/events.py).
    credentials: bytes | None = None
    # A master user login: the master user who authenticated (`user` is then the login user).
    # Dovecot sends it as auth_user= after original_user=, also in the FAIL of a login whose
    # target user then failed the normal passdbs (pass = yes).
    master_user: str | None = None


class UserdbResult(enum.Enum):
    OK = "ok"
    USER_UNKNOWN = "user_unknown"
    INTERNAL_FAILURE = "internal_failure"


@dataclass(frozen=True)
class UserdbAnswer:
    result: UserdbResult
    user: str | None = None
    fields: AuthFields = AuthFields()  # in the userdb's order: uid, gid, home, then extras
    reason: str | None = None  # for INTERNAL_FAILURE: sent as FAIL reason=


class AuthBackend(Protocol):
    """The passdb/userdb chain as the service uses it. Exceptions count as internal failures.

    A master user login (SASL authzid) calls verify_plain/lookup_credentials with the master
    user as ``user`` and the requested login user in ``request.login_user``."""

    async def verify_plain(self, user: str, password: bytes, request: RequestInfo) -> PassdbAnswer:
        """Check a plaintext password."""
        ...

    async def lookup_credentials(self, user: str, scheme: str, request: RequestInfo) -> PassdbAnswer:
        """The user's credentials in `scheme`, raw. scheme "" is the master socket's PASS: a passdb
        lookup without a password, where only result, user and fields matter."""
        ...

    async def lookup_user(self, user: str, request: RequestInfo) -> UserdbAnswer:
        ...

    def iterate_users(self, request: RequestInfo) -> AsyncIterator[str]:
        """Every user of the iterable userdbs (LIST); raise to end the listing with DONE fail."""
        ...


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthServiceSettings:
    mechanisms: str = "plain"  # auth_mechanisms
    failure_delay: float = 2.0  # auth_failure_delay, seconds
    username_rules: UsernameRules = field(default_factory=UsernameRules)
    anonymous_username: str = "anonymous"
    realms: tuple[str, ...] = ()
    hostname: str = field(default_factory=lambda: os.uname().nodename)
    passdbs: PassdbCapabilities = field(default_factory=PassdbCapabilities)
    # Any `passdb { master = yes }`: without one an authzid other than the user is refused.
    has_master_passdbs: bool = False
    ssl_require_client_cert: bool = False  # auth_ssl_require_client_cert
    ssl_username_from_cert: bool = False  # auth_ssl_username_from_cert


# Dovecot's reason when auth_ssl_require_client_cert refuses a request (shown to the client).
NO_CLIENT_CERT = "Client didn't present valid SSL certificate"


# --- running a coroutine eagerly -------------------------------------------------------------
# Dovecot answers a lookup that needs no I/O (passwd-file, a cache hit) before it reads the next
# input line. Python 3.11 has no eager task factory, so this gives that ordering: a coroutine's
# first step runs synchronously, and only one that really suspends continues in a task.

def run_eagerly(coro: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    """(True, result) when `coro` finished without suspending, else (False, task)."""
    try:
        first = coro.send(None)
    except StopIteration as stop:
        return True, stop.value
    return False, asyncio.ensure_future(_Resumed(coro, first))


class _Resumed:
    """Awaitable that hands a started coroutine over to a Task: it yields what the coroutine
    yielded (a future the Task then waits for, or None for a bare reschedule) and forwards the
    Task's resumptions, exactly as the Task would have done itself."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self._first
        while True:
            try:
                value = yield pending
            except BaseException as exc:  # noqa: BLE001 - cancellation and errors go to the coroutine
                try:
                    pending = self._coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = self._coro.send(value)
            except StopIteration as stop:
                return stop.value


# --- the service ------------------------------------------------------------------------------

Scheduler = Callable[[float, Callable[[], None]], asyncio.TimerHandle]


class AuthService:
    """``penalty``: the per-IP failure penalty table (None: no penalty, as without anvil).
    ``call_later``: schedules the delayed starts and failures (the loop's call_later unless a
    test injects its own clock)."""

    def __init__(self, backend: AuthBackend, settings: AuthServiceSettings | None = None, *,
                 penalty: AuthPenalty | None = None, call_later: Scheduler | None = None) -> None:
        self.backend = backend
        self.settings = settings or AuthServiceSettings()
        self.penalty = penalty
        self.call_later = call_later
        infos = configured_mechanisms(self.settings.mechanisms,
                                      anonymous_username=self.settings.anonymous_username,
                                      passdbs=self.settings.passdbs)
        self.mechanism_names = [info.name for info in infos]
        self.mech_lines = handshake_mech_lines(infos)
        self.spid = os.getpid()
        self._cuids = itertools.count(1)
        self._servers: list[asyncio.AbstractServer] = []
        self._sessions: set[_Session] = set()

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, *, client_path: str | None = None, master_path: str | None = None,
                    userdb_path: str | None = None) -> None:
        listeners: list[tuple[str | None, Callable[[], _Session]]] = [
            (client_path, self.new_client_session),
            (master_path, lambda: self.new_master_session(userdb_only=False)),
            (userdb_path, lambda: self.new_master_session(userdb_only=True)),
        ]
        for path, factory in listeners:
            if path is None:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            server = await asyncio.start_unix_server(self._handler(factory), path=path)
            self._servers.append(server)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for session in list(self._sessions):
            session.abort()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def _handler(self, factory: Callable[[], _Session]) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                                     object]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            session = factory()
            self._sessions.add(session)
            try:
                await session.serve(reader, writer)
            finally:
                self._sessions.discard(session)
        return handle

    # --- sessions (also used directly by tests without sockets) ----------------------------

    def new_client_session(self) -> ClientSession:
        conn = cp.ClientConnection(self.mechanism_names, self.mech_lines, self.spid, next(self._cuids),
                                   secrets.token_bytes(16))
        return ClientSession(self, conn)

    def new_master_session(self, *, userdb_only: bool) -> MasterSession:
        return MasterSession(self, mp.MasterConnection(self.spid, userdb_only=userdb_only))


class _Session(ABC):
    """One connection: reads, feeds the state machine, dispatches events, writes replies."""

    def __init__(self, service: AuthService) -> None:
        self.service = service
        self.backend = service.backend
        self.writer: asyncio.StreamWriter | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        # Without a socket (tests), replies collect here.
        self.sent = bytearray()

    @abstractmethod
    def data_to_send(self) -> bytes:
        """Replies the protocol machine has queued."""

    @abstractmethod
    def receive(self, data: bytes) -> None:
        """Feeds received bytes to the protocol machine and handles its events."""

    @property
    @abstractmethod
    def protocol_closed(self) -> bool:
        """Whether the protocol machine has ended the connection."""

    def flush(self) -> None:
        data = self.data_to_send()
        if not data or self.closed:
            return
        if self.writer is None:
            self.sent += data
        else:
            self.writer.write(data)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        done, task = run_eagerly(coro)
        if done:
            return
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.flush()
        try:
            while not self.closed:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                self.receive(data)
                if self.protocol_closed:
                    break
                # Stop reading while the peer does not read our replies (Dovecot throttles too).
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.abort()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def abort(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        for task in list(self.tasks):
            task.cancel()
        if self.writer is not None:
            self.writer.close()


# --- the auth client protocol -----------------------------------------------------------------

@dataclass
class _AuthRequest:
    begin: cp.AuthBegin
    mechanism: Mechanism
    info: RequestInfo
    fields: AuthFields = AuthFields()  # the passdb's extra fields, for OK
    answer: PassdbAnswer | None = None  # the last passdb answer (its master_user, for OK/FAIL)
    final_success: Success | None = None  # waiting for the answer to the final server message
    lookup: asyncio.Task[PassdbAnswer] | None = None
    started: bool = False  # the mechanism has started (not waiting out an auth penalty)
    penalty_ident: str | None = None  # the remote IP as the penalty table knows it
    last_penalty: int = 0  # the penalty when the request began
    checksum: int = 0  # which user+password it tried (a retry does not raise the penalty)


class ClientSession(_Session):
    """Runs each request's mechanism as far as it goes without waiting, like Dovecot does: a
    lookup the backend answers without suspending (a cache hit, an in-memory table) completes
    before the next input line is read; a lookup that waits continues in a task."""

    def __init__(self, service: AuthService, conn: cp.ClientConnection) -> None:
        super().__init__(service)
        self.conn = conn
        self.requests: dict[int, _AuthRequest] = {}
        self.delayed: set[asyncio.TimerHandle] = set()

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send()

    @property
    def protocol_closed(self) -> bool:
        return self.conn.state is cp.ConnectionState.CLOSED

    def abort(self) -> None:
        for handle in self.delayed:
            handle.cancel()
        self.delayed.clear()
        super().abort()

    def receive(self, data: bytes) -> None:
        self.conn.receive_data(data)
        while (event := self.conn.next_event()) is not None:
            self.handle(event)
        self.flush()

    def handle(self, event: cp.ClientEvent) -> None:
        if isinstance(event, cp.AuthBegin):
            if self.service.settings.ssl_require_client_cert and not event.flag("valid-client-cert"):
                # Refused before the mechanism starts: no failure delay, no penalty.
                self.conn.send_fail(event.id, reason=NO_CLIENT_CERT)
                return
            request = self._new_request(event)
            self.requests[event.id] = request
            self._begin(request)
        elif isinstance(event, cp.AuthContinue):
            request = self.requests.get(event.id)
            if request is None or not request.started:
                return
            if request.final_success is not None:
                self._succeed(request, request.final_success)
            else:
                self._advance(request, request.mechanism.receive(event.data))
        elif isinstance(event, cp.AuthCancel | cp.RequestAborted):
            request = self.requests.pop(event.id, None)
            if request is not None and request.lookup is not None:
                request.lookup.cancel()
        elif isinstance(event, cp.ProtocolError):
            log.error("%s", event.message)
            self.abort()

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after ``delay`` seconds unless the connection closes first."""
        handle: asyncio.TimerHandle

        def fire() -> None:
            self.delayed.discard(handle)
            if not self.closed:
                callback()
        schedule = self.service.call_later or asyncio.get_running_loop().call_later
        handle = schedule(delay, fire)
        self.delayed.add(handle)

    def _begin(self, request: _AuthRequest) -> None:
        """Start the mechanism, after the remote IP's auth penalty if it has one."""
        penalty = self.service.penalty
        if penalty is not None:
            begin = request.begin
            request.penalty_ident = penalty.ident(begin.param("rip"), no_penalty=begin.flag("no-penalty"))
            request.last_penalty, wait = penalty.delay(request.penalty_ident)
            if wait > 0:
                self._later(wait, lambda: self._start(request))
                return
        self._start(request)

    def _start(self, request: _AuthRequest) -> None:
        if self.requests.get(request.begin.id) is not request:
            return  # cancelled while it waited
        request.started = True
        self._advance(request, request.mechanism.start(request.begin.initial_response))
        self.flush()

    def _new_request(self, begin: cp.AuthBegin) -> _AuthRequest:
        settings = self.service.settings
        info = RequestInfo(service=begin.service, local_ip=begin.param("lip"), remote_ip=begin.param("rip"),
                           local_port=begin.param("lport"), remote_port=begin.param("rport"),
                           secured=begin.flag("secured"), mechanism=begin.mechanism, params=begin.params)
        context = AuthRequestContext(service=info.service, local_ip=info.local_ip, remote_ip=info.remote_ip,
                                     secured=info.secured, valid_client_cert=begin.flag("valid-client-cert"),
                                     cert_username=(begin.param("cert_username") or None)
                                     if settings.ssl_username_from_cert else None,
                                     realms=settings.realms, anonymous_username=settings.anonymous_username,
                                     username_rules=settings.username_rules, hostname=settings.hostname,
                                     has_master_passdbs=settings.has_master_passdbs)
        return _AuthRequest(begin, create_mechanism(begin.mechanism, context), info)

    def _advance(self, request: _AuthRequest, event: Event) -> None:
        """Drive the mechanism until it waits for the client or for a suspended lookup."""
        rid = request.begin.id
        while self.requests.get(rid) is request:
            if isinstance(event, Challenge):
                self.conn.send_continue(rid, event.data)
                return
            if isinstance(event, Success):
                if event.extra_server_data is not None and not request.begin.flag("final-resp-ok"):
                    # The final server message goes in one more CONT; its answer does not matter.
                    request.final_success = event
                    self.conn.send_continue(rid, event.extra_server_data)
                    return
                self._succeed(request, event)
                return
            if isinstance(event, Failure):
                self._fail(request, event)
                return
            if isinstance(event, VerifyPlain):
                request.checksum = userpass_checksum(event.user, event.password)
            info = request.info
            if event.authzid is not None and event.authzid != event.user:
                info = dataclasses.replace(info, login_user=event.authzid)
            done, outcome = run_eagerly(self._passdb(event, info))
            if not done:
                task = outcome
                request.lookup = task
                task.add_done_callback(lambda t, r=request: self._lookup_done(r, t))
                return
            event = self._passdb_reply(request, outcome)

    def _lookup_done(self, request: _AuthRequest, task: asyncio.Task[PassdbAnswer]) -> None:
        request.lookup = None
        if task.cancelled() or self.closed or self.requests.get(request.begin.id) is not request:
            return  # cancelled, or the client gave up on the request meanwhile
        self._advance(request, self._passdb_reply(request, task.result()))
        self.flush()

    def _passdb_reply(self, request: _AuthRequest, answer: PassdbAnswer) -> Event:
        request.fields = answer.fields
        request.answer = answer
        return request.mechanism.passdb_reply(PassdbReply(answer.result, answer.credentials, answer.user))

    async def _passdb(self, event: VerifyPlain | LookupCredentials, info: RequestInfo) -> PassdbAnswer:
        try:
            if isinstance(event, VerifyPlain):
                return await self.backend.verify_plain(event.user, event.password, info)
            return await self.backend.lookup_credentials(event.user, event.scheme, info)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - any backend error is Dovecot's internal failure
            log.exception("passdb lookup failed")
            return PassdbAnswer(PassdbResult.INTERNAL_FAILURE)

    @staticmethod
    def _original_user_tail(request: _AuthRequest, user: str | None) -> list[tuple[str, str]]:
        """original_user= when the name changed, then auth_user= for a master user login."""
        tail = []
        original = request.mechanism.fields.original_user
        # EXTERNAL's original name is the empty one it sets; real Dovecot's OK names no
        # original_user then (its FAIL still says user= with it).
        if original and original != user:
            tail.append(("original_user", original))
        if request.answer is not None and request.answer.master_user is not None:
            tail.append(("auth_user", request.answer.master_user))
        return tail

    def _succeed(self, request: _AuthRequest, event: Success) -> None:
        rid = request.begin.id
        fields = request.fields
        if event.extra_server_data is not None and request.final_success is None:
            resp = base64.b64encode(event.extra_server_data).decode()
            fields = AuthFields(fields.items + AuthFields.of([("resp", resp)]).items)
        self.requests.pop(rid, None)
        if self.service.penalty is not None and request.last_penalty != 0:
            self.service.penalty.update(request.penalty_ident, 0)  # success resets the penalty
        self.conn.send_ok(rid, event.user, fields, self._original_user_tail(request, event.user))

    def _fail(self, request: _AuthRequest, event: Failure) -> None:
        rid = request.begin.id
        mech = request.mechanism
        self.requests.pop(rid, None)
        self.conn.retire(rid)
        code = None
        if event.temporary:
            code = "temp_fail"
        elif event.reason in (PassdbResult.USER_DISABLED.value, PassdbResult.PASS_EXPIRED.value):
            code = event.reason
        user = mech.fields.user if mech.fields.user is not None else mech.fields.original_user
        named = mech.fields.user
        passdb = request.answer
        if passdb is not None and passdb.master_user is not None:
            # The master user authenticated, but the login user failed (pass = yes).
            user = named = passdb.user or user
            code = code if event.temporary else "authz_fail"
        tail = self._original_user_tail(request, named)
        if self.service.penalty is not None:
            self.service.penalty.update(request.penalty_ident, request.last_penalty + 1, request.checksum)

        def answer() -> None:
            self.conn.send_fail(rid, user=user, code=code, tail=tail)
            self.flush()

        delay = self.service.settings.failure_delay
        if delay <= 0:
            self.conn.send_fail(rid, user=user, code=code, tail=tail)
            return
        self._later(delay, answer)


# --- the master/userdb protocol ---------------------------------------------------------------

class MasterSession(_Session):
    def __init__(self, service: AuthService, conn: mp.MasterConnection) -> None:
        super().__init__(service)
        self.conn = conn

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send()

    @property
    def protocol_closed(self) -> bool:
        return self.conn.state is mp.MasterState.CLOSED

    def receive(self, data: bytes) -> None:
        self.conn.receive_data(data)
        while (event := self.conn.next_event()) is not None:
            self.handle(event)
        self.flush()

    def handle(self, event: mp.MasterEvent) -> None:
        if isinstance(event, mp.UserLookup):
            self.spawn(self._user(event))
        elif isinstance(event, mp.PassLookup):
            self.spawn(self._pass(event))
        elif isinstance(event, mp.ListUsers):
            self.spawn(self._list(event))
        elif isinstance(event, mp.LoginRequest):
            # No connection of ours takes login requests (auth-login is not served), so every
            # REQUEST names a client that does not exist, which Dovecot answers with FAIL.
            log.error("Master requested auth for nonexistent client %d", event.client_pid)
            self.conn.send_fail(event.id)
        elif isinstance(event, mp.CacheFlush):
            # A backend without a cache has nothing to flush.
            flush = getattr(self.backend, "flush_cache", None)
            self.conn.send_cache_flushed(event.id, flush(list(event.users)) if flush else 0)
        else:
            log.error("%s", event.message)
            self.abort()

    @staticmethod
    def _info(params: tuple[tuple[str, str], ...]) -> RequestInfo:
        values = dict(params)
        return RequestInfo(service=values.get("service", ""), local_ip=values.get("lip"),
                           remote_ip=values.get("rip"), local_port=values.get("lport"),
                           remote_port=values.get("rport"), secured="secured" in values, params=params)

    def _username(self, name: str) -> str | None:
        fixed, error = fix_username(name, self.service.settings.username_rules)
        if fixed is None:
            log.info("%s", error)
        return fixed

    async def _user(self, event: mp.UserLookup) -> None:
        user = self._username(event.user)
        if user is None:
            self.conn.send_notfound(event.id)
        else:
            try:
                answer = await self.backend.lookup_user(user, self._info(event.params))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("userdb lookup failed")
                answer = UserdbAnswer(UserdbResult.INTERNAL_FAILURE)
            if answer.result is UserdbResult.OK:
                self.conn.send_user(event.id, answer.user or user, answer.fields)
            elif answer.result is UserdbResult.USER_UNKNOWN:
                self.conn.send_notfound(event.id)
            else:
                self.conn.send_fail(event.id, answer.reason)
        self.flush()

    async def _pass(self, event: mp.PassLookup) -> None:
        user = self._username(event.user)
        if user is None:
            self.conn.send_notfound(event.id)
            self.flush()
            return
        try:
            answer = await self.backend.lookup_credentials(user, "", self._info(event.params))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("passdb lookup failed")
            answer = PassdbAnswer(PassdbResult.INTERNAL_FAILURE)
        result = answer.result
        if result is PassdbResult.OK:
            self.conn.send_pass(event.id, answer.user or user, answer.fields)
        elif result in (PassdbResult.USER_UNKNOWN, PassdbResult.USER_DISABLED, PassdbResult.PASS_EXPIRED):
            self.conn.send_notfound(event.id)
        elif result is PassdbResult.SCHEME_NOT_AVAILABLE:
            self.conn.send_fail(event.id, "Configured passdbs don't support credentials lookups")
        else:
            self.conn.send_fail(event.id)
        self.flush()

    async def _list(self, event: mp.ListUsers) -> None:
        info = self._info(event.params)
        failed = False
        try:
            async for user in self.backend.iterate_users(info):
                self.conn.send_list_user(event.id, user)
                self.flush()
                if self.writer is not None:
                    await self.writer.drain()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("user iteration failed")
            failed = True
        self.conn.send_list_done(event.id, failed)
        # Lines that arrived while listing were held back, as Dovecot stops reading meanwhile.
        self.receive(b"")
