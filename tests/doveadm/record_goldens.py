"""Record the real doveadm's stdout/stderr/exit code for the cases in cases.py.

Run by hand where Dovecot 2.3.19 is installed:  python tests/doveadm/record_goldens.py
Writes goldens/doveadm_cli.json. Each case runs as `doveadm -c <private config> ARGS`
(unless it names its own -c) with stdin from the case (not a terminal).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cases import CASES, run_case  # noqa: E402

GOLDEN = Path(__file__).parent / "goldens" / "doveadm_cli.json"


def main() -> int:
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            result = run_case(["doveadm"], case, Path(tmp), executable="/usr/bin/doveadm")
            records.append({**case.as_json(), **result})
    GOLDEN.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {len(records)} cases into {GOLDEN}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
