"""Maildirs written by Dovecot 2.3.19 (goldens/snapshots): our parsers give the UIDs, GUIDs,
flags and keywords ``doveadm fetch`` reported, and the UIDVALIDITY/UIDNEXT of
``doveadm mailbox status``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pydovecot.storage.maildir.keywords import Keywords, parse_keywords
from pydovecot.storage.maildir.uidlist import parse_uidlist

from .maildir_view import parse_fetch_output, view_from_files

SNAPSHOTS = Path(__file__).parent / "goldens" / "snapshots"


@pytest.mark.parametrize("snapshot", sorted(p.name for p in SNAPSHOTS.iterdir()))
def test_snapshot_matches_doveadm(snapshot: str) -> None:
    d = SNAPSHOTS / snapshot
    uidlist = parse_uidlist((d / "dovecot-uidlist").read_bytes())
    kw_path = d / "dovecot-keywords"
    keywords = parse_keywords(kw_path.read_bytes()) if kw_path.exists() else Keywords()
    files = (d / "files.txt").read_text().splitlines()
    ours = view_from_files(uidlist, keywords, files)
    assert ours == parse_fetch_output((d / "fetch.txt").read_text())
    status = (d / "status.txt").read_text()
    m = re.search(r"uidnext=(\d+) uidvalidity=(\d+)", status)
    assert m is not None
    assert uidlist.uid_validity == int(m.group(2))
    assert uidlist.next_uid_effective == int(m.group(1))
