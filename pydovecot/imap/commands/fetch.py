"""FETCH / UID FETCH, with CONDSTORE's CHANGEDSINCE and QRESYNC's VANISHED.

Message bodies come from the storage (read in a worker thread) and are cut into sections by
the mime package; FLAGS, UID, sizes and dates come from the selected view.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydovecot.storage.interface import MessageInfo, StoreAction
from pydovecot.storage.mime import parser, sections
from pydovecot.storage.mime.binary import BinaryError, binary_section
from pydovecot.storage.mime.bodystructure import bodystructure
from pydovecot.storage.mime.envelope import envelope
from pydovecot.storage.mime.snippet import snippet
from pydovecot.storage.mime.wire import literal

from ..protocol import commands as c
from ..protocol.responses import paren_list, quoted, untagged
from ..selected import SelectedMailbox, uid_set
from .common import CommandFailed, fail, ok, storage_error, sync_without_expunges

if TYPE_CHECKING:
    from ..session import Session

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Dovecot writes these "buffered" items first, then the literal ones, each group in request order.
_BUFFERED = {"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "MODSEQ", "ENVELOPE", "BODYSTRUCTURE", "SAVEDATE",
             "X-SAVEDATE", "X-GUID", "PREVIEW", "SNIPPET"}
# Items that need the message itself; the rest come from the index.
_NEEDS_BODY = {"BODY", "BODYSTRUCTURE", "ENVELOPE", "RFC822", "RFC822.HEADER", "RFC822.TEXT", "BINARY",
               "BINARY.SIZE", "PREVIEW", "SNIPPET"}


def imap_date(epoch: float) -> bytes:
    """INTERNALDATE in the server's local time zone, as Dovecot sends it."""
    t = time.localtime(epoch)
    offset = t.tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    text = (f"{t.tm_mday:02d}-{_MONTHS[t.tm_mon - 1]}-{t.tm_year:04d} {t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d} {sign}{offset // 60:02d}{offset % 60:02d}")
    return quoted(text.encode())


def _buffered(attr: c.FetchAttribute) -> bool:
    return attr.name in _BUFFERED or (attr.name == "BODY" and attr.section is None)


def _sets_seen(attr: c.FetchAttribute) -> bool:
    if attr.peek:
        return False
    return (attr.name in ("BODY", "BINARY") and attr.section is not None) or attr.name in ("RFC822", "RFC822.TEXT")


def section_spec(section: c.Section) -> str:
    spec = ".".join(str(p) for p in section.part)
    if section.text:
        spec += ("." if spec else "") + section.text
        if section.headers:
            spec += " (" + " ".join(section.headers) + ")"
    return spec


def _label(attr: c.FetchAttribute) -> bytes:
    assert attr.section is not None
    out = attr.name.encode() + b"[" + section_spec(attr.section).encode() + b"]"
    if attr.partial is not None:
        out += b"<%d>" % attr.partial[0]
    return out


def render(raw: bytes | None, info: MessageInfo, seq: int, flags: tuple[str, ...],
           attrs: tuple[c.FetchAttribute, ...]) -> bytes | None:
    """One `* n FETCH (...)` line; runs in the storage thread (parses the message)."""
    msg = parser.parse_message(raw) if raw is not None else None
    items: list[bytes] = []
    for attr in attrs:
        name = attr.name
        if name == "UID":
            items.append(b"UID %d" % info.uid)
        elif name == "FLAGS":
            items.append(b"FLAGS " + paren_list(f.encode() for f in flags))
        elif name == "INTERNALDATE":
            items.append(b"INTERNALDATE " + imap_date(info.internaldate))
        elif name == "RFC822.SIZE":
            items.append(b"RFC822.SIZE %d" % info.vsize)
        elif name == "MODSEQ":
            items.append(b"MODSEQ (%d)" % info.modseq)
        elif name in ("SAVEDATE", "X-SAVEDATE"):
            items.append(name.encode() + b" " + (imap_date(info.savedate) if info.savedate else b"NIL"))
        elif name == "X-GUID":
            items.append(b"X-GUID " + quoted(info.guid.encode()))
        elif msg is None or raw is None:
            return None
        else:
            items.append(_body_item(attr, raw, msg))
    return untagged(b"%d FETCH (" % seq + b" ".join(items) + b")")


