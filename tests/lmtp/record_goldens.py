"""Record LMTP sessions from the real Dovecot 2.3.19 into goldens/sessions.json.

Run by hand as root (``python -m tests.lmtp.record_goldens``): each scenario gets a fresh
private Dovecot (own base_dir, port 24031, stopped afterwards) and a fresh mail directory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.lmtp.harness import (
    converse,
    final_lines,
    folder_messages,
    maildir_messages,
    normalize_reply,
    write_config,
)
from tests.lmtp.scenarios import SCENARIO_CONFIG, SCENARIOS
from tests.support import real_dovecot

HERE = Path(__file__).resolve().parent
PORT = 24031


def normalize_log(line: str) -> str:
    line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", line)
    line = re.sub(r"lmtp\(\d+\)", "lmtp(PID)", line)
    return re.sub(r"<\d+><[A-Za-z0-9+/]{12,24}((?::[TR]\d+)*)>", r"<PID><SID\1>", line)


def record(name: str, steps: list[bytes]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lmtp-rec-") as tmp:
        root = Path(tmp)
        conf = write_config(root, PORT, extra=SCENARIO_CONFIG.get(name, ""))
        with real_dovecot.running(conf):
            time.sleep(0.5)
            replies = converse(PORT, steps)
            time.sleep(0.3)
        logs = [normalize_log(x) for x in (root / "dovecot.log").read_text().splitlines() if " lmtp(" in x]
        mail = maildir_messages(root)
        folders = folder_messages(root)
    return {
        "folders": {f: [m.decode("latin-1") for m in msgs] for f, msgs in folders.items()},
        "steps": [s.decode("latin-1") for s in steps],
        "expected": [final_lines(r) for r in replies],
        "replies": [normalize_reply(r).decode("latin-1") for r in replies],
        "log": logs,
        "mail": {u: [m.decode("latin-1") for m in msgs] for u, msgs in mail.items()},
    }




LDA_BINARY = "/usr/lib/dovecot/dovecot-lda"


def run_lda(binary: list[str], root: Path, args: list[str], stdin: bytes) -> dict[str, object]:
    conf = root / "dovecot.conf"
    proc = subprocess.run([*binary, "-c", str(conf), *args], input=stdin, capture_output=True, timeout=60)
    log_file = root / "dovecot.log"
    logs = [normalize_log(x) for x in log_file.read_text().splitlines()] if log_file.exists() else []
    folders = sorted(p.name for p in (root / "mail").glob("*/Maildir/.*") if p.is_dir())
    return {"rc": proc.returncode, "log": logs, "folders": folders,
            "mail": {u: [m.decode("latin-1") for m in msgs] for u, msgs in maildir_messages(root).items()},
            "work": {u: [m.decode("latin-1") for m in msgs]
                     for u, msgs in maildir_messages(root, sub=".Work").items()}}


def record_lda() -> dict[str, object]:
    from tests.lmtp.lda_cases import LDA_CASES

    out: dict[str, object] = {}
    for name, (args, stdin) in LDA_CASES.items():
        with tempfile.TemporaryDirectory(prefix="lda-rec-") as tmp:
            root = Path(tmp)
            conf = write_config(root, PORT)
            # The real LDA asks the running auth process (auth-userdb socket) for the user.
            with real_dovecot.running(conf):
                time.sleep(0.3)
                result = run_lda([LDA_BINARY], root, args, stdin)
            result["log"] = [x for x in result["log"] if "lda(" in x]  # type: ignore[union-attr]
            out[name] = {"args": args, "stdin": stdin.decode("latin-1"), **result}
    return out


def main() -> None:
    (HERE / "goldens").mkdir(exist_ok=True)
    if "--lda-only" not in sys.argv:
        out = {name: record(name, steps) for name, steps in SCENARIOS.items()}
        (HERE / "goldens" / "sessions.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    lda = record_lda()
    (HERE / "goldens" / "lda.json").write_text(json.dumps(lda, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
