"""Fixtures shared by the Maildir tests."""

from __future__ import annotations

import pytest

from pydovecot.storage.maildir import uidvalidity


@pytest.fixture(autouse=True)
def fresh_uidvalidity_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """next_uidvalidity remembers the last time-based value per process (as a Dovecot
    process does); every test starts as a fresh process, whatever ran before it."""
    monkeypatch.setattr(uidvalidity, "_fallback_value", 0)
