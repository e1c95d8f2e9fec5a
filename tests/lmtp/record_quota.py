"""Record real Dovecot 2.3.19's LMTP replies and log lines for a recipient over quota, with
``lmtp_rcpt_check_quota`` on and off, into goldens/quota.json
(``python -m tests.lmtp.record_quota``, as root)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from tests.lmtp.harness import converse, final_lines, normalize_reply
from tests.lmtp.quota_cases import STEPS, VARIANTS, message_count, write_variant
from tests.lmtp.record_goldens import normalize_log
from tests.support import real_dovecot

HERE = Path(__file__).resolve().parent
PORT = 24037


def record(name: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lmtp-quota-", dir="/tmp") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        conf = write_variant(root, PORT, name)
        with real_dovecot.running(conf):
            time.sleep(0.5)
            replies = converse(PORT, STEPS)
            time.sleep(0.3)
        logs = [normalize_log(x) for x in (root / "dovecot.log").read_text().splitlines() if " lmtp(" in x]
        return {
            "expected": [final_lines(r) for r in replies],
            "replies": [normalize_reply(r).decode("latin-1") for r in replies],
            "log": logs,
            "bob_messages": message_count(root, "bob"),
            "alice_messages": message_count(root, "alice"),
        }


def main() -> None:
    goldens = {name: record(name) for name in VARIANTS}
    out = HERE / "goldens" / "quota.json"
    out.write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
