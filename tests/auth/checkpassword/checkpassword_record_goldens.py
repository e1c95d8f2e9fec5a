"""Record real Dovecot 2.3.19's checkpassword answers, log lines and the environment it gives
the program (run by hand, as root):

    /work/main/.venv/bin/python tests/auth/checkpassword/checkpassword_record_goldens.py
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
from checkpassword_support import auth_log_lines, transcript, write_setup  # noqa: E402
from e2e_support import real_dovecot_running  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="pdc-real", dir="/tmp"))
    try:
        setup = write_setup(directory)
        with real_dovecot_running(setup):  # type: ignore[arg-type]
            answers = asyncio.run(transcript(setup.base_dir))
        log = auth_log_lines((setup.base_dir / "dovecot.log").read_text())
        envs = {path.name: json.loads(path.read_text()) for path in sorted((directory / "envs").glob("env-*.json"))}
        for item in envs.values():
            item["env"] = {k: v.replace(str(directory), "DIR") for k, v in item["env"].items()}
            item["argv"] = [a.replace(str(directory), "DIR") for a in item["argv"]]
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    GOLDENS.mkdir(exist_ok=True)
    (GOLDENS / "transcript.json").write_text(json.dumps(answers, indent=1) + "\n")
    (GOLDENS / "auth_log.json").write_text(json.dumps(log, indent=1) + "\n")
    (GOLDENS / "env.json").write_text(json.dumps(envs, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
