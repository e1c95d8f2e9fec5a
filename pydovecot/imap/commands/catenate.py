"""CATENATE (RFC 4469): an APPENDed message built from literals and IMAP URLs (RFC 5092).

Dovecot accepts URLs relative to the server (`/INBOX;UIDVALIDITY=5/;UID=1/;SECTION=1.MIME`)
or absolute ones naming this user; a URL that cannot be served fails the APPEND with
`[BADURL url]`.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING

from pydovecot.storage.mime import parser, sections

from ..protocol import commands as c
from .common import CommandFailed, storage_error

if TYPE_CHECKING:
    from ..session import Session

_PATH = re.compile(
    r"/(?P<mailbox>[^/;]+)(?:;UIDVALIDITY=(?P<uidvalidity>\d+))?/;UID=(?P<uid>\d+)"
    r"(?:/;SECTION=(?P<section>[^/;]*))?(?:/;PARTIAL=(?P<start>\d+)(?:\.(?P<length>\d+))?)?",
    re.IGNORECASE,
)


def _bad(url: str, text: str) -> CommandFailed:
    return CommandFailed(text, f"BADURL {url}")


def _path(url: str) -> str:
    if not url.lower().startswith("imap://"):
        return url
    authority, slash, rest = url[len("imap://"):].partition("/")
    if authority.count("@") > 1 or not authority or not slash:
        raise _bad(url, "Invalid IMAP URL: Invalid host identifier.")
    return "/" + rest


async def resolve(session: Session, part: bytes | c.CatenateUrl) -> bytes:
    """The bytes one CATENATE part stands for (raises CommandFailed with BADURL)."""
    if isinstance(part, bytes):
        return part
    url = part.url.decode("utf-8", "replace")
    match = _PATH.fullmatch(_path(url))
    if match is None:
        raise _bad(url, "Invalid IMAP URL.")
    assert session.user is not None
    vname = urllib.parse.unquote(match["mailbox"])
    try:
        mailbox = await session.storage(session.user.open_mailbox, vname)
        raw = await session.storage(mailbox.read, int(match["uid"]))
        status = await session.storage(mailbox.status) if match["uidvalidity"] else None
    except Exception as exc:  # noqa: BLE001
        raise _bad(url, storage_error(exc, vname).text) from None
    if raw is None or (status is not None and status.uidvalidity != int(match["uidvalidity"])):
        raise _bad(url, "Message not found.")
    return _cut(raw, match)


def _cut(raw: bytes, match: re.Match[str]) -> bytes:
    spec = urllib.parse.unquote(match["section"] or "")
    data = raw if not spec else sections.section(raw, parser.parse_message(raw), spec) or b""
    if match["start"] is not None:
        start = int(match["start"])
        length = int(match["length"]) if match["length"] is not None else None
        data = data[start:None if length is None else start + length]
    return data
