"""Record what real Dovecot 2.3.19 does with one DATA for three recipients into
goldens/multi_recipient.json (``python -m tests.lmtp.record_multi_recipient``, as root)."""

from __future__ import annotations

from pathlib import Path

from tests.lmtp.harness import record_real_variants
from tests.lmtp.multi_recipient import STEPS, VARIANTS, observe, write_variant

HERE = Path(__file__).resolve().parent
PORT = 24035


def main() -> None:
    record_real_variants(VARIANTS, write_variant, PORT, STEPS, observe, HERE / "goldens" / "multi_recipient.json")


if __name__ == "__main__":
    main()
