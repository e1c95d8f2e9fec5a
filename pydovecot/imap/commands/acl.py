"""GETACL, SETACL, DELETEACL, LISTRIGHTS and MYRIGHTS (RFC 4314), present when ``imap_acl`` is loaded.

Without the plugin these are unknown commands, as in Dovecot, so the arguments are read here
(the parser hands them over unread). What the answers say is decided by
pydovecot/plugins/acl/imap.py; this module reads the string arguments and writes the replies.
The mailbox and identifier are echoed as the client sent them (re-quoted as astrings).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydovecot.plugins.acl.imap import AclCommandError, ImapAclPlugin
from pydovecot.storage.interface import MailboxError

from ..protocol import commands as c
from ..protocol.errors import ImapProtocolError
from ..protocol.lexer import Lexer
from ..protocol.parser import mailbox_name as decode_mailbox_name
from ..protocol.responses import astring, response_code, tagged, untagged, with_timing
from .common import unknown_command

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("pydovecot.imap")
NAMES = ("GETACL", "SETACL", "DELETEACL", "LISTRIGHTS", "MYRIGHTS")
_ARG_COUNT = {"GETACL": 1, "MYRIGHTS": 1, "LISTRIGHTS": 2, "DELETEACL": 2, "SETACL": 3}


def _plugin(session: Session) -> ImapAclPlugin | None:
    plugins = session.user.plugins if session.user is not None else []
    return next((p for p in plugins if isinstance(p, ImapAclPlugin)), None)


def read_string_args(arguments: bytes, count: int) -> list[bytes]:
    """``count`` astrings, as Dovecot's client_read_string_args reads them (more are ignored)."""
    lexer = Lexer(arguments)
    out = []
    for _ in range(count):
        if not lexer.skip_space() or lexer.at_end():
            raise AclCommandError("BAD", "Missing arguments.")
        try:
            value = lexer.read_astring()
        except ImapProtocolError as exc:  # an unterminated quoted string...
            raise AclCommandError("BAD", exc.reason) from exc
        if value is None:
            raise AclCommandError("BAD", "Invalid arguments.")
        out.append(value)
    return out


async def run(session: Session, cmd: c.Extension) -> None:
    started = time.monotonic()
    plugin = _plugin(session)
    if plugin is None:
        unknown_command(session, cmd)
        return
    try:
        args = read_string_args(cmd.arguments, _ARG_COUNT[cmd.name])
        text = await _COMMANDS[cmd.name](session, plugin, args)
        status, code = "OK", None
    except AclCommandError as exc:
        status, text, code = exc.status, exc.text, exc.code
        if status == "BAD":
            text = f"Error in IMAP command {cmd.name}: {text}"
            text = text if text.endswith(".") else text + "."
    except MailboxError as exc:  # a broken ACL file seen by the acl plugin
        status, text, code = "NO", str(exc), exc.code
    except Exception:  # noqa: BLE001 - an unreadable/broken ACL file: the client gets NO, we log
        log.exception("%s failed", cmd.name, extra={"dovecot_prefix": session.user_prefix()})
        status, text, code = "NO", "Internal error occurred. Refer to server log for more information.", "SERVERBUG"
    timed = with_timing(text, f"{time.monotonic() - started:.3f} + 0.000 secs")
    session.reply(tagged(cmd.tag, status, timed, response_code(code) if code else None), status)


def _vname(raw: bytes) -> str:
    try:
        return decode_mailbox_name(raw)
    except ImapProtocolError as exc:  # not valid mUTF-7
        raise AclCommandError("NO", exc.reason + ".") from exc


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


async def _getacl(session: Session, plugin: ImapAclPlugin, args: list[bytes]) -> str:
    entries = await session.storage(plugin.get_acl, _vname(args[0]))
    parts = [astring(args[0])]
    for name, rights in entries:
        parts.append(astring(name.encode()) + b" " + rights.encode())
    session.send(untagged(b"ACL " + b" ".join(parts)))
    return "Getacl completed."


async def _myrights(session: Session, plugin: ImapAclPlugin, args: list[bytes]) -> str:
    rights = await session.storage(plugin.my_rights, _vname(args[0]))
    session.send(untagged(b"MYRIGHTS " + astring(args[0]) + b" " + rights.encode()))
    return "Myrights completed."


async def _listrights(session: Session, plugin: ImapAclPlugin, args: list[bytes]) -> str:
    rights = plugin.list_rights(_vname(args[0]))
    session.send(untagged(b"LISTRIGHTS " + astring(args[0]) + b" " + astring(args[1]) + b" " + rights.encode()))
    return "Listrights completed."


async def _setacl(session: Session, plugin: ImapAclPlugin, args: list[bytes]) -> str:
    await session.storage(plugin.set_acl, _vname(args[0]), _text(args[1]), _text(args[2]))
    return "Setacl complete."


async def _deleteacl(session: Session, plugin: ImapAclPlugin, args: list[bytes]) -> str:
    await session.storage(plugin.delete_acl, _vname(args[0]), _text(args[1]))
    return "Deleteacl complete."


_COMMANDS: dict[str, Callable[[Session, ImapAclPlugin, list[bytes]], Awaitable[str]]] = {
    "GETACL": _getacl, "MYRIGHTS": _myrights, "LISTRIGHTS": _listrights, "SETACL": _setacl,
    "DELETEACL": _deleteacl,
}
