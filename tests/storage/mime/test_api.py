"""The public API used by IMAP FETCH: sections, partials, BINARY errors, sizes and addresses."""

from __future__ import annotations

import pytest

from pydovecot.storage.mime import (
    BinaryError,
    binary_section,
    binary_size,
    bodystructure,
    envelope,
    parse_message,
    render_item,
    rfc822_size,
    section,
    snippet,
)
from pydovecot.storage.mime.address import MISSING_DOMAIN, parse_addresses
from pydovecot.storage.mime.rfc822 import rfc2231_merge

MSG = (b"From: A <a@b.c>\nSubject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
       b"--B\nContent-Type: text/plain\n\nhello\n--B\nContent-Type: application/octet-stream\n"
       b"Content-Transfer-Encoding: base64\n\naGk=\n--B--\n")


def test_sections() -> None:
    msg = parse_message(MSG)
    assert section(MSG, msg, "1") == b"hello"
    assert section(MSG, msg, "1.MIME") == b"Content-Type: text/plain\r\n\r\n"
    assert section(MSG, msg, "HEADER.FIELDS (SUBJECT FROM)") == b"From: A <a@b.c>\r\nSubject: hi\r\n\r\n"
    assert section(MSG, msg, "HEADER.FIELDS.NOT (SUBJECT FROM MIME-VERSION CONTENT-TYPE)") == b"\r\n"
    assert section(MSG, msg, "TEXT", 2, 4) == b"B\r\nC"
    assert section(MSG, msg, "9") == b""
    assert section(MSG, msg, "1.HEADER") == b""  # not a message/rfc822 part
    assert section(MSG, msg, "bogus[") is None
    assert rfc822_size(msg) == len(MSG) + MSG.count(b"\n")


def test_binary() -> None:
    msg = parse_message(MSG)
    result = binary_section(msg, "2")
    assert result is not None and result.data == b"hi" and result.decoded
    assert binary_size(msg, "2") == 2
    bad = parse_message(b"Content-Transfer-Encoding: x-uue\n\nbody\n")
    with pytest.raises(BinaryError) as err:
        binary_section(bad, "1")
    assert err.value.code == "UNKNOWN-CTE"
    broken = parse_message(b"Content-Transfer-Encoding: base64\n\n!!!!\n")
    with pytest.raises(BinaryError) as err:
        binary_section(broken, "1")
    assert err.value.code == "PARSE"


def test_structures_and_preview() -> None:
    msg = parse_message(MSG)
    assert envelope(msg).startswith(b'(NIL "hi" (("A" NIL "a" "b.c"))')
    assert bodystructure(msg, extended=False).endswith(b' "mixed")')
    assert snippet(MSG, msg) == "hello"
    assert render_item(msg, "BODY.PEEK[1]<1.2>") == b"BODY[1]<1> {2}\r\nel"
    assert render_item(msg, "BINARY.PEEK[2]") == b"BINARY[2] ~{2}\r\nhi"


def test_addresses_groups_and_missing_parts() -> None:
    addrs = parse_addresses(b'g: a@b, "N" <c@d>;, e@')
    assert addrs is not None
    assert [(a.name, a.mailbox, a.domain) for a in addrs] == [
        (None, b"g", None), (None, b"a", b"b"), (b"N", b"c", b"d"), (None, None, None),
        (None, b"e", MISSING_DOMAIN),
    ]
    assert parse_addresses(b"  ") is None


def test_rfc2231_continuations() -> None:
    merged = rfc2231_merge([(b"n*1", b"b"), (b"n*0", b"a"), (b"f*0*", b"utf-8''x"), (b"f*1", b" y")])
    assert merged == [(b"f*", b"utf-8''x%20y"), (b"n", b"ab")]
