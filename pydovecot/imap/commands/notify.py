"""NOTIFY (RFC 5465): NONE, or SET [STATUS] with event groups; the state lives in ../notify.py.

Dovecot registers NOTIFY whatever the settings; without the mailbox list index (where it does
not advertise NOTIFY either) only the selected mailbox can be watched, and a filter naming
other mailboxes is refused with NOTIFICATIONOVERFLOW.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..notify import Event, NotifyError, parse_notify, set_notify, status_line
from ..protocol import commands as c
from ..protocol.responses import response_code, tagged, with_timing
from .common import ok

if TYPE_CHECKING:
    from ..session import Session


def _refuse(session: Session, cmd: c.Extension, error: NotifyError, started: float) -> None:
    text = error.text
    if error.status == "BAD":
        text = f"Error in IMAP command NOTIFY: {text}."
    text = with_timing(text if text.endswith(".") else text + ".", f"{time.monotonic() - started:.3f} + 0.000 secs")
    code = None
    if error.code:
        name, _, argument = error.code.partition(" ")
        code = response_code(name, argument.encode() if argument else None)
    session.reply(tagged(cmd.tag, error.status, text, code), error.status)


async def run(session: Session, cmd: c.Extension) -> None:
    started = time.monotonic()
    try:
        spec = parse_notify(cmd.arguments)
        if spec.filters and not bool(session.settings.get("mailbox_list_index")):
            raise NotifyError("NO", "NOTIFY not supported for these mailboxes.", "NOTIFICATIONOVERFLOW")
    except NotifyError as exc:
        _refuse(session, cmd, exc, started)
        return
    state = await set_notify(session, spec)
    if spec.send_status and spec.status_events:
        selected = session.selected.vname if session.selected is not None else None
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"]
        if spec.used & Event.FLAG_CHANGE:  # the client follows modseqs too
            items.append("HIGHESTMODSEQ")
        lines = [status_line(vname, state.status[vname], items) for vname in state.status if vname != selected]
        if lines and "HIGHESTMODSEQ" in items:
            session.enable_condstore()  # Dovecot's STATUS HIGHESTMODSEQ turns CONDSTORE on
        state.told.update(vname for vname in state.status if vname != selected)
        for line in lines:
            session.send(line)
    ok(session, cmd.tag, "NOTIFY completed.", started=started)
