"""Record LIST-EXTENDED transcripts from real Dovecot:
python -m tests.imap.session.record_list_extended_goldens [CASE...]."""

from __future__ import annotations

import sys
from pathlib import Path

from .cases import normalise, run_case
from .list_extended_cases import CASE_SETTINGS, CASES
from .recording import record_against_real, update_goldens

GOLDEN = Path(__file__).with_name("goldens") / "list_extended.json"
PORT = 31343


def record(name: str, port: int = PORT) -> list[list[str]]:
    """One case against real Dovecot on a fresh mail home."""
    return record_against_real(CASES[name], CASE_SETTINGS.get(name, ""), port, run_case, normalise)


def main() -> None:
    update_goldens(GOLDEN, CASES, sys.argv[1:], record)


if __name__ == "__main__":
    main()
