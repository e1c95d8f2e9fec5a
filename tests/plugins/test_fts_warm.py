"""A warm search does no write and no extra reads: the index knows it is current from memory,
and still notices what another connection (doveadm index, the LMTP autoindexer) committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydovecot.imap.commands.search import _run_search
from pydovecot.imap.protocol.parser import parse_command
from pydovecot.plugins.fts.engine import FtsIndex
from pydovecot.plugins.fts.extract import extract
from tests.plugins.test_fts_search import make_user, selected


def text(body: str):  # type: ignore[no-untyped-def]
    message = extract(f"Subject: s\r\n\r\n{body}\r\n".encode())
    return lambda: message


def test_is_current_sees_other_connections_commits(tmp_path: Path) -> None:
    ours, theirs = FtsIndex(str(tmp_path)), FtsIndex(str(tmp_path))
    try:
        ours.check_uidvalidity(7)
        ours.add([(1, text("alpha"))])
        assert ours.is_current(7, 1) and not ours.is_current(7, 2) and not ours.is_current(8, 1)
        assert theirs.is_current(7, 1)
        theirs.add([(2, text("bravo"))])  # another connection's commit
        assert ours.is_current(7, 2)
        assert ours.lookup("BODY", "bravo") == {2}
    finally:
        ours.close()
        theirs.close()


def test_a_warm_lookup_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = make_user(tmp_path, "fts fts_lucene").open_mailbox("INBOX")
    first = box.append(b"Subject: one\r\n\r\nalpha bravo\r\n")
    assert box.fts_lookup("BODY", "alpha") == {first}
    statements: list[str] = []
    index = box._index()[0]
    index.db.set_trace_callback(statements.append)
    try:
        assert box.fts_lookup("BODY", "bravo") == {first}
        assert not [s for s in statements if s.split()[0].upper() in ("BEGIN", "INSERT", "COMMIT", "DELETE")]
        second = box.append(b"Subject: two\r\n\r\nbravo charlie\r\n")
        assert box.fts_lookup("BODY", "bravo") == {first, second}  # new mail is indexed first
    finally:
        index.db.set_trace_callback(None)


def test_search_answered_by_the_index_alone(tmp_path: Path) -> None:
    box = make_user(tmp_path, "fts fts_lucene").open_mailbox("INBOX")
    uids = [box.append(f"Subject: m{n}\r\n\r\n{'alpha' if n % 2 else 'bravo'} text\r\n".encode())
            for n in range(6)]
    box.expunge([uids[1]])  # its row stays in the contentless index: never reported
    view = selected(box)

    def search(query: str) -> list[int]:
        return _run_search(view, parse_command(f"t UID SEARCH {query}".encode()), None)  # type: ignore[arg-type]

    assert search("BODY alpha") == [uids[3], uids[5]]
    assert search("BODY alpha TEXT text") == [uids[3], uids[5]]
    assert search("BODY alpha UID 1:4") == [uids[3]]
    assert search("BODY nosuchword") == []
