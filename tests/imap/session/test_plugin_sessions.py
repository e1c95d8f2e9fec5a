"""imap_quota, SEARCH through fts, and EXAMINE of new/ mail, replayed against real Dovecot's
transcripts (goldens/plugin_sessions.json, recorded by plugin_cases.py)."""

from __future__ import annotations

import json
import os

import pytest

from .cases import normalise, run_case
from .harness import running_server
from .plugin_cases import CASE_SETTINGS, CASES, GOLDENS, NEW_MAIL, USERS, deliver_new

RECORDED = json.loads(GOLDENS.read_text())

# Replies where we knowingly differ from real fts_lucene (see pydovecot/plugins/fts/engine.py).
KNOWN_DIFFERENCES = {
    ("fts_search", "i SEARCH TO bob"): "fts_lucene keeps an address as one token; unicode61 splits it",
    ("fts_search", "q SEARCH SUBJECT quarter"): "Snowball stems quarterly to quarter, Porter does not",
}


def replay(name: str) -> list[tuple[str, str]]:
    with running_server(CASE_SETTINGS.get(name, "")) as server:
        if name in NEW_MAIL:
            deliver_new(server.tmp, NEW_MAIL[name])
        pairs = [(line, normalise(reply)) for line, reply in run_case("127.0.0.1", server.port, CASES[name])]
        if name in NEW_MAIL:
            maildir = server.tmp / "home" / USERS[0] / "Maildir"
            pairs.append(("#new/", str(len(os.listdir(maildir / "new")))))
        return pairs


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_matches_real_dovecot(name: str) -> None:
    ours = replay(name)
    golden = [tuple(pair) for pair in RECORDED[name]]
    assert [line for line, _ in ours] == [line for line, _ in golden]
    for (line, reply), (_, expected) in zip(ours, golden, strict=True):
        if (name, line) in KNOWN_DIFFERENCES:
            assert reply != expected, f"{line}: fixed? drop it from KNOWN_DIFFERENCES"
            continue
        assert reply == expected, line
