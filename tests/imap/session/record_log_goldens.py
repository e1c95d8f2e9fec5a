"""Record real Dovecot's log lines for LOG_CASES: python -m tests.imap.session.record_log_goldens."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from .cases import LOG_CASES, LOG_SETTINGS, normalise_log, run_case, write_config

PORT = 31143


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="imapgold") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        conf = write_config(base, PORT, LOG_SETTINGS)
        subprocess.run(["dovecot", "-c", str(conf)], check=True)
        try:
            time.sleep(0.5)
            for lines in LOG_CASES:
                run_case("127.0.0.1", PORT, lines)
                time.sleep(0.3)
        finally:
            subprocess.run(["dovecot", "-c", str(conf), "stop"], check=False)
            time.sleep(0.5)
        log = (base / "dovecot.log").read_text().splitlines()
    wanted = [normalise_log(line.split(" ", 3)[3]) for line in log if "imap" in line.split(" ", 4)[3]]
    (Path(__file__).with_name("goldens") / "logs.json").write_text(json.dumps(wanted, indent=1) + "\n")


if __name__ == "__main__":
    main()
