"""COMPRESS (RFC 4978), present when ``imap_zlib`` is loaded.

Replies as Dovecot 2.3.19 words them: one atom argument or ``BAD Invalid arguments``; a second
COMPRESS gets ``NO [COMPRESSIONACTIVE]``; any mechanism but DEFLATE ``NO Unknown compression
mechanism``. On success the tagged OK is sent uncompressed and flushed here, then the session's
streams are swapped (pydovecot/plugins/zlib_imap.py): the server sends nothing more for this
command, and everything after it is compressed both ways. Like Dovecot, no mailbox changes are
reported before the OK.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.plugins.zlib_imap import MECHANISM, ImapZlibPlugin, compression_active, start_compression

from ..protocol import commands as c
from ..protocol.lexer import Lexer
from ..protocol.responses import response_code, tagged, with_timing
from .common import unknown_command

if TYPE_CHECKING:
    from ..session import Session


def _plugin(session: Session) -> ImapZlibPlugin | None:
    plugins = session.user.plugins if session.user is not None else []
    return next((p for p in plugins if isinstance(p, ImapZlibPlugin)), None)


def _mechanism(arguments: bytes) -> str | None:
    lexer = Lexer(arguments)
    if not lexer.skip_space():
        return None
    atom = lexer.read_atom()
    if atom is None or not lexer.at_end():
        return None
    return atom.decode("ascii", "replace")


async def run(session: Session, cmd: c.Extension) -> None:
    started = time.monotonic()
    plugin = _plugin(session)
    if plugin is None:
        unknown_command(session, cmd)
        return

    def timed(text: str) -> str:
        return with_timing(text, f"{time.monotonic() - started:.3f} + 0.000 secs")

    mechanism = _mechanism(cmd.arguments)
    if mechanism is None:
        session.reply(tagged(cmd.tag, "BAD", timed("Error in IMAP command COMPRESS: Invalid arguments.")), "BAD")
        return
    if compression_active(session):
        text = timed(f"COMPRESSION={MECHANISM} already enabled.")
        session.reply(tagged(cmd.tag, "NO", text, response_code("COMPRESSIONACTIVE")), "NO")
        return
    if mechanism.upper() != MECHANISM:
        session.reply(tagged(cmd.tag, "NO", timed("Unknown compression mechanism.")), "NO")
        return
    level = plugin.level()
    # The OK is the last plain line: send it now, then compress from the next byte on.
    session.send(tagged(cmd.tag, "OK", timed("Begin compression.")))
    await session.flush()
    # Bytes a client pipelined after COMPRESS (RFC 4978 forbids it) were read as plain text:
    # Dovecot 2.3.19 answers none of them, and neither do we.
    take_unconsumed = getattr(session.protocol, "take_unconsumed", None)
    if take_unconsumed is not None:
        take_unconsumed()
    start_compression(session, level)
    session.tagged, session.last_status = None, "OK"
