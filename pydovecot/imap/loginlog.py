"""imap-login's log lines: `MESSAGE: ` + login_log_format_elements, expanded as Dovecot does.

An element whose variables all expand to nothing is left out (no `method=` before an auth
attempt, no `mpid=` before login), except the user's, which shows as `user=<>`.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING

from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import LOGIN

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("pydovecot.imap-login")
_VARIABLE = re.compile(r"%(?:\{([^}]+)\}|[-0-9.]*([A-Za-z$]))")
_LETTERS = {"u": "user", "n": "username", "d": "domain", "m": "mechanism", "r": "remote_ip",
            "l": "local_ip", "e": "mail_pid", "c": "secured", "a": "local_port", "b": "remote_port",
            "k": "ssl_security", "s": "service", "p": "pid"}
_ALIASES = {"mech": "mechanism", "rip": "remote_ip", "lip": "local_ip", "mpid": "mail_pid",
            "lport": "local_port", "rport": "remote_port"}
_USER_VARIABLES = {"user", "username", "domain"}


def elements(session: Session, *, user: str | None = None, mechanism: str | None = None,
             logged_in: bool = False) -> str:
    conn = session.conn
    table: dict[str, str | None] = {
        "user": user or "", "mechanism": mechanism, "remote_ip": conn.remote_ip, "local_ip": conn.local_ip,
        "mail_pid": str(os.getpid()) if logged_in else None,
        "secured": "TLS" if conn.tls else ("secured" if conn.secured else None),
        "session": conn.session_id, "service": "imap", "pid": str(os.getpid()),
        "remote_port": str(conn.remote_port) if conn.remote_port else None,
        "local_port": str(conn.local_port) if conn.local_port else None,
    }
    parts = []
    for element in str(session.settings.get("login_log_format_elements") or "").split():
        names = {_ALIASES.get(n, n) for n in _names(element)}
        if names and not names & _USER_VARIABLES and not any(table.get(n) for n in names):
            continue
        try:
            parts.append(expand(element, table, context=LOGIN).text)
        except Exception:  # noqa: BLE001 - an element we cannot expand is left out, not fatal
            continue
    return ", ".join(parts)


def _names(element: str) -> list[str]:
    out = []
    for long_name, letter in _VARIABLE.findall(element):
        name = long_name or _LETTERS.get(letter, letter)
        out.append(name.split(":")[0])
    return out


def info(session: Session, message: str, **kwargs: object) -> None:
    """One imap-login line: `message: elements`."""
    log.info("%s: %s", message, elements(session, **kwargs),  # type: ignore[arg-type]
             extra={"dovecot_prefix": "imap-login: "})
