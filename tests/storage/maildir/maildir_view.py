"""Test helper: what ``doveadm fetch 'uid guid flags'`` should report for a maildir, from
our parsers alone, and a parser for doveadm's fetch output."""

from __future__ import annotations

from dataclasses import dataclass

from pydovecot.storage.maildir import filename as fn
from pydovecot.storage.maildir.keywords import Keywords
from pydovecot.storage.maildir.uidlist import Uidlist


@dataclass(frozen=True)
class MessageView:
    uid: int
    guid: str
    flags: frozenset[str]


def view_from_files(uidlist: Uidlist, keywords: Keywords, files: list[str]) -> list[MessageView]:
    """``files`` are ``new/<name>`` / ``cur/<name>`` entries of the maildir."""
    by_base = {fn.base_name(entry.split("/", 1)[1]): entry.split("/", 1)[1] for entry in files}
    out = []
    for rec in uidlist.records:
        name = by_base.get(rec.base)
        if name is None:
            continue  # expunged: the record lingers in the uidlist
        info = fn.parse_info_flags(name)
        names = {keywords.name_at(i) or f"unknown-{i}" for i in info.keyword_indexes}
        out.append(MessageView(rec.uid, rec.guid, frozenset(info.system_flags | names)))
    return out


def parse_fetch_output(text: str) -> list[MessageView]:
    # doveadm's pager formatter ends each record with a form feed line.
    out = []
    for block in text.replace("\f", "").strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in block.splitlines()
        )
        flags = frozenset(f for f in fields.get("flags", "").split() if f != "\\Recent")
        out.append(MessageView(int(fields["uid"]), fields["guid"], flags))
    return out
