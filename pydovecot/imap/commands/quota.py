"""GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 2087), present when ``imap_quota`` is loaded.

Without the plugin these are unknown commands, as in Dovecot, so the arguments are read here
(the parser hands them over unread). The usage comes from the quota plugin's own backends,
the same figures it checks saves against; SETQUOTA is refused as Dovecot refuses it to every
user that is not an admin (pydovecot has no admin sessions).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.plugins.quota.imap import ImapQuotaPlugin
from pydovecot.plugins.quota.rules import QuotaRoot

from ..protocol import commands as c
from ..protocol.lexer import Lexer
from ..protocol.parser import mailbox_name as decode_mailbox_name
from ..protocol.responses import astring, tagged, untagged, with_timing
from .common import mailbox_name, unknown_command

if TYPE_CHECKING:
    from ..session import Session


class _BadArguments(Exception):
    pass


def _plugin(session: Session) -> ImapQuotaPlugin | None:
    plugins = session.user.plugins if session.user is not None else []
    return next((p for p in plugins if isinstance(p, ImapQuotaPlugin)), None)


def _finish(session: Session, cmd: c.Extension, status: str, text: str, started: float) -> None:
    timed = with_timing(text, f"{time.monotonic() - started:.3f} + 0.000 secs")
    session.reply(tagged(cmd.tag, status, timed), status)


def quota_line(plugin: ImapQuotaPlugin, root: QuotaRoot) -> bytes | None:
    """`* QUOTA name (STORAGE used limit MESSAGE used limit)`; None for a root without limits."""
    resources = plugin.resources(root)
    if not resources:
        return None
    items = b" ".join(b"%s %d %d" % (r.name.encode(), r.usage, r.limit) for r in resources)
    return untagged(b"QUOTA " + astring(plugin.display_name(root).encode()) + b" (" + items + b")")


async def run(session: Session, cmd: c.Extension) -> None:
    started = time.monotonic()
    plugin = _plugin(session)
    if plugin is None:
        unknown_command(session, cmd)
        return
    lexer = Lexer(cmd.arguments)
    try:
        if not lexer.skip_space() or lexer.at_end():
            raise _BadArguments("Missing arguments")
        handler = {"GETQUOTAROOT": _getquotaroot, "GETQUOTA": _getquota, "SETQUOTA": _setquota}[cmd.name]
        status, text = await handler(session, plugin, lexer)
    except _BadArguments as exc:
        status, text = "BAD", f"Error in IMAP command {cmd.name}: {exc}."
    _finish(session, cmd, status, text, started)


def _astring(lexer: Lexer) -> bytes:
    value = lexer.read_astring()
    if value is None:
        raise _BadArguments("Invalid arguments")
    return value


async def _getquotaroot(session: Session, plugin: ImapQuotaPlugin, lexer: Lexer) -> tuple[str, str]:
    vname = decode_mailbox_name(_astring(lexer))
    roots = plugin.roots_of(vname)
    names = b"".join(b" " + astring(plugin.display_name(root).encode()) for root in roots)
    session.send(untagged(b"QUOTAROOT " + mailbox_name(vname) + names))
    for root in roots:
        line = await session.storage(quota_line, plugin, root)
        if line is not None:
            session.send(line)
    return "OK", "Getquotaroot completed."


async def _getquota(session: Session, plugin: ImapQuotaPlugin, lexer: Lexer) -> tuple[str, str]:
    root = plugin.find_root(_astring(lexer).decode("utf-8", "replace"))
    if root is None:
        return "NO", "Quota root doesn't exist."
    line = await session.storage(quota_line, plugin, root)
    if line is not None:
        session.send(line)
    return "OK", "Getquota completed."


async def _setquota(session: Session, plugin: ImapQuotaPlugin, lexer: Lexer) -> tuple[str, str]:
    _astring(lexer)
    if not lexer.skip_space() or lexer.at_end():
        raise _BadArguments("Missing arguments")
    if not lexer.open_paren():
        raise _BadArguments("Invalid arguments")
    return "NO", "Quota can be changed only by admin."
