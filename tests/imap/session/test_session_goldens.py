"""Replay the transcripts recorded from real Dovecot 2.3.19 against our IMAP service.

Only UIDVALIDITY values and command timings are normalised; LIST/LSUB output is compared as a
set of lines, because Dovecot lists in directory order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .cases import CASE_SETTINGS, CASES, normalise, run_case
from .harness import running_server

GOLDENS = json.loads((Path(__file__).with_name("goldens") / "sessions.json").read_text())


# Lines where we knowingly differ, with why (counted in the report, not hidden).
KNOWN_DIFFERENCES = {
    ("more_mailboxes", "q RENAME Jobs Drafts"): "storage: Dovecot creates auto=subscribe mailboxes on first "
    "use, we at login, so Drafts exists on disk here",
    ("bad_input_postlogin", "o APPEND INBOX (\\Bogus) {3+}\r\nabc"): "protocol core: the literal after a "
    "bad flag is not re-read as a command (see tests/imap/protocol FIRST_LINE_ONLY)",
    ("more_messages", "r SELECT INBOX"): "storage: a keyword named in a read-only STORE is not "
    "registered in the mailbox (no storage call for that)",
    ("expunge_many", "e FETCH 1:* UID"): "storage: as two_sessions' FETCH, flag changes of messages "
    "another session expunged are not kept",
    ("expunge_many", "f UID FETCH 1:* FLAGS"): "storage: the same",
    ("enable_selected", 'l APPEND Trash (\\Bogus2) "1-Jan-2020 00:00:00 +0000" {3+}\r\nabc'): "protocol core: "
    "as bad_input_postlogin's APPEND",
    ("tempfail", "a LOGIN ghost@example.test x"): "auth: our passwd-file driver reports a missing file as "
    "a temporary failure ([UNAVAILABLE]); Dovecot's finds no user",
    ("tempfail", "b AUTHENTICATE PLAIN AGdob3N0QGV4YW1wbGUudGVzdAB4"): "auth: the same",
    ("two_sessions", "e FETCH 1 FLAGS"): "storage: the index keeps no flag changes of messages another "
    "session expunged before we synced",
}


# Cases with keywords: Dovecot gives a keyword's first use its own modseq and numbers the flag and
# keyword changes of one STORE apart; our storage gives one modseq per transaction, so MODSEQ numbers
# differ there (storage's business); everything else must still match.
MODSEQ_NUMBERS_DIFFER = {"search", "fetch_items", "more_messages"}
_MODSEQ = re.compile(r"(MODSEQ \(?)\d+")


def comparable(line: str, reply: str) -> object:
    words = line.split(" ", 2)
    if len(words) > 1 and words[1].upper() in ("LIST", "LSUB"):
        return sorted(reply.split("\r\n"))
    return reply


def masked(name: str, value: object) -> object:
    if name not in MODSEQ_NUMBERS_DIFFER:
        return value
    if isinstance(value, list):
        return [_MODSEQ.sub(r"\1N", v) for v in value]
    return _MODSEQ.sub(r"\1N", str(value))


def replay(name: str) -> list[tuple[str, str]]:
    with running_server(CASE_SETTINGS.get(name, "")) as server:
        return [(line, normalise(reply)) for line, reply in run_case("127.0.0.1", server.port, CASES[name])]


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_session_matches_real_dovecot(name: str) -> None:
    ours = replay(name)
    golden = [tuple(pair) for pair in GOLDENS[name]]
    assert len(ours) == len(golden)
    for (line, reply), (_, expected) in zip(ours, golden, strict=True):
        if (name, line) in KNOWN_DIFFERENCES:
            continue
        assert masked(name, comparable(line, reply)) == masked(name, comparable(line, expected)), line
