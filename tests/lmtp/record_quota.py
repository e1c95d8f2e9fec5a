"""Record real Dovecot 2.3.19's LMTP replies and log lines for a recipient over quota, with
``lmtp_rcpt_check_quota`` on and off, into goldens/quota.json
(``python -m tests.lmtp.record_quota``, as root)."""

from __future__ import annotations

from pathlib import Path

from tests.lmtp.harness import record_real_variants
from tests.lmtp.quota_cases import STEPS, VARIANTS, message_count, write_variant
from tests.lmtp.record_goldens import normalize_log

HERE = Path(__file__).resolve().parent
PORT = 24037


def observe(root: Path) -> dict[str, object]:
    return {
        "log": [normalize_log(x) for x in (root / "dovecot.log").read_text().splitlines() if " lmtp(" in x],
        "bob_messages": message_count(root, "bob"),
        "alice_messages": message_count(root, "alice"),
    }


def main() -> None:
    record_real_variants(VARIANTS, write_variant, PORT, STEPS, observe, HERE / "goldens" / "quota.json")


if __name__ == "__main__":
    main()
