"""The fields of `doveadm fetch` (Dovecot's doveadm-mail-fetch.c): names, and how each prints.

Plain fields print one value; message text fields (hdr, body, text) stream, which the
formatters show differently (pager: "title:" on its own line). Dates: received and saved in
local time, sent as the Date header's UTC time followed by its zone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pydovecot.storage.mime.bodystructure import bodystructure
from pydovecot.storage.mime.envelope import envelope
from pydovecot.storage.mime.parser import parse_message
from pydovecot.storage.search.dates import parse_date_header
from pydovecot.storage.search.message_text import MessageText, split_header_body

from .mail_access import Message
from .rows import RowPrinter

AVAILABLE = ("hdr.<name> body.<section> binary.<section> user mailbox mailbox-guid seq uid guid flags modseq "
             "hdr body body.preview body.snippet text text.utf8 size.physical size.virtual date.received "
             "date.sent date.saved date.received.unixtime date.sent.unixtime date.saved.unixtime imap.envelope "
             "imap.body imap.bodystructure pop3.uidl pop3.order refcount storageid")


@dataclass(frozen=True)
class Field:
    name: str
    get: Callable[[Message, str], str | bytes]
    streamed: bool = False

    def print(self, printer: RowPrinter, message: Message) -> None:
        value = self.get(message, self.name)
        if self.streamed:
            printer.stream_value(value if isinstance(value, bytes) else value.encode())
        else:
            printer.value(value if isinstance(value, str) else value.decode("utf-8", "replace"))


def _local(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch or 0))


def _sent(message: Message) -> tuple[int, int]:
    header, _ = split_header_body(message.raw())
    parsed = parse_date_header(MessageText(header + b"\n\n").first("Date"))
    return parsed if parsed is not None else (0, 0)


def _sent_text(message: Message, _name: str) -> str:
    utc, zone = _sent(message)
    sign = "-" if zone < 0 else "+"
    hours, minutes = divmod(abs(zone), 60)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(utc)) + f" ({sign}{hours:02d}{minutes:02d})"


def _hdr(message: Message, _name: str) -> bytes:
    raw = message.raw()
    header, body = split_header_body(raw)
    return raw[: len(raw) - len(body)]


def _body(message: Message, _name: str) -> bytes:
    return split_header_body(message.raw())[1]


def _header_field(message: Message, name: str) -> str:
    wanted = name.split(".", 1)[1]
    header, _ = split_header_body(message.raw())
    values = MessageText(header + b"\n\n").values(wanted)
    return "\n".join(v.strip() for v in values)


def _mime(kind: str) -> Callable[[Message, str], str]:
    def get(message: Message, _name: str) -> str:
        parsed = parse_message(message.raw())
        text = envelope(parsed) if kind == "envelope" else bodystructure(parsed, extended=kind == "bodystructure")
        # doveadm prints the list without IMAP's enclosing parentheses
        if text.startswith(b"(") and text.endswith(b")"):
            text = text[1:-1]
        return text.decode("utf-8", "replace")

    return get


_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("user", lambda m, _: m.box.username),
    Field("mailbox", lambda m, _: m.box.listed.vname),
    Field("mailbox-guid", lambda m, _: m.box.guid),
    Field("seq", lambda m, _: str(m.seq)),
    Field("uid", lambda m, _: str(m.uid)),
    Field("guid", lambda m, _: m.guid),
    Field("flags", lambda m, _: m.flag_text()),
    Field("modseq", lambda m, _: str(m.modseq)),
    Field("hdr", _hdr, streamed=True),
    Field("body", _body, streamed=True),
    Field("text", lambda m, _: m.raw(), streamed=True),
    Field("text.utf8", lambda m, _: m.raw(), streamed=True),
    Field("size.physical", lambda m, _: str(m.info.size)),
    Field("size.virtual", lambda m, _: str(m.info.vsize)),
    Field("date.received", lambda m, _: _local(m.info.internaldate)),
    Field("date.saved", lambda m, _: _local(m.info.savedate)),
    Field("date.sent", _sent_text),
    Field("date.received.unixtime", lambda m, _: str(int(m.info.internaldate))),
    Field("date.saved.unixtime", lambda m, _: str(int(m.info.savedate or 0))),
    Field("date.sent.unixtime", lambda m, _: str(_sent(m)[0])),
    Field("imap.envelope", _mime("envelope")),
    Field("imap.body", _mime("body")),
    Field("imap.bodystructure", _mime("bodystructure")),
)}


def lookup(name: str) -> Field | None:
    """A field by name (any case, as Dovecot compares them); hdr.<name> is one per header."""
    lowered = name.lower()
    if lowered.startswith("hdr.") and len(name) > 4:
        return Field(name, _header_field)
    return _FIELDS.get(lowered)
