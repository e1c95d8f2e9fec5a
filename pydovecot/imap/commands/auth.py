"""Logging in: LOGIN and AUTHENTICATE run SASL through the auth client, then the user is set up.

The replies are imap-login's: `[AUTHENTICATIONFAILED]`, `[UNAVAILABLE]` for temporary failures,
`[ALERT]` for a passdb reason; on success the post-login capabilities go with `Logged in`
(untagged when the client already asked for CAPABILITY).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from typing import TYPE_CHECKING

from pydovecot.login.auth_client import AuthClientError, AuthParams, AuthReply, temp_failure_text
from pydovecot.storage.mail_user import MailUserError, create_mail_user

from .. import loginlog
from ..protocol import ConnectionState, SaslResponse
from ..protocol.responses import response_code, tagged, untagged
from ..session import MAX_SESSION_LITERAL
from .common import CommandFailed, fail

if TYPE_CHECKING:
    from pydovecot.storage.shared import LookupUser

    from ..session import Session

log = logging.getLogger("pydovecot.imap-login")
AUTH_FAILED = CommandFailed("Authentication failed.", "AUTHENTICATIONFAILED")
TEMP_FAILED = CommandFailed("Temporary authentication failure.", "UNAVAILABLE")
PLAINTEXT_DISABLED = CommandFailed(
    "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.", "PRIVACYREQUIRED"
)


def login_disabled(session: Session) -> bool:
    return bool(session.settings.get("disable_plaintext_auth")) and not session.conn.secured


async def sasl(session: Session, tag: bytes, mechanism: str, initial: bytes | None) -> None:
    """Run one SASL exchange to its end and reply."""
    client = session.service.auth_client
    mech = mechanism.upper()
    if client is None:
        fail(session, tag, TEMP_FAILED)
        return
    if mech not in client.mechanisms:
        fail(session, tag, CommandFailed("Unsupported authentication mechanism.", "ALERT"))
        return
    if login_disabled(session) and "plaintext" in client.mechanisms[mech]:
        fail(session, tag, PLAINTEXT_DISABLED)
        return
    session.auth_attempts += 1
    session.last_mechanism = mech
    conn = session.conn
    cert_name = _client_cert_username(session)
    params = AuthParams(service="imap", local_ip=conn.local_ip, remote_ip=conn.remote_ip,
                        local_port=conn.local_port, remote_port=conn.remote_port, secured=conn.secured,
                        session=conn.session_id, valid_client_cert=cert_name is not None,
                        cert_username=cert_name)
    try:
        reply = await client.begin(mech, params, initial)
        while reply.kind == "CONT":
            session.protocol.start_sasl(tag, base64.b64encode(reply.data))
            event = await session.next_event()
            if not isinstance(event, SaslResponse):
                client.cancel(reply.id)
                return
            if event.data == b"*":
                client.cancel(reply.id)
                fail(session, tag, CommandFailed("Authentication aborted by client.", status="BAD"))
                return
            try:
                data = base64.b64decode(event.data, validate=True)
            except (binascii.Error, ValueError):
                client.cancel(reply.id)
                fail(session, tag, CommandFailed("Invalid base64 in response", "ALERT"))
                return
            reply = await client.cont(reply.id, data)
    except AuthClientError:
        fail(session, tag, TEMP_FAILED)
        return
    session.last_auth_temp_fail = reply.kind != "OK" and not reply.reason and reply.temporary
    if reply.kind != "OK":
        session.last_user = reply.user or session.last_user
        fail(session, tag, _failure(reply))
        return
    await finish_login(session, tag, reply, mech)


def _client_cert_username(session: Session) -> str | None:
    """The verified TLS client certificate's name (None without one), for EXTERNAL."""
    from pydovecot.master.tls import client_cert_username

    field = str(session.settings.get("ssl_cert_username_field") or "commonName")
    return client_cert_username(session.writer.get_extra_info("ssl_object"), field)


def _failure(reply: AuthReply) -> CommandFailed:
    # As imap-login: a reason from auth wins (an ALERT, e.g. auth_ssl_require_client_cert's),
    # then a temporary failure, named with host and time.
    if reply.reason:
        return CommandFailed(reply.reason, "ALERT")
    if reply.temporary:
        return CommandFailed(temp_failure_text(), "UNAVAILABLE")
    return AUTH_FAILED


async def finish_login(session: Session, tag: bytes, reply: AuthReply, mech: str) -> None:
    """The passdb said yes: look up the user, build the mail user, switch to the session.

    In a login process (privilege separation) the client goes to a mail process instead."""
    from pydovecot.auth.service import RequestInfo, UserdbResult

    if session.service.handoff is not None:
        await _hand_off(session, tag, reply, mech)
        return
    username = reply.user or ""
    conn = session.conn
    backend = session.service.auth_service.backend
    info = RequestInfo(service="imap", local_ip=conn.local_ip, remote_ip=conn.remote_ip,
                       secured=conn.secured)
    try:
        answer = await backend.lookup_user(username, info)
    except Exception:  # noqa: BLE001 - a broken userdb is a temporary failure for the client
        fail(session, tag, TEMP_FAILED)
        return
    if answer.result is not UserdbResult.OK:
        fail(session, tag, TEMP_FAILED if answer.result is UserdbResult.INTERNAL_FAILURE else AUTH_FAILED)
        return
    fields = {f.key: f.value for f in answer.fields.items}
    await start_session(session, tag, answer.user or username, fields, mech)


