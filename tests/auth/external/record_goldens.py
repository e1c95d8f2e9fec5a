"""Record real Dovecot 2.3.19's IMAP/POP3 transcripts for SASL EXTERNAL with TLS client
certificates (run by hand, as root):

    /work/main/.venv/bin/python tests/auth/external/record_goldens.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from external_support import VARIANTS, exchanges, write_config  # noqa: E402

from tests.support import real_dovecot  # noqa: E402


def record(variant: str) -> tuple[dict[str, list[str]], str]:
    tmp = Path(tempfile.mkdtemp(prefix="pdt-real-ext", dir="/tmp"))
    conf, ports = write_config(tmp, **VARIANTS[variant])
    try:
        with real_dovecot.running(conf, ready=(tmp / "run" / "master.pid").exists):
            time.sleep(0.5)
            return asyncio.run(exchanges(tmp, ports)), (tmp / "dovecot.log").read_text()
    finally:
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
