"""POP3 UIDLs as Dovecot's pop3 makes them.

Order of precedence (Dovecot's ``pop3_get_uid``): a UIDL the backend already stores for the
message (the Maildir ``dovecot-uidlist`` record's ``P`` extension, written by
``pop3_save_uidl`` or a migration), then the message's ``X-UIDL:`` header when
``pop3_reuse_xuidl`` is on, then ``pop3_uidl_format`` expanded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydovecot.storage.maildir.uidlist import lock_uidlist, read_uidlist, rewrite_uidlist
from pydovecot.varexpand import Variable, VariableContext, expand

# The variables of pop3_uidl_format (Dovecot's pop3 documentation).
UIDL_CONTEXT = VariableContext(
    "pop3_uidl",
    (
        Variable("uidvalidity", "v"),
        Variable("uid", "u"),
        Variable("md5", "m", doc="MD5 of the message header"),
        Variable("filename", "f"),
        Variable("guid", "g"),
    ),
)

UIDL_EXTENSION = "P"


def format_uidl(template: str, *, uid: int, uidvalidity: int, filename: str, guid: str,
                header: bytes | None = None) -> str:
    """``pop3_uidl_format`` for one message; ``header`` is needed only by ``%m``."""
    table: dict[str, str | None] = {
        "uidvalidity": str(uidvalidity),
        "uid": str(uid),
        "filename": filename,
        "guid": guid,
        "md5": hashlib.md5(header).hexdigest() if header is not None else None,  # noqa: S324 - an id
    }
    return expand(template, table, context=UIDL_CONTEXT).text


def needs_header(template: str) -> bool:
    return "%m" in template or "{md5}" in template


def message_header(data: bytes) -> bytes:
    """The header block, up to and including the blank line that ends it."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = data.find(sep)
        if end >= 0:
            return data[: end + len(sep)]
    return data


def x_uidl(header: bytes) -> str | None:
    """The first ``X-UIDL:`` header's value, as pop3_reuse_xuidl uses it."""
    for raw in header.split(b"\n"):
        name, colon, value = raw.partition(b":")
        if colon and name.strip().lower() == b"x-uidl":
            text = value.strip().decode("utf-8", "replace")
            return text or None
    return None


def stored_uidls(control_dir: str) -> dict[int, str]:
    """UIDLs the Maildir's dovecot-uidlist remembers (its records' ``P`` extension)."""
    uidlist = read_uidlist(control_dir)
    if uidlist is None:
        return {}
    found = {}
    for record in uidlist.records:
        value = record.ext(UIDL_EXTENSION)
        if value:
            found[record.uid] = value
    return found


def save_uidls(control_dir: str, uidls: Mapping[int, str]) -> None:
    """pop3_save_uidl: store generated UIDLs in dovecot-uidlist so format changes keep them."""
    if not uidls:
        return
    with lock_uidlist(control_dir) as lock:
        current = read_uidlist(control_dir)
        if current is None:
            return
        records = tuple(
            rec.with_ext(UIDL_EXTENSION, uidls[rec.uid])
            if rec.uid in uidls and " " not in uidls[rec.uid] and uidls[rec.uid] else rec
            for rec in current.records
        )
        if records != current.records:
            from dataclasses import replace

            rewrite_uidlist(control_dir, replace(current, records=records, partial_tail=b""), lock)
