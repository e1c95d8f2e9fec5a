"""BINARY[section] / BINARY.SIZE: Content-Transfer-Encoding removed, as Dovecot 2.3 does it.

A decoded part's header loses its Content-Transfer-Encoding fields and gains
``Content-Transfer-Encoding: binary`` just before the empty line (istream-binary-converter);
decoded bodies go out raw, everything else gets the usual LF -> CRLF conversion.  Errors carry
Dovecot's response codes: ``UNKNOWN-CTE`` for an encoding it cannot undo, ``PARSE`` for broken
base64 / quoted-printable.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from pydovecot.storage.mime import rfc822
from pydovecot.storage.mime.parser import Message, Part
from pydovecot.storage.mime.sections import find_part, parse_spec, partial

_LF_NOT_CRLF = re.compile(rb"(?<!\r)\n")
_PASSTHROUGH = (b"7bit", b"8bit", b"binary")
_B64_IGNORED = b" \t\r\n"


class BinaryError(Exception):
    """A FETCH BINARY failure: ``code`` and ``text`` form Dovecot's NO response."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"[{code}] {text}")
        self.code = code
        self.text = text


UNKNOWN_CTE = ("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding.")
PARSE = ("PARSE", "Invalid data in MIME part.")


@dataclass
class BinaryResult:
    data: bytes
    decoded: bool  # base64/qp decoded or NULs inside: Dovecot then uses literal8 (~{n})


def _crlf(data: bytes) -> bytes:
    return _LF_NOT_CRLF.sub(b"\r\n", data) if b"\n" in data else data


_CTE_NAMES = {b"7bit": "78bit", b"8bit": "78bit", b"binary": "binary", b"base64": "base64",
              b"quoted-printable": "qp"}


def part_cte(part: Part) -> str:
    """message_decoder_parse_cte of the part's last Content-Transfer-Encoding field.

    Returns "78bit" (also when there is none), "binary", "base64", "qp" or "unknown".  Only the
    first line of a folded value counts, and an empty value is unknown, as in Dovecot.
    """
    cte = "78bit"
    for hdr in part.headers:
        if hdr.name.lower() != b"content-transfer-encoding":
            continue
        first_line = hdr.value.split(b"\n", 1)[0]
        cur = rfc822.Cursor(first_line)
        cur.skip_lwsp()
        token = bytearray()
        cur.parse_mime_token(token)
        cte = _CTE_NAMES.get(bytes(token).lower(), "unknown")
    return cte


def decode_base64(data: bytes) -> bytes:
    body = data.translate(None, _B64_IGNORED)
    if len(body) % 4:
        raise BinaryError(*PARSE)
    try:
        return binascii.a2b_base64(body, strict_mode=True)
    except binascii.Error as exc:
        raise BinaryError(*PARSE) from exc


_HEX = frozenset(b"0123456789abcdefABCDEF")


def decode_qp(data: bytes) -> bytes:
    """Strict quoted-printable (Dovecot's qp-decoder): a bad ``=XX`` or a bare CR is an error.

    Lines end at LF (an optional CR before it belongs to the line end); trailing blanks are
    dropped, a final ``=`` joins the next line, hard line breaks come out as CRLF.
    """
    out = bytearray()
    lines = data.split(b"\n")
    last = len(lines) - 1
    for idx, line in enumerate(lines):
        if idx == last and not line:
            break
        if line.endswith(b"\r") and idx != last:
            line = line[:-1]
        if b"\r" in line:
            raise BinaryError(*PARSE)
        stripped = line.rstrip(b" \t")
        soft = stripped.endswith(b"=")
        if soft:
            stripped = stripped[:-1]
        i = 0
        n = len(stripped)
        while i < n:
            eq = stripped.find(b"=", i)
            if eq < 0:
                out += stripped[i:]
                break
            out += stripped[i:eq]
            hx = stripped[eq + 1:eq + 3]
            if len(hx) != 2 or hx[0] not in _HEX or hx[1] not in _HEX:
                raise BinaryError(*PARSE)
            out.append(int(hx, 16))
            i = eq + 3
        if not soft and idx != last:
            out += b"\r\n"
    return bytes(out)


@dataclass
class _BinaryPart:
    """Sizes of a converted part (message_binary_part): header and/or body were rewritten."""

    hdr_size: int | None = None
    body_size: int | None = None


