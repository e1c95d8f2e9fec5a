"""Record what real Dovecot 2.3.19 does with one DATA for three recipients into
goldens/multi_recipient.json (``python -m tests.lmtp.record_multi_recipient``, as root)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from tests.lmtp.harness import converse, final_lines, normalize_reply
from tests.lmtp.multi_recipient import STEPS, VARIANTS, observe, write_variant
from tests.support import real_dovecot

HERE = Path(__file__).resolve().parent
PORT = 24035


def record(name: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lmtp-multi-", dir="/tmp") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        conf = write_variant(root, PORT, name)
        with real_dovecot.running(conf):
            time.sleep(0.5)
            replies = converse(PORT, STEPS)
            time.sleep(0.3)
        return {
            "expected": [final_lines(r) for r in replies],
            "replies": [normalize_reply(r).decode("latin-1") for r in replies],
            **observe(root),
        }


def main() -> None:
    goldens = {name: record(name) for name in VARIANTS}
    out = HERE / "goldens" / "multi_recipient.json"
    out.write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