def _body_item(attr: c.FetchAttribute, raw: bytes, msg: parser.Message) -> bytes:
    name = attr.name
    if name == "ENVELOPE":
        return b"ENVELOPE " + envelope(msg)
    if name == "BODYSTRUCTURE":
        return b"BODYSTRUCTURE " + bodystructure(msg, True)
    if name == "BODY" and attr.section is None:
        return b"BODY " + bodystructure(msg, False)
    if name in ("PREVIEW", "SNIPPET"):
        text = snippet(raw, msg).encode()
        return b"PREVIEW " + quoted(text) if name == "PREVIEW" else b"SNIPPET (FUZZY " + quoted(text) + b")"
    if name == "RFC822":
        return b"RFC822 " + literal(sections.section(raw, msg, "") or b"")
    if name == "RFC822.HEADER":
        return b"RFC822.HEADER " + literal(sections.section(raw, msg, "HEADER") or b"")
    if name == "RFC822.TEXT":
        return b"RFC822.TEXT " + literal(sections.section(raw, msg, "TEXT") or b"")
    assert attr.section is not None
    spec = section_spec(attr.section)
    start, count = attr.partial if attr.partial is not None else (None, None)
    if name == "BINARY.SIZE":
        result = binary_section(msg, spec)
        return b"BINARY.SIZE[" + spec.encode() + b"] %d" % (len(result.data) if result else 0)
    if name == "BINARY":
        result = binary_section(msg, spec, start, count)
        if result is None:
            return _label(attr) + b" NIL"
        # A decoded body goes out as literal8 (RFC 3516), as Dovecot sends it.
        return _label(attr) + b" " + (b"~" if result.decoded else b"") + literal(result.data)
    data = sections.section(raw, msg, spec, start, count)
    return _label(attr) + b" " + (literal(data) if data is not None else b"NIL")


async def run(session: Session, cmd: c.Fetch) -> None:
    started = time.monotonic()
    selected = session.selected
    assert selected is not None
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if uids is None:
        fail(session, cmd.tag, CommandFailed("Error in IMAP command FETCH: Invalid messageset.", status="BAD"))
        return
    if cmd.vanished and (not cmd.uid or cmd.changed_since is None or not session.qresync):
        fail(session, cmd.tag, CommandFailed("Error in IMAP command UID FETCH: VANISHED used without "
                                             "QRESYNC/CHANGEDSINCE", status="BAD"))
        return
    await sync_without_expunges(session)
    attrs = list(cmd.attributes)
    if cmd.changed_since is not None:
        session.enable_condstore()
        if not any(a.name == "MODSEQ" for a in attrs):
            attrs.append(c.FetchAttribute("MODSEQ"))
        if cmd.vanished:
            await _vanished(session, selected, cmd)
        uids = [u for u in uids if u in selected.messages and selected.messages[u].modseq > cmd.changed_since]
    if any(a.name == "MODSEQ" for a in attrs):
        session.enable_condstore()
    attrs.sort(key=lambda a: not _buffered(a))  # stable: request order within each group
    try:
        await _mark_seen(session, selected, uids, attrs)
        expunged = await _send(session, selected, uids, tuple(attrs))
    except Exception as exc:  # noqa: BLE001
        fail(session, cmd.tag, storage_error(exc, selected.vname))
        return
    if expunged:
        fail(session, cmd.tag, CommandFailed("Some messages were also expunged.", "EXPUNGEISSUED"))
        return
    ok(session, cmd.tag, "Fetch completed.", started=started)


