"""Record what the REAL Dovecot does with the seed tree, for test_seed_e2e.py to compare with.

Run as root with MariaDB up:  .venv/bin/python -m tests.examples.record_seed_goldens
It serves a private copy of the seed tree (seed_support.py) with /usr/sbin/dovecot, runs
the e2e scenario (seed_scenario.py), stops Dovecot and writes goldens/seed_real_dovecot.json:
the log lines normalized (seed_scenario.normalize) and what the clients saw.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.examples.seed_scenario import normalize, run_scenario
from tests.examples.seed_support import new_instance, require_seed_environment

GOLDEN = Path(__file__).resolve().parent / "goldens" / "seed_real_dovecot.json"


def main() -> None:
    require_seed_environment()
    inst = new_instance()
    inst.server = ("/usr/sbin/dovecot",)
    try:
        inst.make_tree()
        inst.prepare()
        inst.start()
        seen = run_scenario(inst)
        assert inst.stop() == 0
        seen["log"] = normalize(inst.log_lines())
    finally:
        inst.cleanup()
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(seen, indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
