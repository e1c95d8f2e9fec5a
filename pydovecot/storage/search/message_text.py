"""The minimal message reading SEARCH/SORT/THREAD need: headers (unfolded, MIME encoded words
decoded) and the decoded text of a message's text parts.

Deliberately small and self-contained (the full MIME parser lives in storage/mime); it follows
Dovecot's choices: only text/* and message/* parts (and parts without Content-Type) are searched
as body text, multipart preambles and epilogues are not, an embedded message's header is not body
text, and bodies are converted from their charset to UTF-8 (unknown charsets are read as UTF-8).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from dataclasses import dataclass, field
from functools import cached_property

from pydovecot.storage.casemap import casemap

__all__ = [
    "MessageText",
    "casemap_header_value",
    "decode_charset",
    "decode_header_value",
    "header_segments",
    "split_header_body",
]

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"^[ \t\r\n]+$")


def split_header_body(raw: bytes) -> tuple[bytes, bytes]:
    """Header block (without the empty line) and body."""
    match = re.search(rb"\r?\n\r?\n", raw)
    if raw.startswith((b"\n", b"\r\n")):
        return b"", raw[1:] if raw.startswith(b"\n") else raw[2:]
    if match is None:
        return raw, b""
    return raw[: match.start()], raw[match.end() :]


def parse_header_block(block: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs in order; continuation lines joined with their CR/LF removed."""
    fields: list[tuple[str, str]] = []
    for line in re.split(rb"\r?\n", block):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + _text(line))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            continue
        fields.append((_text(name.rstrip(b" \t")), _text(value.lstrip(b" \t"))))
    return fields