async def _mark_seen(session: Session, selected: SelectedMailbox, uids: list[int],
                     attrs: list[c.FetchAttribute]) -> None:
    if selected.read_only or not any(_sets_seen(a) for a in attrs):
        return
    if getattr(selected.mailbox, "is_readonly", lambda: False)():
        return  # read-only by the ACL (no right to change anything): as EXAMINE, no \Seen, no FLAGS
    unseen = [u for u in uids if u in selected.messages and "\\Seen" not in selected.messages[u].flags]
    if not unseen:
        return
    result = await session.storage(selected.mailbox.store, unseen, StoreAction.ADD, ["\\Seen"])
    for info in result.changed:
        if info.uid in selected.messages:
            selected.messages[info.uid] = info
    if not any(a.name == "FLAGS" for a in attrs):
        # Dovecot puts the FLAGS it adds right after the UID (or first).
        attrs.insert(1 if attrs and attrs[0].name == "UID" else 0, c.FetchAttribute("FLAGS"))


# A batch of messages is read and rendered in one trip to the storage thread and sent with one
# write: a hop and a flush per message made FETCH 1:* FLAGS on 200 messages 200 round trips.
_BATCH_MESSAGES = 256
_BATCH_BYTES = 4 * 1024 * 1024


def _render_batch(mailbox: object, jobs: list[tuple[MessageInfo, int, tuple[str, ...]]],
                  attrs: tuple[c.FetchAttribute, ...], needs_body: bool) -> list[tuple[bytes | None, int | None]]:
    """(line or None when expunged, raw size) per job; runs in the storage thread."""
    out: list[tuple[bytes | None, int | None]] = []
    total = 0
    for info, seq, flags in jobs:
        raw = mailbox.read(info.uid) if needs_body else None  # type: ignore[attr-defined]
        if needs_body and raw is None:
            out.append((None, None))
            continue
        try:
            line = render(raw, info, seq, flags, attrs)
        except BinaryError:
            line = None
        out.append((line, None if raw is None else len(raw)))
        total += len(line or b"")
        if total > _BATCH_BYTES:
            break  # the caller sends these and comes back for the rest
    return out


async def _send(session: Session, selected: SelectedMailbox, uids: list[int],
                attrs: tuple[c.FetchAttribute, ...]) -> bool:
    needs_body = any(a.name in _NEEDS_BODY for a in attrs)
    expunged = False
    jobs = []
    for uid in uids:
        info = selected.messages.get(uid)
        seq = selected.seq_of(uid)
        if info is not None and seq is not None:
            jobs.append((info, seq, selected.flags_of(uid)))
    pos = 0
    while pos < len(jobs):
        batch = jobs[pos:pos + _BATCH_MESSAGES]
        if needs_body:
            results = await session.storage_light(_render_batch, selected.mailbox, batch, attrs, needs_body)
        else:
            # Index data only: cheap enough to render here, without a thread hop.
            results = _render_batch(selected.mailbox, batch, attrs, needs_body)
        pos += len(results)
        for line, raw_size in results:
            if line is None:
                expunged = True
                continue
            _count(session, attrs, raw_size)
            session.send(line)
        await session.flush()
    return expunged


def _count(session: Session, attrs: tuple[c.FetchAttribute, ...], raw_size: int | None) -> None:
    if raw_size is None:
        return
    for attr in attrs:
        if attr.name == "RFC822.HEADER" or (attr.section is not None and attr.section.text == "HEADER"):
            session.counters.fetch_hdr_count += 1
        elif attr.name in ("RFC822", "RFC822.TEXT", "BODY", "BINARY") and (attr.section is not None
                                                                          or attr.name.startswith("RFC822")):
            session.counters.fetch_body_count += 1
            session.counters.fetch_body_bytes += raw_size


async def _vanished(session: Session, selected: SelectedMailbox, cmd: c.Fetch) -> None:
    vanished_since = getattr(selected.mailbox, "vanished_since", None)
    if vanished_since is None or cmd.changed_since is None:
        return
    gone = await session.storage(vanished_since, cmd.changed_since)
    if not gone:
        return
    wanted = selected.resolve(cmd.sequence_set, uid=True) or []
    top = max(wanted, default=0)
    lo = min(wanted, default=0)
    hits = sorted(u for u in gone if lo <= u <= max(top, selected.uidnext))
    if hits:
        session.send(untagged(b"VANISHED (EARLIER) " + uid_set(hits)))
