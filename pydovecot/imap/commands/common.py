"""Helpers the command modules share: tagged replies, storage errors as NO, syncing the view."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydovecot.storage.interface import MailboxError, MailboxSnapshot
from pydovecot.storage.maildir.layout import MailboxNameError
from pydovecot.storage.maildir.mailbox_list import (
    MailboxExistsError,
    MailboxNotFoundError,
    MailboxOperationError,
)

from ..protocol.mutf7 import encode_mutf7
from ..protocol.responses import astring, response_code, tagged, with_timing

if TYPE_CHECKING:
    from ..protocol.commands import Extension
    from ..selected import SelectedMailbox
    from ..session import Session

log = logging.getLogger("pydovecot.imap")


class CommandFailed(Exception):
    """A NO (or BAD) for the current command: its text, an optional response code."""

    def __init__(self, text: str, code: str | None = None, status: str = "NO") -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.status = status


def ok(session: Session, tag: bytes, text: str, code: bytes | None = None, *, started: float | None = None) -> None:
    """A tagged OK; after login Dovecot adds how long the command took."""
    if started is not None:
        text = with_timing(text, f"{time.monotonic() - started:.3f} + 0.000 secs")
    session.reply(tagged(tag, "OK", text, code), "OK")


def fail(session: Session, tag: bytes, error: CommandFailed) -> None:
    code = response_code(error.code) if error.code else None
    session.reply(tagged(tag, error.status, error.text, code), error.status)


def unknown_command(session: Session, cmd: Extension) -> None:
    """An extension command whose plugin is not loaded: Dovecot does not know the command."""
    session.reply(tagged(cmd.tag, "BAD", f"Error in IMAP command {cmd.name}: Unknown command."), "BAD")


def mailbox_name(vname: str) -> bytes:
    """A mailbox name on the wire: modified UTF-7, as an astring."""
    return astring(encode_mutf7(vname))


def storage_error(exc: Exception, vname: str) -> CommandFailed:
    """Storage exceptions as Dovecot words them to the client."""
    if isinstance(exc, MailboxError):
        text = str(exc)
        return CommandFailed(text if text.endswith(".") else text + ".", exc.code)
    if isinstance(exc, MailboxNotFoundError | LookupError) and not isinstance(exc, MailboxNameError):
        return CommandFailed(f"Mailbox doesn't exist: {vname}.", "NONEXISTENT")
    if isinstance(exc, MailboxExistsError):
        return CommandFailed("Mailbox already exists.", "ALREADYEXISTS")
    if isinstance(exc, MailboxNameError | MailboxOperationError):
        text = str(exc)
        if text == "Invalid mailbox name: Empty name":
            text = "Invalid mailbox name: Name is empty"
        # Dovecot: a refused name is CANNOT; a refused operation on INBOX has no code.
        return CommandFailed(text if text.endswith(".") else text + ".",
                             "CANNOT" if isinstance(exc, MailboxNameError) else None)
    if isinstance(exc, PermissionError):
        return CommandFailed("Permission denied.", "NOPERM")
    log.error("%s: %s", vname, exc, exc_info=exc)
    return CommandFailed("Internal error occurred. Refer to server log for more information.", "SERVERBUG")


def sync_view(selected: SelectedMailbox) -> MailboxSnapshot:
    """The selected mailbox's snapshot (runs in the storage thread).

    SELECT takes \\Recent (and moves new/ mail to cur/); EXAMINE does neither, but shows the
    messages nobody claimed yet as \\Recent, as Dovecot does: they are the newest ones."""
    mailbox = selected.mailbox
    if not selected.read_only:
        return mailbox.sync(take_recent=True)
    snapshot = mailbox.sync(take_recent=False, move_new=False)  # type: ignore[call-arg]
    unclaimed = mailbox.status().recent
    if not unclaimed:
        return snapshot
    return replace(snapshot, recent_uids=frozenset(m.uid for m in snapshot.messages[-unclaimed:]))


@dataclass
class _Refreshed:
    """What one trip to the storage thread found about the selected mailbox."""

    gone: bool = False
    snapshot: MailboxSnapshot | None = None  # None: not synced, or the sync failed
    keywords: tuple[str, ...] = ()


def _refresh(selected: SelectedMailbox, sync: bool) -> _Refreshed:
    """The gone check and the sync in one storage call (runs in the storage thread): every trip
    to the thread costs more than the calls themselves when the mailbox is unchanged."""
    if not selected.gone:
        path = getattr(selected.mailbox, "path", None)
        if isinstance(path, str) and not os.path.isdir(path):
            return _Refreshed(gone=True)
    if not sync:
        return _Refreshed()
    try:
        return _Refreshed(snapshot=sync_view(selected), keywords=selected.mailbox.known_keywords())
    except Exception:  # noqa: BLE001 - a vanished mailbox is reported by the next command
        return _Refreshed()


async def refresh_selected(session: Session, *, sync: bool = True, expunges: bool = True,
                           uid_fetch: bool = False) -> bool:
    """Whether the selected mailbox's folder vanished (see :func:`mailbox_gone`); unless it did,
    and with ``sync``, bring the client's view up to date (see :func:`sync_selected`)."""
    selected = session.selected
    if selected is None:
        return False
    if selected.gone:
        return True
    found = await session.storage_light(_refresh, selected, sync)
    session.view_checked = True
    if found.gone:
        selected.gone = True
        return True
    snapshot = found.snapshot
    if snapshot is None:
        return False
    if snapshot.uidvalidity != selected.uidvalidity:
        session.send(b"* BYE Mailbox UIDVALIDITY changed\r\n")
        session.closing = True
        return False
    session.send(selected.apply(snapshot, found.keywords, expunges=expunges, uid_fetch=uid_fetch,
                                condstore=session.condstore, qresync=session.qresync))
    if session.notify is not None:  # NOTIFY's MessageNew fetch-att for the new messages
        await session.notify.new_messages(session)
    return False


async def sync_selected(session: Session, *, expunges: bool = True, uid_fetch: bool = False) -> None:
    """Bring the client's view of the selected mailbox up to date (untagged replies)."""
    await refresh_selected(session, expunges=expunges, uid_fetch=uid_fetch)


async def sync_without_expunges(session: Session) -> None:
    """FETCH, STORE and SEARCH see current flags, but expunges wait: the client's numbers hold."""
    await refresh_selected(session, expunges=False)


async def mailbox_gone(session: Session) -> bool:
    """Whether the selected mailbox's folder vanished; checked before syncing, because a sync
    would create the folder anew (with a new UIDVALIDITY)."""
    return await refresh_selected(session, sync=False)


def highestmodseq_code(session: Session) -> bytes | None:
    """`[HIGHESTMODSEQ n]` for the tagged reply of EXPUNGE and MOVE under QRESYNC (RFC 7162 3.2.10)."""
    selected = session.selected
    if selected is None or not session.qresync:
        return None
    news = selected.modseq_news()
    return None if news is None else b"[HIGHESTMODSEQ %d]" % news
