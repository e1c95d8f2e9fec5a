"""ID (RFC 2971): answer with the fields imap_id_send names, log the ones imap_id_log names."""

from __future__ import annotations

import platform
import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.responses import nstring, quoted, untagged
from .common import ok

if TYPE_CHECKING:
    from ..session import Session

# What `*` stands for in imap_id_send, as Dovecot fills it in.
_DEFAULTS = {
    "name": "Dovecot",
    "version": "2.3.19.1",
    "os": platform.system(),
    "os-version": platform.release(),
    "support-url": "http://www.dovecot.org/",
    "support-email": "dovecot@dovecot.org",
}


def id_reply(setting: str) -> bytes:
    """`("name" "Dovecot")` from imap_id_send; NIL when it names nothing."""
    words = _split(setting)
    items: list[bytes] = []
    for i in range(0, len(words) - 1, 2):
        key, value = words[i], words[i + 1]
        if value == "*":
            if key.lower() not in _DEFAULTS:
                continue
            value = _DEFAULTS[key.lower()]
        items += [quoted(key.encode()), nstring(value.encode())]
    return b"(" + b" ".join(items) + b")" if items else b"NIL"


def _split(setting: str) -> list[str]:
    """imap_id_send's words; double quotes group a value with spaces."""
    out: list[str] = []
    word, quoting, started = "", False, False
    for ch in setting:
        if ch == '"':
            quoting, started = not quoting, True
        elif ch == " " and not quoting:
            if started or word:
                out.append(word)
            word, started = "", False
        else:
            word += ch
    if started or word:
        out.append(word)
    return out


async def run(session: Session, cmd: c.Id) -> None:
    started = time.monotonic()
    session.send(untagged(b"ID " + id_reply(str(session.settings.get("imap_id_send") or ""))))
    _log(session, cmd)
    ok(session, cmd.tag, "ID completed.", started=started if session.logged_in else None)


def _log(session: Session, cmd: c.Id) -> None:
    wanted = str(session.settings.get("imap_id_log") or "").split()
    if not wanted or not cmd.fields:
        return
    from .. import loginlog
    from ..session import log

    fields = [(k, v) for k, v in cmd.fields if "*" in wanted or k.lower() in (w.lower() for w in wanted)]
    if not fields:
        return
    text = "ID sent: " + ", ".join(f"{k}={v if v is not None else 'NIL'}" for k, v in fields)
    if session.logged_in:
        log.info("%s", text, extra={"dovecot_prefix": session.user_prefix()})
    else:
        loginlog.info(session, text)
