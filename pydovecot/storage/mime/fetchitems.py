"""Render one FETCH data item (name + value) the way Dovecot puts it on the wire.

A convenience for the IMAP FETCH command and for the parity tests: ``render_item(msg, "BODY.PEEK[1]<0.10>")``
gives ``BODY[1]<0> {10}\\r\\n...``.  Errors from BINARY raise :class:`BinaryError`.
"""

from __future__ import annotations

import re

from pydovecot.storage.mime import wire
from pydovecot.storage.mime.binary import BinaryError, binary_section, binary_size
from pydovecot.storage.mime.bodystructure import bodystructure
from pydovecot.storage.mime.envelope import envelope
from pydovecot.storage.mime.parser import Message
from pydovecot.storage.mime.sections import rfc822_size, section
from pydovecot.storage.mime.snippet import snippet

_SECTION_ITEM = re.compile(
    r"^(?P<kind>BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[(?P<spec>[^\]]*)\]"
    r"(?:<(?P<off>\d+)(?:\.(?P<cnt>\d+))?>)?$",
    re.IGNORECASE,
)


def render_item(msg: Message, item: str) -> bytes:
    """``NAME value`` for one FETCH item; ValueError for items this layer does not know."""
    upper = item.upper()
    if upper == "ENVELOPE":
        return b"ENVELOPE " + envelope(msg)
    if upper == "BODY":
        return b"BODY " + bodystructure(msg, extended=False)
    if upper == "BODYSTRUCTURE":
        return b"BODYSTRUCTURE " + bodystructure(msg, extended=True)
    if upper == "RFC822.SIZE":
        return b"RFC822.SIZE %d" % rfc822_size(msg)
    if upper == "PREVIEW":
        return b"PREVIEW " + wire.nstring(snippet(msg.data, msg).encode())
    if upper == "SNIPPET":
        return b"SNIPPET (FUZZY " + wire.nstring(snippet(msg.data, msg).encode()) + b")"
    m = _SECTION_ITEM.match(item)
    if m is None:
        raise ValueError(f"unknown FETCH item {item!r}")
    kind = m["kind"].upper().replace(".PEEK", "")
    spec = m["spec"]
    off = int(m["off"]) if m["off"] is not None else None
    cnt = int(m["cnt"]) if m["cnt"] is not None else None
    label = f"{kind}[{spec}]" + (f"<{off}>" if off is not None else "")
    if kind == "BODY":
        value = section(msg.data, msg, spec, off, cnt)
        if value is None:
            raise ValueError(f"bad section {spec!r}")
        return label.encode() + b" " + wire.literal(value)
    if kind == "BINARY.SIZE":
        size = binary_size(msg, spec)
        if size is None:
            raise ValueError(f"bad section {spec!r}")
        return label.encode() + b" %d" % size
    result = binary_section(msg, spec, off, cnt)
    if result is None:
        raise ValueError(f"bad section {spec!r}")
    prefix = b"~" if result.decoded else b""
    return label.encode() + b" " + prefix + wire.literal(result.data)


__all__ = ["BinaryError", "render_item"]
