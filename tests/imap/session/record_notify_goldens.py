"""Record NOTIFY transcripts from real Dovecot: python -m tests.imap.session.record_notify_goldens [CASE...]."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from tests.support import real_dovecot

from .cases import write_config
from .notify_cases import CASE_SETTINGS, CASES, normalise_notify, run_notify_case

GOLDEN = Path(__file__).with_name("goldens") / "notify.json"
PORT = 31243


def record(name: str, port: int = PORT) -> list[list[str]]:
    """One case against real Dovecot on a fresh mail home."""
    with tempfile.TemporaryDirectory(prefix="imapnotify") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        conf = write_config(base, port, CASE_SETTINGS.get(name, ""))
        with real_dovecot.running(conf):
            time.sleep(0.3)
            pairs = run_notify_case("127.0.0.1", port, CASES[name])
    return [[line, normalise_notify(reply)] for line, reply in pairs]


def main() -> None:
    out: dict[str, list[list[str]]] = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    for name in sys.argv[1:] or list(CASES):
        out[name] = record(name)
    out = {name: out[name] for name in CASES if name in out}
    GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
