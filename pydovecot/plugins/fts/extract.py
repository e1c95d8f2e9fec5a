"""What full-text search indexes of a message: its searchable headers and its text.

A lean walk: only text parts are decoded (transfer encoding and charset), HTML is reduced to
its text, other parts are skipped (``fts_decoder`` would turn them into text; not done yet).
Broken MIME never raises: what cannot be decoded is indexed as far as it goes.
"""

from __future__ import annotations

import email
import email.header
import html
import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

INDEXED_HEADERS = ("from", "to", "cc", "bcc", "subject", "message-id")
MAX_PARTS = 10000
_TAG = re.compile(r"<[^>]*>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class MessageText:
    headers: dict[str, str]
    """The indexed headers (lower-case names), decoded."""
    all_headers: str
    """Every header line, decoded (TEXT and HEADER searches)."""
    body: str


def decode_header(value: str) -> str:
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError):
        return value
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(_decode(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out)


def _decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "us-ascii", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def html_to_text(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", markup)))


def extract(data: bytes) -> MessageText:
    msg = email.message_from_bytes(data, policy=compat32)
    headers: dict[str, str] = {}
    lines = []
    for name, value in msg.items():
        decoded = decode_header(str(value))
        lines.append(f"{name}: {decoded}")
        key = name.lower()
        if key in INDEXED_HEADERS:
            headers[key] = f"{headers[key]} {decoded}" if key in headers else decoded
    return MessageText(headers, "\n".join(lines), "\n".join(_texts(msg)))


def _texts(msg: Message) -> list[str]:
    texts: list[str] = []
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, AssertionError):
            payload = None
        if not isinstance(payload, bytes):
            continue
        text = _decode(payload, part.get_content_charset())
        texts.append(html_to_text(text) if part.get_content_subtype() == "html" else text)
    return texts
