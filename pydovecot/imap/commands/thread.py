"""THREAD / UID THREAD (RFC 5256): REFERENCES, REFS and ORDEREDSUBJECT, over the thread package."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.search import BadCharsetError
from pydovecot.storage.thread import ThreadError, render_threads, thread_messages

from ..protocol import commands as c
from ..protocol.responses import untagged
from ..selected import SelectedMailbox
from .common import CommandFailed, fail, ok, storage_error, sync_without_expunges
from .sort import matching

if TYPE_CHECKING:
    from ..session import Session


def _threads(selected: SelectedMailbox, cmd: c.Thread) -> str:
    threads = thread_messages(cmd.algorithm, matching(selected, cmd))
    return render_threads(threads, (lambda m: m.uid) if cmd.uid else (lambda m: m.seq))


async def run(session: Session, cmd: c.Thread) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    await sync_without_expunges(session)
    try:
        text = await session.storage(_threads, selected, cmd)
    except ThreadError:
        fail(session, cmd.tag, CommandFailed(f"Error in IMAP command {'UID ' if cmd.uid else ''}THREAD: "
                                             "Unknown thread algorithm.", status="BAD"))
        return
    except BadCharsetError:
        fail(session, cmd.tag, CommandFailed("Unknown charset.", "BADCHARSET"))
        return
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    session.send(untagged("THREAD" + (" " + text if text else "")))
    ok(session, cmd.tag, "Thread completed.", started=started)
