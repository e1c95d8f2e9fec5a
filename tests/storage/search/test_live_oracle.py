"""Re-run the recorded commands against real Dovecot now, when it is installed, and check
both that the goldens are current and that we still agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_real_dovecot
from tests.storage.search import oracle
from tests.storage.search.corpus import build_maildir
from tests.storage.search.harness import Replayer, expected, load_golden, read_corpus
from tests.storage.search.record_goldens import commands


@pytest.mark.oracle
def test_live_dovecot_agrees_with_goldens_and_us(tmp_path: Path) -> None:
    require_real_dovecot()
    if not oracle.available():
        pytest.skip("the real imap binary is not installed")
    live = oracle.run_session(commands())
    recorded = load_golden()
    assert [r["command"] for r in live] == [r["command"] for r in recorded]
    build_maildir(tmp_path)
    replayer = Replayer(read_corpus(tmp_path, live[0]))
    mismatches = []
    for now, then in zip(live[1:], recorded[1:], strict=True):
        theirs = expected(now)
        if theirs != expected(then):
            mismatches.append(("golden stale", now["command"]))
        if replayer.run(str(now["command"])) != theirs:
            mismatches.append(("we differ", now["command"]))
    assert mismatches == []
