"""Record real Dovecot 2.3.19's master-user answers and log lines (run by hand, as root):

    /work/main/.venv/bin/python tests/auth/master/master_record_goldens.py

Writes goldens/transcript.json ({case: lines}), goldens/auth_log.json (its auth: lines) and
goldens/doveadm.json (doveadm auth test/login with master users).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import real_dovecot_running  # noqa: E402
from master_support import auth_log_lines, doveadm_outputs, transcript, write_setup  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="pdm-real", dir="/tmp"))
    try:
        setup = write_setup(directory)
        for name in ("masters", "strict-masters"):
            (directory / name).chmod(0o644)
        with real_dovecot_running(setup) as conf:  # type: ignore[arg-type]
            answers = asyncio.run(transcript(setup.base_dir))
            log = auth_log_lines((setup.base_dir / "dovecot.log").read_text())
            doveadm = doveadm_outputs(["/usr/bin/doveadm"], conf)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    GOLDENS.mkdir(exist_ok=True)
    (GOLDENS / "transcript.json").write_text(json.dumps(answers, indent=1) + "\n")
    (GOLDENS / "auth_log.json").write_text(json.dumps(log, indent=1) + "\n")
    (GOLDENS / "doveadm.json").write_text(json.dumps(doveadm, indent=1) + "\n")


if __name__ == "__main__":
    main()
