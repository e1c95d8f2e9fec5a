"""The LMTP service: settings, recipients' deliveries, and the listener on aiosmtpd.

``LmtpService`` has the service shape the master plugs in (``create``/``handle_connection``/
``close``). The command loop itself is :class:`~pydovecot.lmtp.session.LmtpSession`:
aiosmtpd's own loop answers in its own words at every step (``500 Error: command "X" not
recognized``, a 512-byte command limit, one reply after DATA, no BDAT), while Dovecot's clients
and logs expect Dovecot's. :class:`DovecotLMTP` therefore keeps aiosmtpd's connection handling
(transport, reader/writer, timeout plumbing) and runs our session in place of its loop.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from aiosmtpd.lmtp import LMTP

from pydovecot.config.tree import Node, SettingsTree
from pydovecot.login.connection import ConnectionInfo
from pydovecot.storage.access import call_as, preload_modules, run_as
from pydovecot.storage.mail_user import create_mail_user

from .address import orcpt_address
from .delivery import (
    CRITICAL_MSG,
    DeliveryOverQuota,
    DeliveryResult,
    DeliveryTempFail,
    SavedFile,
    TraceInfo,
    deliver,
    over_quota,
    to_lf,
    trace_headers,
)
from .session import LmtpSession, Recipient, Transaction
from .userdb import AuthServiceLike

log = logging.getLogger("pydovecot.lmtp")

T = TypeVar("T")

# Distinct (local, remote) address pairs whose merged settings are kept.
NODE_CACHE_SIZE = 1024


def _ssl_context(node: Node) -> ssl.SSLContext | None:
    if str(node.get("ssl") or "no") == "no":
        return None
    # The master's builder: it reuses the context the master made while still root when the
    # key file is root-only (the service is created after the master dropped to mail_uid).
    from pydovecot.master.tls import TLSConfigError, tls_context

    try:
        return tls_context(node)
    except TLSConfigError as exc:
        log.error("STARTTLS not available: %s", exc, extra={"dovecot_prefix": "lmtp: "})
        return None


@dataclass(frozen=True)
class LmtpSettings:
    """The LMTP settings a delivery reads, from one connection's merged node (read once: the
    node never changes in a service, and each ``get`` walks the tree)."""

    node: Node
    recipient_delimiter: str
    hdr_delivery_address: str
    add_received_header: bool
    save_to_detail_mailbox: bool
    autocreate: bool
    autosubscribe: bool
    rcpt_check_quota: bool
    over_quota_code: str

    @classmethod
    def of(cls, node: Node) -> LmtpSettings:
        return cls(node, str(node.get("recipient_delimiter") or ""),
                   str(node.get("lmtp_hdr_delivery_address") or "final"),
                   bool(node.get("lmtp_add_received_header")), bool(node.get("lmtp_save_to_detail_mailbox")),
                   bool(node.get("lda_mailbox_autocreate")), bool(node.get("lda_mailbox_autosubscribe")),
                   bool(node.get("lmtp_rcpt_check_quota")), _over_quota_code(node))


class LmtpService:
    lmtp_only_process: ClassVar[bool] = False
    """Set in a worker process of the lmtp service: nothing but LMTP sessions runs on its loop."""

    def __init__(self, tree: SettingsTree, auth: AuthServiceLike) -> None:
        self.tree = tree
        self.auth = auth
        self.node = tree.lookup(service="lmtp")
        self.hostname = str(self.node.get("hostname") or "") or socket.gethostname()
        self.greeting = str(self.node.get("login_greeting") or "Dovecot ready.")
        self.ssl_context = _ssl_context(self.node)
        self.limit = int(self.node.get("lmtp_user_concurrency_limit") or 0)
        self.active: dict[str, int] = {}
        self.nodes: dict[tuple[str | None, str | None], LmtpSettings] = {}
        self.settings = LmtpSettings.of(self.node)
        self.servers: list[asyncio.AbstractServer] = []
        self.tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def create(cls, tree: SettingsTree, *, auth_service: AuthServiceLike) -> Self:
        return cls(tree, auth_service)

    @classmethod
    def prepare_worker(cls) -> None:
        """In a worker process before it accepts: the imports every delivery's first switch to
        a user's identity makes (a few hundred ms) are not paid by the first client's mail, and
        the modules' objects are moved out of the garbage collector's sight (they live as long
        as the process: the collections that deliveries trigger need not walk them each time).
        The process serves LMTP only (see :meth:`storage_call`)."""
        preload_modules()
        gc.freeze()
        cls.lmtp_only_process = True

    # -- connections ----------------------------------------------------------------------------

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                                conn: ConnectionInfo) -> None:
        """Serve one client until it leaves; never raises."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        cancelled = False
        try:
            await LmtpSession(self, reader, writer, conn).run()
        except asyncio.CancelledError:
            cancelled = True  # the service is closing
        except Exception:  # noqa: BLE001 - one broken connection must not take the service down
            log.exception("LMTP session failed", extra={"dovecot_prefix": f"lmtp({os.getpid()}): "})
        finally:
            if task is not None:
                self.tasks.discard(task)
            await _close_writer(writer, abort=cancelled)

    async def serve_tcp(self, host: str, port: int) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: DovecotLMTP(self), host, port)
        self.servers.append(server)
        return server

    async def close(self) -> None:
        """Stop listening, end the sessions still open (a delivery in a worker thread finishes)."""
        for server in self.servers:
            server.close()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self.servers:
            await server.wait_closed()
        self.servers.clear()

    # -- settings per connection ----------------------------------------------------------------

    def settings_for(self, conn: ConnectionInfo) -> LmtpSettings:
        """The settings for the connection's addresses; the merge is costly (a copy of the whole
        tree) and the tree never changes in a service, so each address pair is merged once."""
        if conn.local_ip is None and conn.remote_ip is None:
            return self.settings
        key = (conn.local_ip, conn.remote_ip)
        settings = self.nodes.get(key)
        if settings is None:
            if len(self.nodes) >= NODE_CACHE_SIZE:
                self.nodes.clear()
            node = self.tree.lookup(service="lmtp", local=conn.local_ip, remote=conn.remote_ip)
            settings = self.nodes[key] = LmtpSettings.of(node)
        return settings

    def node_for(self, conn: ConnectionInfo) -> Node:
        return self.settings_for(conn).node

    def recipient_delimiter(self, conn: ConnectionInfo) -> str:
        return self.settings_for(conn).recipient_delimiter

    # -- lmtp_user_concurrency_limit ------------------------------------------------------------

    def take_slot(self, user: str) -> bool:
        count = self.active.get(user, 0)
        if self.limit and count >= self.limit:
            return False
        self.active[user] = count + 1
        return True

    def release_slot(self, user: str) -> None:
        count = self.active.get(user, 0) - 1
        if count <= 0:
            self.active.pop(user, None)
        else:
            self.active[user] = count

    # -- delivery -------------------------------------------------------------------------------

    async def deliver_transaction(self, session: LmtpSession, tx: Transaction, body: bytes) -> list[str]:
        """One reply per RCPT that was accepted, in order; a 250 only once the mail is durable."""
        settings = self.settings_for(session.conn)
        data = to_lf(body)
        unique = [rcpt for rcpt in tx.recipients if rcpt.duplicate_of is None]
        trace = TraceInfo(tx.sender, session.helo or "unknown",
                          session.conn.remote_ip, self.hostname, tx.id, time.time())
        # Several recipients get the same bytes (no per-recipient header then): as Dovecot, the
        # first one saved is copied for the others, hard-linked where the settings allow.
        first: SavedFile | None = None
        for rcpt in unique:
            rcpt.reply, saved = await self._deliver_one(settings, trace, rcpt, data, single=len(unique) == 1,
                                                        copy_of=first)
            if first is None and saved is not None:
                first = saved
        return [(rcpt.duplicate_of or rcpt).reply for rcpt in tx.recipients]

    async def _deliver_one(self, settings: LmtpSettings, trace: TraceInfo, rcpt: Recipient, data: bytes, *,
                           single: bool, copy_of: SavedFile | None = None) -> tuple[str, SavedFile | None]:
        address = rcpt.path.address
        prefix = f"lmtp({rcpt.username})<{os.getpid()}><{rcpt.session_id}>: "
        mode = settings.hdr_delivery_address
        # Delivered-To (and Received's "for") only when the one copy is for one recipient; "original"
        # is the ORCPT= address, and no header when the client gave none.
        delivered_to = None
        if single and mode == "final":
            delivered_to = address
        elif single and mode == "original":
            delivered_to = orcpt_address(rcpt.path.param("ORCPT"))
        headers = trace_headers(trace, delivered_to=delivered_to, received=settings.add_received_header,
                                for_address=delivered_to)
        mailbox = rcpt.detail if rcpt.detail and settings.save_to_detail_mailbox else "INBOX"
        try:
            # The user and the save in one storage call. No per-user queue: concurrent saves into
            # one mailbox (threads of this process) write their files in parallel and are
            # published together under one uidlist lock (maildir/save.py).
            result = await self.storage_call(_create_and_deliver, settings, rcpt, mailbox, headers + data,
                                             trace.sender, copy_of, not single and copy_of is None)
        except DeliveryOverQuota as exc:
            for line in exc.log_lines:
                log.info("%s", line, extra={"dovecot_prefix": prefix})
            return f"{settings.over_quota_code} <{address}> {exc}", None
        except (DeliveryTempFail, Exception) as exc:  # noqa: BLE001 - every storage failure is temporary
            log.error("%s", exc, extra={"dovecot_prefix": prefix})
            return f"451 4.2.0 <{address}> {CRITICAL_MSG}", None
        for line in result.log_lines:
            log.info("%s", line, extra={"dovecot_prefix": prefix})
        return f"250 2.0.0 <{address}> {rcpt.session_id} Saved", result.saved

    async def storage_call(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` (it switches to the user itself) where it costs least.

        In a worker process of the lmtp service whose only session is the calling one -- always
        so under Dovecot's default ``service lmtp { client_limit = 1 }`` -- the loop has nothing
        else to do while the save waits for its lock or its fsyncs, so it runs right here,
        blocking as Dovecot's own lmtp process blocks: handing it to a storage thread and back
        cost more CPU than the save's own Python work (the GIL passed between the threads, a
        futex wake and a self-pipe write each way). With other sessions open, or in a process
        that serves other services too (the master), it goes to a storage thread, so that they
        are not held up."""
        if self.lmtp_only_process and len(self.tasks) <= 1:
            return func(*args)
        return await run_as(None, None, func, *args)

    # -- lmtp_rcpt_check_quota ------------------------------------------------------------------

    async def rcpt_quota_reply(self, conn: ConnectionInfo, address: str, username: str,
                               fields: dict[str, str]) -> str | None:
        """The RCPT reply refusing a recipient already over quota, when ``lmtp_rcpt_check_quota``
        asks for the check (Dovecot then refuses before DATA); None to accept."""
        settings = self.settings_for(conn)
        if not settings.rcpt_check_quota:
            return None
        error = await self.storage_call(_create_and_check_quota, settings.node, username, fields)
        return None if error is None else f"{settings.over_quota_code} <{address}> {error}"


def _over_quota_code(node: Node) -> str:
    """``quota_full_tempfail = yes`` makes a full mailbox a temporary failure."""
    return "452 4.2.2" if node.get("quota_full_tempfail") else "552 5.2.2"


def _create_and_check_quota(node: Node, username: str, fields: dict[str, str]) -> str | None:
    user = create_mail_user(node, username, fields, service="lmtp")
    return call_as(user.uid, user.gid, over_quota, user)


def _create_and_deliver(settings: LmtpSettings, rcpt: Recipient, mailbox: str, message: bytes, sender: str,
                        copy_of: SavedFile | None = None, keep_file: bool = False) -> DeliveryResult:
    """Build the user (as root, like the lookup), then save as the user."""
    user = create_mail_user(settings.node, rcpt.username, rcpt.fields, service="lmtp")
    save = functools.partial(deliver, user, mailbox, message, sender=sender, autocreate=settings.autocreate,
                             autosubscribe=settings.autosubscribe, copy_of=copy_of, keep_file=keep_file)
    return call_as(user.uid, user.gid, save)


async def _close_writer(writer: asyncio.StreamWriter, *, abort: bool) -> None:
    """Close the connection; a TLS close waits for the peer's close_notify, so only briefly."""
    if abort:
        writer.transport.abort()
        return
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5)
    except (ConnectionError, OSError, TimeoutError):
        writer.transport.abort()


class DovecotLMTP(LMTP):
    """aiosmtpd's LMTP protocol object with Dovecot's command loop (see the module docstring)."""

    def __init__(self, service: LmtpService) -> None:
        super().__init__(handler=None, hostname=service.hostname, ident="Dovecot ready.")
        self.service = service

    def _timeout_cb(self) -> None:
        # The session keeps its own idle timeout (it also serves connections aiosmtpd never saw).
        return None

    async def _handle_client(self) -> None:
        assert self.transport is not None and self._writer is not None
        peer = self.transport.get_extra_info("peername") or (None, None)
        sock = self.transport.get_extra_info("sockname") or (None, None)
        unix = not isinstance(peer, tuple)
        conn = ConnectionInfo(None if unix else sock[0], None if unix else sock[1],
                              None if unix else peer[0], None if unix else peer[1], listener="lmtp")
        await self.service.handle_connection(self._reader, self._writer, conn)
