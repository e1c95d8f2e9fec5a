"""BODY[section]<partial> extraction as Dovecot's ``imap-msgpart.c`` returns it.

Section texts: ``""``, ``HEADER``, ``TEXT``, ``HEADER.FIELDS (A B)``, ``HEADER.FIELDS.NOT (A B)``,
``1.2``, ``1.2.MIME``, ``1.2.HEADER``, ``1.2.TEXT``, ``1.2.HEADER.FIELDS (...)``.  The returned
bytes are what goes on the wire: bare LF becomes CRLF and NUL becomes 0x80 (Dovecot never sends
NUL in a non-BINARY literal).  A part that does not exist gives ``b""``; a malformed spec gives
``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydovecot.storage.mime.parser import Message, Part, PartFlag

_LF_NOT_CRLF = re.compile(rb"(?<!\r)\n")
_SPEC = re.compile(
    rb"^(?P<path>\d+(?:\.\d+)*)?(?:\.?(?P<what>HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?"
    rb"(?:\s*\((?P<fields>[^)]*)\))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SectionSpec:
    path: tuple[int, ...]
    what: str  # "", "HEADER", "TEXT", "MIME", "HEADER.FIELDS", "HEADER.FIELDS.NOT"
    fields: tuple[bytes, ...] = ()


def parse_spec(spec: str | bytes) -> SectionSpec | None:
    raw = spec.encode() if isinstance(spec, str) else spec
    m = _SPEC.match(raw.strip())
    if m is None:
        return None
    path = tuple(int(x) for x in m["path"].split(b".")) if m["path"] else ()
    what = (m["what"] or b"").upper().decode()
    if m["path"] and m["what"] is not None and raw[len(m["path"]):len(m["path"]) + 1] != b".":
        return None
    if what == "MIME" and not path:
        return None
    fields = tuple(m["fields"].split()) if m["fields"] is not None else ()
    if what.startswith("HEADER.FIELDS") != (m["fields"] is not None):
        return None
    return SectionSpec(path, what, fields)


def _select(content: Part, num: int) -> Part | None:
    """Number ``num`` inside a message whose top part is ``content``."""
    if content.flags & PartFlag.MULTIPART:
        return content.children[num - 1] if 1 <= num <= len(content.children) else None
    return content if num == 1 else None


def find_part(msg: Message, path: tuple[int, ...]) -> Part | None:
    """Walk a numeric part path the way Dovecot 2.3 resolves it.

    A message (the root, or the child of a message/rfc822 part) numbers its top part "1" when it
    is not multipart.  A leaf reached as a multipart child may still be called ".1" once (it is
    its own only part); a part reached as a message's "1" may not.
    """
    if not path:
        return msg.root
    part = _select(msg.root, path[0])
    fresh = part is not None and part is not msg.root
    for num in path[1:]:
        if part is None:
            return None
        if part.flags & PartFlag.MESSAGE_RFC822 and part.children:
            part = _select(part.children[0], num)
            fresh = part is not None and part is not part.parent
            continue
        if part.flags & PartFlag.MULTIPART:
            part = _select(part, num)
            fresh = True
        elif fresh and num == 1:
            fresh = False
        else:
            return None
    return part


def to_wire(data: bytes) -> bytes:
    """LF -> CRLF and NUL -> 0x80, as Dovecot's crlf + nonuls streams do."""
    if b"\n" in data:
        data = _LF_NOT_CRLF.sub(b"\r\n", data)
    if b"\0" in data:
        data = data.replace(b"\0", b"\x80")
    return data


def header_fields(part: Part, names: tuple[bytes, ...], exclude: bool) -> bytes:
    """HEADER.FIELDS[.NOT]: matching fields in their original order, then an empty line.

    FIELDS always ends with an empty line; FIELDS.NOT passes the header's own empty line
    through, so a header that ended at EOF or at a boundary gets none.
    """
    wanted = {n.lower() for n in names}
    out = [h.raw for h in part.headers if (h.name.lower() in wanted) != exclude]
    if out and not exclude and not out[-1].endswith(b"\n"):
        out[-1] += b"\n"
    out.append(part.eoh if exclude else b"\n")
    return to_wire(b"".join(out))  # a filtered header is produced with CRLFs


def _message_of(part: Part, spec: SectionSpec) -> Part | None:
    """The message a HEADER/TEXT section talks about: the root, or an rfc822 part's child."""
    if not spec.path:
        return part
    if part.flags & PartFlag.MESSAGE_RFC822 and part.children:
        return part.children[0]
    return None


def section_raw(msg: Message, spec: SectionSpec) -> bytes:
    """The section's bytes before the wire conversion."""
    data = msg.data
    part = find_part(msg, spec.path)
    if part is None:
        return b""
    if spec.what == "":
        if not spec.path:
            return data
        return part.body_bytes()
    if spec.what == "MIME":
        return part.header_bytes()
    target = _message_of(part, spec)
    if target is None:
        return b""
    if spec.what == "HEADER":
        return target.header_bytes()
    if spec.what == "TEXT":
        return target.body_bytes()
    return header_fields(target, spec.fields, spec.what == "HEADER.FIELDS.NOT")


def partial(data: bytes, offset: int | None, count: int | None) -> bytes:
    if offset is None:
        return data
    end = None if count is None else offset + count
    return data[offset:end]


def _skip_virtual(raw: bytes, skip: int) -> tuple[int, bool]:
    """message_skip_virtual(): (raw offset, "a CR was skipped") after ``skip`` virtual bytes.

    A bare LF counts two; any CR counts one and, when it is the last byte skipped, Dovecot
    assumes a CRLF and drops one more byte of output (even after a bare CR).
    """
    i = 0
    n = len(raw)
    last_cr = False
    while i < n and skip > 0:
        skip -= 1
        c = raw[i]
        if c == 0x0D:
            last_cr = skip == 0
        elif c == 0x0A and (i == 0 or raw[i - 1] != 0x0D):
            if skip == 0:
                return i, True  # between the virtual CR and the LF
            skip -= 1
        i += 1
    return i, last_cr


def partial_section(raw: bytes, offset: int | None, count: int | None) -> bytes:
    """<offset.count> of a BODY section as imap_msgpart_get_partial() returns it (CRLF, no NUL)."""
    wire = to_wire(raw)
    if offset is None:
        return wire if count is None else wire[:count]
    vsize = len(wire)
    if offset >= vsize:
        return b""
    if vsize == len(raw):
        data = wire[offset:]  # CRLF already: plain seek
    else:
        start, cr_skipped = _skip_virtual(raw, offset)
        data = to_wire(raw[start:])
        if cr_skipped:
            data = data[1:]
    size = vsize - offset if count is None else min(count, vsize - offset)
    return data[:size]


def section(data: bytes, msg: Message, spec: str | bytes, offset: int | None = None,
            count: int | None = None) -> bytes | None:
    """BODY[spec]<offset.count> as sent on the wire; None when ``spec`` is not valid."""
    parsed = parse_spec(spec)
    if parsed is None:
        return None
    return partial_section(section_raw(msg, parsed), offset, count)


def rfc822_size(msg: Message) -> int:
    """RFC822.SIZE: the message with every bare LF counted as CRLF."""
    _, hv, _ = msg.root.header_size()
    _, bv, _ = msg.root.body_size()
    return hv + bv
