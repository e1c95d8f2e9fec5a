"""The MIME layer behind IMAP FETCH, byte-compatible with Dovecot 2.3.19.

Usage::

    msg = parse_message(data)                  # part tree by offsets; never raises
    envelope(msg)                               # b'(NIL "subject" ((NIL NIL "a" "b")) ...)'
    bodystructure(msg, extended=True)           # BODYSTRUCTURE; extended=False gives BODY
    section(data, msg, "1.MIME", 0, 100)        # BODY[1.MIME]<0.100> bytes as sent (CRLF), None if bad
    binary_section(msg, "1")                    # BinaryResult(data, decoded) or raises BinaryError
    binary_size(msg, "1")                       # BINARY.SIZE[1]
    rfc822_size(msg)                            # RFC822.SIZE (bare LF counted as CRLF)
    snippet(data, msg)                          # PREVIEW / SNIPPET=FUZZY text (str)
    render_item(msg, "BODY.PEEK[TEXT]<0.10>")   # b'BODY[TEXT]<0> {10}\\r\\n...' ready for the wire

All IMAP strings are rendered with Dovecot's quoting rules (see ``wire``): NIL, "quoted", or a
``{n}`` literal when the value has 8-bit bytes, CR/LF or more than four quoted-specials.
"""

from __future__ import annotations

from pydovecot.storage.mime.binary import BinaryError, BinaryResult, binary_section, binary_size
from pydovecot.storage.mime.bodystructure import bodystructure
from pydovecot.storage.mime.envelope import envelope
from pydovecot.storage.mime.fetchitems import render_item
from pydovecot.storage.mime.parser import Message, Part, parse_message
from pydovecot.storage.mime.sections import rfc822_size, section
from pydovecot.storage.mime.snippet import snippet

__all__ = [
    "BinaryError", "BinaryResult", "Message", "Part", "binary_section", "binary_size",
    "bodystructure", "envelope", "parse_message", "render_item", "rfc822_size", "section", "snippet",
]