def _text(data: bytes) -> str:
    """Header bytes: UTF-8 when valid, else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_charset(data: bytes, charset: str | None) -> str:
    """Bytes in a MIME charset to text; unknown or missing charsets are read as UTF-8."""
    name = (charset or "utf-8").strip().strip('"').lower()
    if name in ("us-ascii", "ascii", ""):
        name = "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    return data.decode(name, "replace")


_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}


def _decode_word(charset: str, encoding: str, text: str) -> tuple[str, bool]:
    """(decoded text, whether it went through a known charset). Like Dovecot, a word in an
    unknown charset keeps its bytes (read as UTF-8) and skips the case normalization."""
    charset = charset.split("*", 1)[0].lower()  # RFC 2231 language suffix
    if encoding in "bB":
        data = _b64(text.encode("ascii", "replace"))
    else:
        data = quopri.decodestring(text.replace("_", " ").encode("utf-8", "replace"), header=True)
    if charset in _UTF8_NAMES:
        return data.decode("utf-8", "replace"), True
    try:
        codecs.lookup(charset)
    except LookupError:
        return data.decode("utf-8", "replace"), False
    return data.decode(charset, "replace"), True


def header_segments(value: str) -> list[tuple[str, bool]]:
    """A header value split as Dovecot's message_header_decode() does: plain text and decoded
    encoded words, each with whether it may be case-normalized. White space that only
    separates text from a following encoded word is dropped."""
    if "=?" not in value:
        return [(value, True)]
    out: list[tuple[str, bool]] = []
    start = 0
    for match in _ENCODED_WORD.finditer(value):
        before = value[start : match.start()]
        if before and not _BETWEEN_WORDS.match(before):
            out.append((before, True))
        text, known = _decode_word(match.group(1), match.group(2), match.group(3))
        if text:
            out.append((text, known))
        start = match.end()
    if start < len(value):
        out.append((value[start:], True))
    return out


def decode_header_value(value: str) -> str:
    """Decode RFC 2047 encoded words (see header_segments)."""
    return "".join(text for text, _ in header_segments(value))


def casemap_header_value(value: str) -> str:
    """The decoded value in i;unicode-casemap form, except words in unknown charsets, which
    Dovecot appends unnormalized (so they only match a search key of the same case)."""
    return "".join(casemap(text) if known else text for text, known in header_segments(value))


@dataclass(frozen=True)
class ContentType:
    maintype: str = "text"
    subtype: str = "plain"
    params: dict[str, str] = field(default_factory=dict)


def parse_content_type(value: str | None, default: str = "text/plain") -> ContentType:
    """`type/subtype; name=value; ...`; an invalid or missing value gives the default."""
    main, _, rest = (value or "").partition(";")
    kind, slash, sub = main.strip().lower().partition("/")
    if not slash or not kind or not sub:
        kind, _, sub = default.partition("/")
        rest = rest if value else ""
    params: dict[str, str] = {}
    for match in re.finditer(r';?\s*([^=\s;]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]*)', ";" + rest):
        name = match.group(1).lower()
        quoted = match.group(3)
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(2)
    return ContentType(kind, sub, params)


def _b64(data: bytes) -> bytes:
    """Lenient base64: characters outside the alphabet are skipped, decoding stops at the
    first `=`, a dangling partial quantum is dropped (what we got so far)."""
    cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", data).split(b"=", 1)[0]
    cleaned = cleaned[: len(cleaned) - (1 if len(cleaned) % 4 == 1 else 0)]
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def decode_transfer(body: bytes, encoding: str | None) -> bytes:
    name = (encoding or "").strip().lower()
    if name == "base64":
        return _b64(body)
    if name == "quoted-printable":
        return quopri.decodestring(body)
    return body


class MessageText:
    """Lazily parsed view of one message's bytes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        header, self._body = split_header_body(raw)
        self.fields = parse_header_block(header)

    def values(self, name: str) -> list[str]:
        """Raw (unfolded, not decoded) values of every field called name."""
        wanted = name.lower()
        return [value for field_name, value in self.fields if field_name.lower() == wanted]

    def first(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    @cached_property
    def body_texts(self) -> list[str]:
        """Decoded text of every searchable body part, in order."""
        return self._parts[0]

    @cached_property
    def nested_fields(self) -> list[list[tuple[str, str]]]:
        """Header fields of every MIME part and embedded message below the top header."""
        return self._parts[1]

    @cached_property
    def _parts(self) -> tuple[list[str], list[list[tuple[str, str]]]]:
        texts: list[str] = []
        headers: list[list[tuple[str, str]]] = []
        _collect_parts(self.fields, self._body, _Sink(texts, headers), depth=0)
        return texts, headers

    @cached_property
    def header_text(self) -> str:
        """`Name: value` lines of every header in the message (top, MIME parts, embedded
        messages), casemapped as TEXT searches them."""
        blocks = [self.fields, *self.nested_fields]
        return "\n".join(
            f"{casemap(name)}: {casemap_header_value(value)}" for block in blocks for name, value in block
        )


@dataclass
class _Sink:
    texts: list[str]
    headers: list[list[tuple[str, str]]]


def _field(fields: list[tuple[str, str]], name: str) -> str | None:
    for field_name, value in fields:
        if field_name.lower() == name:
            return value
    return None


def _collect_parts(
    fields: list[tuple[str, str]], body: bytes, out: _Sink, depth: int, default: str = "text/plain"
) -> None:
    if depth > 50:
        return
    ctype = parse_content_type(_field(fields, "content-type"), default)
    if ctype.maintype == "multipart":
        boundary = ctype.params.get("boundary")
        if boundary:
            child_default = "message/rfc822" if ctype.subtype == "digest" else "text/plain"
            for part in _split_multipart(body, boundary.encode("utf-8", "replace")):
                header, part_body = split_header_body(part)
                part_fields = parse_header_block(header)
                out.headers.append(part_fields)
                _collect_parts(part_fields, part_body, out, depth + 1, child_default)
        return
    if ctype.maintype == "message" and ctype.subtype == "rfc822":
        # The embedded message's header is not body text; its body is.
        header, inner = split_header_body(decode_transfer(body, _field(fields, "content-transfer-encoding")))
        inner_fields = parse_header_block(header)
        out.headers.append(inner_fields)
        _collect_parts(inner_fields, inner, out, depth + 1)
        return
    if ctype.maintype not in ("text", "message"):
        return
    data = decode_transfer(body, _field(fields, "content-transfer-encoding"))
    out.texts.append(decode_charset(data, ctype.params.get("charset")))


def _split_multipart(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts between `--boundary` lines, without preamble and epilogue."""
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?=\r?\n|$)")
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(body[start : match.start()])
        if match.group(1):
            return parts
        start = match.end()
        if body[start : start + 2] == b"\r\n":
            start += 2
        elif body[start : start + 1] == b"\n":
            start += 1
    if start is not None:
        parts.append(body[start:])
    return parts