INTERNAL_ERROR_BYE = b"* BYE Internal error occurred. Refer to server log for more information.\r\n"


async def _hand_off(session: Session, tag: bytes, reply: AuthReply, mech: str) -> None:
    """imap-login's end: the client, what it pipelined and LOGIN's tag go to the master, which
    gives them to the user's mail process; that one sends "OK Logged in"."""
    from pydovecot.master.handoff import Handoff, conn_fields, proxy

    user = reply.user or ""
    handoff = Handoff("imap", user, conn_fields(session.conn), mechanism=mech,
                      pending=session.protocol.take_unconsumed().decode("latin-1"), tag=tag.decode("latin-1"),
                      capability_sent=session.capability_sent, auth_fields=dict(reply.fields))
    await session.flush()
    result, pair = await session.service.handoff.hand_off(session.reader, session.writer, handoff)
    session.closing = True
    session.handed_off = True  # auth said yes: imap-login logs the login, not a disconnect
    loginlog.info(session, "Login", user=user, mechanism=mech, mail_pid=result.mail_pid)
    if not result.ok:
        # what Dovecot's imap process says when the user cannot be set up (e.g. uid refused)
        session.send(tagged(tag, "OK", "Logged in, but initialization failed.") + INTERNAL_ERROR_BYE)
        return
    if pair is not None:  # TLS stays here: copy between it and the mail process
        await proxy(session.reader, session.writer, pair)


async def start_session(session: Session, tag: bytes, username: str, fields: dict[str, str], mech: str,
                        *, log_login: bool = True) -> bool:
    """The user's mail session from its userdb fields; False (the client told) when it cannot be."""
    conn = session.conn
    node = session.service.tree.lookup(service="imap", local=conn.local_ip, remote=conn.remote_ip)
    try:
        user = create_mail_user(node, username, fields, service="imap",
                                extra_variables={"rip": conn.remote_ip, "lip": conn.local_ip,
                                                 "session": conn.session_id},
                                lookup_user=_userdb_lookup(session))
    except Exception as exc:  # noqa: BLE001 - MailUserError, or any bug: the client gets NO, we log
        prefix = f"imap({username})<{os.getpid()}><{conn.session_id}>: "
        if isinstance(exc, MailUserError):
            log.error("%s", exc, extra={"dovecot_prefix": prefix})
        else:
            log.exception("Mail user setup failed", extra={"dovecot_prefix": prefix})
        fail(session, tag, CommandFailed("Login failed: Internal error occurred. Refer to server log "
                                         "for more information.", "SERVERBUG"))
        return False
    limit = int(node.get("mail_max_userip_connections") or 0)
    if not session.service.connection_slot(username, conn.remote_ip, limit):
        fail(session, tag, CommandFailed("Maximum number of connections from user+IP exceeded "
                                         f"(mail_max_userip_connections={limit})", "LIMIT"))
        session.closing = True
        return False
    session.user = user
    session.settings = node
    try:
        await session.storage_light(user.autocreate)
    except Exception:  # noqa: BLE001 - Dovecot logs failed autocreates and goes on
        log.exception("autocreate failed")
    session.state = ConnectionState.AUTHENTICATED
    session.protocol.max_literal_size = MAX_SESSION_LITERAL
    session.counters.bytes_in = session.counters.bytes_out = 0  # imap_logout_format counts from here
    if log_login:
        _log_login(session, mech)
    session.register()
    caps = session.capability()
    if session.capability_sent:
        session.send(untagged("CAPABILITY " + caps))
        session.reply(tagged(tag, "OK", "Logged in"), "OK")
    else:
        session.reply(tagged(tag, "OK", "Logged in", response_code("CAPABILITY", caps.encode())), "OK")
    return True


def _userdb_lookup(session: Session) -> LookupUser | None:
    """The owners of shared namespaces are looked up in the same userdb (storage/shared.py)."""
    from pydovecot.auth.service import RequestInfo
    from pydovecot.login.userdb_lookup import userdb_lookup

    conn = session.conn
    info = RequestInfo(service="imap", local_ip=conn.local_ip, remote_ip=conn.remote_ip, secured=conn.secured)
    base_dir = str(session.service.tree.lookup(service="imap").get("base_dir") or "")
    return userdb_lookup(getattr(session.service, "auth_service", None), info,
                         os.path.join(base_dir, "auth-userdb") if base_dir else None)


def _log_login(session: Session, mech: str) -> None:
    assert session.user is not None
    loginlog.info(session, "Login", user=session.user.username, mechanism=mech, logged_in=True)
