"""LIST-EXTENDED around names that are not mailboxes (`\\NonExistent`, `\\Noselect`, CHILDINFO)
against the transcripts recorded from real Dovecot 2.3.19 (goldens/list_extended.json), and
live against real Dovecot when it is installed.

LIST output is compared as a set of lines (Dovecot lists in directory/index order)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .cases import normalise, run_case
from .harness import running_server
from .list_extended_cases import CASE_SETTINGS, CASES
from .test_session_goldens import comparable

GOLDEN = Path(__file__).with_name("goldens") / "list_extended.json"
GOLDENS: dict[str, list[list[str]]] = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


# Lines where we knowingly differ, with why. Dovecot's mailbox list index keeps the node of a
# Maildir++ mailbox that was deleted while it had children (k, with k/l) as if the mailbox
# still existed: storage listings show `k` without \\NonExistent and its STATUS fails. Our
# listing reads the directories, so `k` is the implied parent it is on disk.
_INDEX_KEEPS_DELETED = ('b LIST "" *', 'c LIST "" %', 'k LIST "" * RETURN (CHILDREN)',
                        'l LIST "" % RETURN (CHILDREN SUBSCRIBED)', 'm LIST "" * RETURN (SUBSCRIBED)',
                        'o LIST "" * RETURN (STATUS (MESSAGES))', 'q LIST "" (% a/%)', 'r LIST "" (gone a x k)',
                        's5 LIST "" k* RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES))', 'w LIST (REMOTE) "" %',
                        'F LIST "" * RETURN (CHILDREN SPECIAL-USE)')
KNOWN_DIFFERENCES = {("maildirpp", line) for line in _INDEX_KEEPS_DELETED}


def replay(name: str) -> list[list[str]]:
    with running_server(CASE_SETTINGS.get(name, "")) as server:
        return [[line, normalise(reply)] for line, reply in run_case("127.0.0.1", server.port, CASES[name])]


def _same(name: str, ours: list[list[str]], real: list[list[str]]) -> None:
    assert [line for line, _ in ours] == [line for line, _ in real]
    for (line, reply), (_, expected) in zip(ours, real, strict=True):
        if (name, line) in KNOWN_DIFFERENCES:
            continue
        assert comparable(line, reply) == comparable(line, expected), line


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_recorded_dovecot(name: str) -> None:
    if name not in GOLDENS:
        pytest.skip("no golden recorded")
    _same(name, replay(name), GOLDENS[name])


@pytest.mark.skipif(not os.path.exists("/usr/sbin/dovecot") or os.geteuid() != 0,
                    reason="needs real Dovecot 2.3.19 and root")
@pytest.mark.parametrize("name", ["maildirpp", "fs"])
def test_matches_live_dovecot(name: str) -> None:
    """The recording again, live: the golden has not gone stale against the installed oracle."""
    import random

    from .record_list_extended_goldens import record

    _same(name, replay(name), record(name, port=random.randint(20000, 40000)))
