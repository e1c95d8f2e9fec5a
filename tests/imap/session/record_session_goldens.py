"""Record transcripts from real Dovecot: python -m tests.imap.session.record_session_goldens [CASE...]."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .cases import CASE_SETTINGS, CASES, normalise, run_case, write_config

GOLDENS = Path(__file__).with_name("goldens")
PORT = 31143


def main() -> None:
    GOLDENS.mkdir(exist_ok=True)
    path = GOLDENS / "sessions.json"
    out: dict[str, list[list[str]]] = json.loads(path.read_text()) if path.exists() else {}
    wanted = sys.argv[1:] or list(CASES)
    for name in wanted:
        lines = CASES[name]
        with tempfile.TemporaryDirectory(prefix="imapgold") as tmp:
            base = Path(tmp)
            base.chmod(0o755)
            conf = write_config(base, PORT, CASE_SETTINGS.get(name, ""))
            subprocess.run(["dovecot", "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                pairs = run_case("127.0.0.1", PORT, lines)
            finally:
                subprocess.run(["dovecot", "-c", str(conf), "stop"], check=False)
                time.sleep(0.5)
            out[name] = [[line, normalise(reply)] for line, reply in pairs]
    out = {name: out[name] for name in CASES if name in out}
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
