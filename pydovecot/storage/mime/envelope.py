"""IMAP ENVELOPE rendered as Dovecot 2.3 does (``message-part-data.c`` + ``imap-envelope.c``).

Rules that matter for byte equality: the last Date/Subject/In-Reply-To/Message-ID wins while
repeated address headers are concatenated; Sender and Reply-To fall back to From; the subject and
display names go through "string for humans" (whitespace collapsed, literal when 8-bit); other
strings keep their spaces and only lose newlines; encoded words stay raw.
"""

from __future__ import annotations

from pydovecot.storage.mime import wire
from pydovecot.storage.mime.address import Address, parse_addresses
from pydovecot.storage.mime.parser import Message, Part

_STRING_FIELDS = (b"date", b"subject", b"in-reply-to", b"message-id")
_ADDRESS_FIELDS = (b"from", b"sender", b"reply-to", b"to", b"cc", b"bcc")
_REPLACEMENT_CHAR = "\ufffd".encode()


def _nul_to_replacement(value: bytes) -> bytes:
    return value.replace(b"\0", _REPLACEMENT_CHAR) if b"\0" in value else value


def _write_addresses(addrs: list[Address] | None) -> bytes:
    if addrs is None:
        return b"NIL"
    out = [b"("]
    for a in addrs:
        name = b"NIL" if a.name is None else wire.string_for_humans(a.name)
        out.append(b"(%s %s %s %s)" % (name, wire.nstring(a.route), wire.nstring(a.mailbox),
                                       wire.nstring(a.domain)))
    out.append(b")")
    return b"".join(out)


def envelope_of_part(part: Part) -> bytes:
    """The ENVELOPE list (with parentheses) built from ``part``'s own header."""
    strings: dict[bytes, bytes] = {}
    addrs: dict[bytes, list[Address] | None] = {}
    for hdr in part.headers:
        name = hdr.name.lower()
        if name in _STRING_FIELDS:
            strings[name] = _nul_to_replacement(hdr.value)
        elif name in _ADDRESS_FIELDS:
            parsed = parse_addresses(hdr.value)
            if parsed is not None:
                addrs[name] = (addrs.get(name) or []) + parsed
            else:
                addrs.setdefault(name, None)
    subject = strings.get(b"subject")
    sender = addrs.get(b"sender") or addrs.get(b"from")
    reply_to = addrs.get(b"reply-to") or addrs.get(b"from")
    fields = [
        wire.nstring_nolf(strings.get(b"date")),
        b"NIL" if subject is None else wire.string_for_humans(subject),
        _write_addresses(addrs.get(b"from")),
        _write_addresses(sender),
        _write_addresses(reply_to),
        _write_addresses(addrs.get(b"to")),
        _write_addresses(addrs.get(b"cc")),
        _write_addresses(addrs.get(b"bcc")),
        wire.nstring_nolf(strings.get(b"in-reply-to")),
        wire.nstring_nolf(strings.get(b"message-id")),
    ]
    return b"(" + b" ".join(fields) + b")"


def envelope(msg: Message) -> bytes:
    """ENVELOPE of the whole message, e.g. ``(NIL "subject" ((NIL NIL "a" "b")) ...)``."""
    return envelope_of_part(msg.root)
