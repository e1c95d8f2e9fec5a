"""Record NOTIFY transcripts from real Dovecot: python -m tests.imap.session.record_notify_goldens [CASE...]."""

from __future__ import annotations

import sys
from pathlib import Path

from .notify_cases import CASE_SETTINGS, CASES, normalise_notify, run_notify_case
from .recording import record_against_real, update_goldens

GOLDEN = Path(__file__).with_name("goldens") / "notify.json"
PORT = 31243


def record(name: str, port: int = PORT) -> list[list[str]]:
    """One case against real Dovecot on a fresh mail home."""
    return record_against_real(CASES[name], CASE_SETTINGS.get(name, ""), port, run_notify_case, normalise_notify)


def main() -> None:
    update_goldens(GOLDEN, CASES, sys.argv[1:], record)


if __name__ == "__main__":
    main()
