"""Re-record the golden answers of real Dovecot for every corpus message.

Run: ``python -m tests.storage.mime.record_goldens`` (needs the real Dovecot, see oracle.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.storage.mime.oracle import available, fetch_all, write_golden

HERE = Path(__file__).resolve().parent


def main() -> None:
    if not available():
        raise SystemExit("real Dovecot not found (set PYDOVECOT_DOVECOT_ROOT)")
    for eml in sorted((HERE / "corpus").glob("*.eml")):
        write_golden(HERE / "goldens" / (eml.stem + ".txt"), fetch_all(eml.read_bytes()))
        print("recorded", eml.stem)


if __name__ == "__main__":
    main()