@dataclass
class _Converter:
    """index-mail-binary.c add_binary_part(): one pass producing the converted stream."""

    out: list[bytes]
    converted: bool = False
    has_nuls: bool = False
    parts: dict[int, _BinaryPart] | None = None  # by part header offset, when sizes are wanted

    def _record(self, part: Part) -> _BinaryPart:
        assert self.parts is not None
        return self.parts.setdefault(part.header_start, _BinaryPart())

    def add(self, part: Part, include_hdr: bool) -> None:
        data = part.data
        cte = part_cte(part)
        if b"\0" in data[part.header_start:part.body_start]:
            self.has_nuls = True
        if cte == "unknown":
            raise BinaryError(*UNKNOWN_CTE)
        # an empty body is never decoded, and then the header is left alone too
        decode = cte in ("base64", "qp") and part.body_end > part.body_start
        if part.children:
            # A container (multipart, message/rfc822) is never decoded and its header stays as
            # it is, but Dovecot still books it as a converted part with an empty body, which
            # shows in BINARY.SIZE.
            if decode and self.parts is not None:
                self._record(part).body_size = 0
            decode = False
        if include_hdr:
            if decode:
                header = _converted_header(part)
                if self.parts is not None:
                    self._record(part).hdr_size = len(header)
                self.out.append(header)
            else:
                self.out.append(_crlf(part.header_bytes()))
        if part.children:
            pos = part.body_start
            for child in part.children:
                self.out.append(_crlf(data[pos:child.header_start]))
                self.add(child, True)
                pos = child.body_end
            self.out.append(_crlf(data[pos:part.body_end]))
            return
        body = part.body_bytes()
        if not body:
            return
        if not decode:
            if b"\0" in body:
                self.has_nuls = True
            self.out.append(_crlf(body))
            return
        decoded = decode_base64(body) if cte == "base64" else decode_qp(body)
        self.converted = True
        if self.parts is not None:
            self._record(part).body_size = len(decoded)
        self.out.append(decoded)


def _converted_header(part: Part) -> bytes:
    """The header without Content-Transfer-Encoding, plus ``...: binary`` before its empty line."""
    kept = [h.raw for h in part.headers if h.name.lower() != b"content-transfer-encoding"]
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += b"\n"
    header = _crlf(b"".join(kept))
    if part.eoh:
        header += b"Content-Transfer-Encoding: binary\r\n\r\n"
    return header


def binary_section(msg: Message, spec: str | bytes, offset: int | None = None,
                   count: int | None = None) -> BinaryResult | None:
    """BINARY[spec]<offset.count>; None for an invalid spec; raises BinaryError like Dovecot."""
    parsed = parse_spec(spec)
    if parsed is None or parsed.what != "":
        return None
    part = find_part(msg, parsed.path)
    if part is None:
        return BinaryResult(b"", False)
    conv = _Converter([])
    conv.add(part, not parsed.path)
    data = b"".join(conv.out)
    return BinaryResult(partial(data, offset, count), conv.converted or conv.has_nuls)


def binary_size(msg: Message, spec: str | bytes) -> int | None:
    """BINARY.SIZE[spec], computed like index_mail_get_binary_size().

    Dovecot converts the whole message once, remembers the converted parts' sizes, and then
    adjusts the part's plain size by every converted part whose offset falls inside
    ``[part start, part start + virtual size)`` - a range that mixes physical and virtual
    offsets, so a converted sibling just after the part can be counted in.  We do the same.
    """
    parsed = parse_spec(spec)
    if parsed is None or parsed.what != "":
        return None
    part = find_part(msg, parsed.path)
    if part is None:
        return 0
    conv = _Converter([], parts={})
    conv.add(msg.root, True)
    assert conv.parts is not None
    _, hvirt, _ = part.header_size()
    _, bvirt, _ = part.body_size()
    size = hvirt + bvirt
    end = part.header_start + size
    root_bin: _BinaryPart | None = None
    by_offset = {p.header_start: p for p in msg.walk()}
    for pos, bin_part in conv.parts.items():
        if not part.header_start <= pos < end:
            continue
        other = by_offset[pos]
        if pos == part.header_start:
            root_bin = bin_part
        size -= other.header_size()[1] + other.body_size()[1]
        size += (bin_part.hdr_size if bin_part.hdr_size is not None else other.header_size()[1])
        size += bin_part.body_size or 0
    if parsed.path:
        if root_bin is not None and root_bin.hdr_size is not None:
            size -= root_bin.hdr_size
        else:
            size -= hvirt
    return size % (1 << 64)  # Dovecot's uoff_t arithmetic wraps around
