"""BODY / BODYSTRUCTURE as Dovecot 2.3 writes them (``imap-bodystructure.c``).

The Content-* data of a part is ignored when the part is not MIME (no MIME-Version or
Content-Type, and not inside a multipart), the first occurrence of each Content-* header wins,
text parts get a default ``("charset" "us-ascii")`` and a line count, message/rfc822 parts embed
the envelope and structure of the enclosed message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydovecot.storage.mime import rfc822, wire
from pydovecot.storage.mime.envelope import envelope_of_part
from pydovecot.storage.mime.parser import Message, Part, PartFlag

_EMPTY = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)'
_EMPTY_EXT = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)'


@dataclass
class ContentData:
    """The Content-* fields of one part (message_part_data)."""

    type: bytes | None = None
    subtype: bytes | None = None
    params: list[tuple[bytes, bytes]] = field(default_factory=list)
    cte: bytes | None = None
    id: bytes | None = None
    description: bytes | None = None
    md5: bytes | None = None
    disposition: bytes | None = None
    disposition_params: list[tuple[bytes, bytes]] = field(default_factory=list)
    language: list[bytes] | None = None
    location: bytes | None = None


def content_data(part: Part) -> ContentData:
    d = ContentData()
    if not part.flags & PartFlag.IS_MIME:
        return d
    seen_disp = False
    for hdr in part.headers:
        name = hdr.name.lower()
        if not name.startswith(b"content-"):
            continue
        sub = name[8:]
        value = hdr.value
        if b"\0" in value and sub in (b"id", b"md5", b"description", b"location"):
            value = value.replace(b"\0", "\ufffd".encode())  # message_header_strdup()
        if sub == b"type" and d.type is None:
            d.type, d.subtype, _, d.params = rfc822.parse_content_type(value)
        elif sub == b"transfer-encoding" and d.cte is None:
            d.cte = rfc822.parse_mime_token_only(value)
        elif sub == b"id" and d.id is None:
            d.id = value
        elif sub == b"md5" and d.md5 is None:
            d.md5 = value
        elif sub == b"description" and d.description is None:
            d.description = value
        elif sub == b"disposition" and not seen_disp:
            disp, params = rfc822.parse_token_and_params(value)
            if disp is not None:
                d.disposition, d.disposition_params = disp, params
                seen_disp = bool(params)
        elif sub == b"language" and d.language is None:
            langs = rfc822.parse_language(value)
            d.language = langs or None
        elif sub == b"location" and d.location is None:
            d.location = value
    return d


def _params(params: list[tuple[bytes, bytes]]) -> bytes:
    return b"(" + b" ".join(wire.nstring(k) + b" " + wire.nstring(v) for k, v in params) + b")"


def _extension(d: ContentData, out: list[bytes]) -> None:
    if d.disposition is None:
        out.append(b" NIL")
    else:
        dp = _params(d.disposition_params) if d.disposition_params else b"NIL"
        out.append(b" (%s %s)" % (wire.nstring(d.disposition), dp))
    if d.language is None:
        out.append(b" NIL")
    else:
        out.append(b" (" + b" ".join(wire.nstring(x) for x in d.language) + b")")
    out.append(b" " + wire.nstring_nolf(d.location))


def _write_multipart(part: Part, extended: bool, out: list[bytes]) -> None:
    d = content_data(part)
    if part.children:
        for child in part.children:
            _write(child, extended, out)
    else:
        out.append(_EMPTY_EXT if extended else _EMPTY)
    out.append(b" " + (wire.nstring(d.subtype) if d.subtype is not None else b'"x-unknown"'))
    if not extended:
        return
    out.append(b" " + (_params(d.params) if d.params else b"NIL"))
    _extension(d, out)


def _container_type_demoted(d: ContentData) -> bool:
    typ = (d.type or b"").lower()
    return typ == b"multipart" or (typ == b"message" and (d.subtype or b"").lower() == b"rfc822")


def _write_leaf(part: Part, extended: bool, out: list[bytes]) -> None:
    d = content_data(part)
    rfc822_part = part.is_rfc822
    if rfc822_part:
        out.append(b'"message" "rfc822"')
        text = False
    elif _container_type_demoted(d):
        # a multipart or message/rfc822 that the parser did not enter (too deep, ...)
        out.append(b'"application" "octet-stream"')
        text = False
    else:
        text = d.type is None or d.type.lower() == b"text"
        out.append(wire.nstring(d.type if d.type is not None else b"text") + b" ")
        if d.subtype is not None:
            out.append(wire.nstring(d.subtype))
        else:
            out.append(b'"plain"' if text else b'"unknown"')
    params = list(d.params)
    if text and not any(k.lower() == b"charset" for k, _ in params):
        params.append((b"charset", b"us-ascii"))
    out.append(b" " + (_params(params) if params else b"NIL"))
    _, vsize, lines = part.body_size()
    out.append(b" %s %s %s %d" % (wire.nstring_nolf(d.id), wire.nstring_nolf(d.description),
                                   wire.nstring(d.cte) if d.cte is not None else b'"7bit"', vsize))
    if text:
        out.append(b" %d" % lines)
    elif rfc822_part and part.children:
        child = part.children[0]
        out.append(b" " + envelope_of_part(child) + b" ")
        _write(child, extended, out)
        out.append(b" %d" % lines)
    if not extended:
        return
    out.append(b" " + wire.nstring_nolf(d.md5))
    _extension(d, out)


def _write(part: Part, extended: bool, out: list[bytes]) -> None:
    out.append(b"(")
    if part.is_multipart:
        _write_multipart(part, extended, out)
    else:
        _write_leaf(part, extended, out)
    out.append(b")")


def bodystructure_of_part(part: Part, extended: bool) -> bytes:
    out: list[bytes] = []
    _write(part, extended, out)
    return b"".join(out)


def is_plain_7bit(part: Part) -> bool:
    """message_part_data_is_plain_7bit(): Dovecot then writes a canonical lowercase structure.

    Only the first parameter is looked at, so "charset=us-ascii; format=flowed" qualifies too.
    """
    if not part.flags & PartFlag.TEXT or part.children:
        return False
    if b"\0" in part.data[part.body_start:part.body_end]:
        return False  # NULs in the body keep the full structure (NULs in the header do not)
    d = content_data(part)
    if d.subtype is not None and d.subtype.lower() != b"plain":
        return False
    if d.params and (d.params[0][0].lower() != b"charset" or d.params[0][1].lower() != b"us-ascii"):
        return False
    if d.id is not None or d.description is not None:
        return False
    if d.cte is not None and d.cte.lower() != b"7bit":
        return False
    return d.md5 is None and d.disposition is None and d.language is None and d.location is None


def bodystructure(msg: Message, extended: bool = True) -> bytes:
    """BODYSTRUCTURE (``extended=True``) or BODY of the message, with the outer parentheses."""
    if extended and is_plain_7bit(msg.root):
        # Dovecot does not store such a BODYSTRUCTURE; it writes this default (BODY it renders)
        _, vsize, lines = msg.root.body_size()
        return b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d NIL NIL NIL NIL)' % (vsize, lines)
    return bodystructure_of_part(msg.root, extended)
