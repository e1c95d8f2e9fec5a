"""Record real Dovecot 2.3.19's auth penalty delays (run by hand, as root; takes ~40 s):

    /work/main/.venv/bin/python tests/auth/penalty/penalty_record_goldens.py

Logins to the master-user test config (auth_failure_delay = 0) from two remote IPs and none;
writes goldens/real_delays.json: [{password, rip, line, seconds}] with each answer's latency.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "master"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import auth_client, real_dovecot_running  # noqa: E402
from master_support import plain3, write_setup  # noqa: E402

SEQUENCE = [("w1", "10.0.0.9"), ("w2", "10.0.0.9"), ("w3", "10.0.0.9"), ("w3", "10.0.0.9"),
            ("w4", "10.0.0.8"), ("w5", "10.0.0.9"), ("jane-pw", "10.0.0.9"), ("w6", "10.0.0.9"),
            ("w7", "10.0.0.9"), ("w8", "")]


async def run(base_dir: Path) -> list[dict[str, object]]:
    client, _ = await auth_client(base_dir / "auth-client")
    out: list[dict[str, object]] = []
    for rid, (password, rip) in enumerate(SEQUENCE, 1):
        start = time.monotonic()
        extra = f"\trip={rip}" if rip else ""
        await client.send(f"AUTH\t{rid}\tPLAIN\tservice=imap{extra}\tresp={plain3('', 'jane', password)}\n")
        line = await asyncio.wait_for(client.line(), 40)
        out.append({"password": password, "rip": rip, "line": line,
                    "seconds": round(time.monotonic() - start, 1)})
    await client.close()
    return out


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="pdp-real", dir="/tmp"))
    try:
        setup = write_setup(directory)
        for name in ("masters", "strict-masters"):
            (directory / name).chmod(0o644)
        with real_dovecot_running(setup):  # type: ignore[arg-type]
            answers = asyncio.run(run(setup.base_dir))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    (Path(__file__).parent / "goldens").mkdir(exist_ok=True)
    (Path(__file__).parent / "goldens" / "real_delays.json").write_text(json.dumps(answers, indent=1) + "\n")


if __name__ == "__main__":
    main()
