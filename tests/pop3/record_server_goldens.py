"""Record server_env.SCENARIOS from a private real Dovecot 2.3.19 into goldens/server_sessions.json.

Run by hand as root (``python tests/pop3/record_server_goldens.py [PORT]``): it writes a temp
set-up, starts real dovecot on 127.0.0.1:PORT with its own base_dir, plays each scenario on a
fresh Maildir, keeps the transcript, the Maildir left behind and the login/logout log lines,
then stops dovecot.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_env import (  # noqa: E402
    INSECURE_SOURCE,
    SCENARIOS,
    SERVER_GOLDENS,
    TLS_SCENARIOS,
    fill_maildir,
    interesting_log,
    maildir_state,
    run_session,
    split_sessions,
    wait_for,
    write_env,
)

from tests.support import real_dovecot  # noqa: E402


def log_lines(root: Path) -> list[str]:
    path = root / "dovecot.log"
    return path.read_text().splitlines() if path.exists() else []


def record(port: int, scenarios: dict[str, dict[str, object]], *, tls: bool = False) -> dict[str, object]:
    out: dict[str, object] = {}
    source = INSECURE_SOURCE if tls else None
    with tempfile.TemporaryDirectory(prefix="pop3gold-") as tmp:
        root = Path(tmp)
        conf = write_env(root, port, tls=tls, disable_plaintext=tls)
        with real_dovecot.running(conf):
            time.sleep(1)
            for name, scenario in scenarios.items():
                user = str(scenario["user"]) or "tester"
                fill_maildir(root / "mail" / user)
                before = len(log_lines(root))
                sessions = []
                lines = scenario["lines"]
                assert isinstance(lines, list)
                for part in split_sessions(lines):
                    sessions.append(run_session(port, part, source_ip=source))
                    expected = sum(1 for line in part if line in ("QUIT", "<close>")) or 1
                    wait_for(lambda b=before, e=expected: sum(
                        "Disconnected" in line for line in log_lines(root)[b:]) >= e)
                time.sleep(0.3)
                out[name] = {
                    "user": user,
                    "sessions": sessions,
                    "maildir": maildir_state(root / "mail" / user),
                    "log": interesting_log(log_lines(root)[before:]),
                }
    return out


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 21410
    goldens = record(port, SCENARIOS)
    goldens.update(record(port, TLS_SCENARIOS, tls=True))
    SERVER_GOLDENS.write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {SERVER_GOLDENS}")
