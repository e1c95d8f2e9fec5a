"""Record real Dovecot 2.3.19's IMAP/POP3 transcripts for SASL EXTERNAL with TLS client
certificates (run by hand, as root):

    /work/main/.venv/bin/python tests/auth/external/record_goldens.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from external_support import VARIANTS, exchanges, write_config  # noqa: E402

REAL_DOVECOT = "/usr/sbin/dovecot"


def record(variant: str) -> tuple[dict[str, list[str]], str]:
    tmp = Path(tempfile.mkdtemp(prefix="pdt-real-ext", dir="/tmp"))
    conf, ports = write_config(tmp, **VARIANTS[variant])
    subprocess.run([REAL_DOVECOT, "-c", str(conf)], check=True)
    try:
        for _ in range(100):
            if (tmp / "run" / "master.pid").exists():
                break
            time.sleep(0.05)
        time.sleep(0.5)
        return asyncio.run(exchanges(tmp, ports)), (tmp / "dovecot.log").read_text()
    finally:
        subprocess.run([REAL_DOVECOT, "-c", str(conf), "stop"], check=False, capture_output=True)
        time.sleep(0.5)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    out = {}
    for name in VARIANTS:
        out[name], log = record(name)
        print(log)
    path = Path(__file__).parent / "goldens" / "transcripts.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
