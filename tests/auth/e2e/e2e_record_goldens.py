"""Record real Dovecot 2.3.19's answers to e2e_exchanges (run by hand, as root):

    /work/main/.venv/bin/python tests/auth/e2e/e2e_record_goldens.py

Starts real dovecot with a private base_dir under /tmp on the e2e passwd-file config, runs the
exchanges over its auth-client / auth-master / auth-userdb sockets, stops it and writes
goldens/transcript.json.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from e2e_exchanges import transcript  # noqa: E402
from e2e_support import real_dovecot_running, write_setup  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="pde-real", dir="/tmp"))
    try:
        setup = write_setup(directory)
        with real_dovecot_running(setup):
            answers = asyncio.run(transcript(setup.base_dir))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    GOLDENS.mkdir(exist_ok=True)
    (GOLDENS / "transcript.json").write_text(json.dumps(answers, indent=1) + "\n")


if __name__ == "__main__":
    main()
