"""Our SEARCH/SORT/THREAD against real Dovecot's recorded answers on the corpus.

One recorded session per golden file; commands replay in order (SEARCH RETURN (SAVE) sets `$`
for the commands after it), so the whole session is replayed once and each command is a case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.storage.search.corpus import build_maildir
from tests.storage.search.harness import (
    GOLDEN,
    TZ_GOLDEN,
    Replayer,
    expected,
    load_golden,
    read_corpus,
)
from tests.storage.search.record_goldens import TZ_NAME

SESSIONS = {"utc": (GOLDEN, "UTC"), "tz": (TZ_GOLDEN, TZ_NAME)}
_cache: dict[str, list[tuple[tuple[list[str], str], tuple[list[str], str]]]] = {}


def _replay(name: str, tmp_root: Path) -> list[tuple[tuple[list[str], str], tuple[list[str], str]]]:
    if name not in _cache:
        path, tz = SESSIONS[name]
        records = load_golden(path)
        root = tmp_root / name
        build_maildir(root)
        replayer = Replayer(read_corpus(root, records[0]), tz=tz)
        _cache[name] = [(replayer.run(str(r["command"])), expected(r)) for r in records[1:]]
    return _cache[name]


def _cases() -> list[tuple[str, int, str]]:
    out = []
    for name, (path, _) in SESSIONS.items():
        for index, record in enumerate(load_golden(path)[1:]):
            out.append((name, index, str(record["command"])))
    return out


@pytest.mark.parametrize(("session", "index", "command"), _cases(), ids=lambda v: str(v)[:60])
def test_command_matches_dovecot(
    session: str, index: int, command: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ours, theirs = _replay(session, tmp_path_factory.getbasetemp() / "search-corpus")[index]
    assert ours == theirs, command


def test_corpus_flags_from_names_match_dovecot(tmp_path: Path) -> None:
    """The flags and keywords we read from file names are the ones Dovecot reported."""
    records = load_golden()
    build_maildir(tmp_path)
    messages = read_corpus(tmp_path, records[0])
    fetched = {}
    for line in records[0]["untagged"]:  # type: ignore[attr-defined]
        match = re.search(r"UID (\d+) FLAGS \(([^)]*)\).*RFC822.SIZE (\d+)", line)
        if match:
            fetched[int(match.group(1))] = (set(match.group(2).split()), int(match.group(3)))
    assert len(fetched) == len(messages)
    for msg in messages:
        flags, size = fetched[msg.uid]
        assert set(msg.flags) | set(msg.keywords) == flags
        assert msg.size == size
