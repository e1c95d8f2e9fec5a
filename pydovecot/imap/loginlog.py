"""imap-login's log lines: `MESSAGE: ` + login_log_format_elements, expanded as Dovecot does.

The expansion (which elements are left out, `user=<>`) is login-common's, shared with
pop3-login in `pydovecot.login.log_elements`; this module only says what the variables hold
for an IMAP connection, `%k` (the TLS protocol and cipher) included.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from pydovecot.login.log_elements import login_elements, ssl_security

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("pydovecot.imap-login")


def elements(session: Session, *, user: str | None = None, mechanism: str | None = None,
             logged_in: bool = False, mail_pid: int | None = None) -> str:
    conn = session.conn
    name = user or ""
    values: dict[str, str | None] = {
        "user": name, "username": name.partition("@")[0], "domain": name.partition("@")[2],
        "mechanism": mechanism, "remote_ip": conn.remote_ip, "local_ip": conn.local_ip,
        "mail_pid": str(mail_pid) if mail_pid is not None else str(os.getpid()) if logged_in else None,
        "secured": "TLS" if conn.tls else ("secured" if conn.secured else None),
        "ssl_security": ssl_security(session.writer) if conn.tls else None,
        "session": conn.session_id, "service": "imap", "pid": str(os.getpid()),
        "remote_port": str(conn.remote_port) if conn.remote_port else None,
        "local_port": str(conn.local_port) if conn.local_port else None,
    }
    return login_elements(str(session.settings.get("login_log_format_elements") or ""), values)


def info(session: Session, message: str, **kwargs: object) -> None:
    """One imap-login line: `message: elements`."""
    log.info("%s: %s", message, elements(session, **kwargs),  # type: ignore[arg-type]
             extra={"dovecot_prefix": "imap-login: "})
