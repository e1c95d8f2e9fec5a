"""Per-message sort keys for RFC 5256 SORT and RFC 5957 DISPLAYFROM/DISPLAYTO, computed as
Dovecot's index-sort.c does: address keys come from the first address of the header (a group's
name when the list starts with a group), strings are compared in i;unicode-casemap form, DATE
falls back to INTERNALDATE when the Date header is missing or invalid."""

from __future__ import annotations

from pydovecot.storage.casemap import casemap
from pydovecot.storage.search.addresses import Address, parse_addresses
from pydovecot.storage.search.dates import parse_date_header
from pydovecot.storage.search.message import SearchableMessage
from pydovecot.storage.search.message_text import MessageText, decode_header_value
from pydovecot.storage.sort.base_subject import base_subject

__all__ = ["SORT_KEYS", "sent_date", "sort_key"]

SORT_KEYS = ("ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO")


def sent_date(msg: SearchableMessage, text: MessageText) -> int:
    """The Date header as UTC seconds; INTERNALDATE when it is missing, invalid or epoch 0."""
    parsed = parse_date_header(text.first("Date"))
    if parsed is None or parsed[0] == 0:
        return msg.internaldate
    return parsed[0]


def _first_address(text: MessageText, header: str) -> Address | None:
    value = text.first(header)
    if value is None:
        return None
    found = parse_addresses(value)
    return found[0] if found else None


def _mailbox_key(text: MessageText, header: str) -> str:
    addr = _first_address(text, header)
    return casemap(addr.mailbox or "") if addr is not None else ""


def _display_key(text: MessageText, header: str) -> str:
    addr = _first_address(text, header)
    if addr is None:
        return ""
    if addr.name:
        name = decode_header_value(addr.name)
        if name:
            return casemap(name)
    if addr.mailbox is not None and addr.domain is not None:
        return casemap(f"{addr.mailbox}@{addr.domain}")
    return casemap(addr.mailbox or "")


def sort_key(name: str, msg: SearchableMessage, text: MessageText) -> int | str:
    """The comparable value of one SORT key (upper case name) for msg."""
    if name == "ARRIVAL":
        return msg.internaldate
    if name == "DATE":
        return sent_date(msg, text)
    if name == "SIZE":
        return msg.size
    if name == "SUBJECT":
        return base_subject(text.first("Subject"))[0]
    if name in ("FROM", "TO", "CC"):
        return _mailbox_key(text, name)
    if name in ("DISPLAYFROM", "DISPLAYTO"):
        return _display_key(text, name[7:])
    raise ValueError(f"unknown sort key {name}")
