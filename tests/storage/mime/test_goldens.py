"""Every FETCH item of every corpus message renders byte-identical to Dovecot 2.3.19's answer."""

from __future__ import annotations

import pytest

from tests.storage.mime.conftest import CORPUS, GOLDENS, corpus_names
from tests.storage.mime.oracle import ITEMS, read_golden
from tests.storage.mime.parity import KNOWN_DIFFERENCES, compare


def test_corpus_is_large_and_recorded() -> None:
    names = corpus_names()
    assert len(names) >= 40
    for name in names:
        answers = read_golden(GOLDENS / f"{name}.txt")
        assert set(answers) == set(ITEMS), name


@pytest.mark.parametrize("name", corpus_names())
def test_message_matches_dovecot(name: str) -> None:
    answers = read_golden(GOLDENS / f"{name}.txt")
    diffs = [d for d in compare((CORPUS / f"{name}.eml").read_bytes(), answers)
             if (name, d[0]) not in KNOWN_DIFFERENCES]
    assert diffs == []
