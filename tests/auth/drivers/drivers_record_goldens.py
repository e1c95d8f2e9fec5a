"""Record what real Dovecot 2.3.19 answers for drivers_scenarios.SCENARIOS (run by hand, as root).

    /work/main/.venv/bin/python tests/auth/drivers/drivers_record_goldens.py

For each scenario it starts the real dovecot with a private base_dir under /tmp (no protocols,
so no listeners), runs ``doveadm auth test`` and ``doveadm user``, keeps the answers and the
auth process's Info and Error log lines, stops it, and writes goldens/<scenario>.json.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from drivers_scenarios import SCENARIOS, Scenario  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"
BASE = """base_dir = {run}
state_dir = {run}/state
log_path = {run}/dovecot.log
protocols =
ssl = no
mail_location =
auth_verbose = yes
auth_failure_delay = 0
"""


def _log_lines(log: Path, start: int, tmp: str) -> tuple[list[str], int]:
    """The auth process's Info and Error lines since ``start``, in order, as "level: text"."""
    data = log.read_bytes()
    out = []
    for line in data[start:].decode().splitlines():
        for marker, level in (("auth: Info: ", "info"), ("auth: Error: ", "error")):
            if marker in line:
                out.append(f"{level}: " + line.split(marker, 1)[1].replace(tmp, "@DIR@"))
    return out, len(data)


def _parse_auth_test(out: str) -> dict[str, object]:
    lines = out.splitlines()
    result = {"succeeded": "auth succeeded" in lines[0], "fields": []}
    if "extra fields:" in lines:
        result["fields"] = [ln.strip() for ln in lines[lines.index("extra fields:") + 1:] if ln.strip()]
    return result


def _parse_user(out: str, rc: int) -> dict[str, object]:
    fields = {}
    for line in out.splitlines()[1:]:
        key, _, value = line.partition("\t")
        fields[key] = value
    return {"rc": rc, "fields": fields}


def record(scenario: Scenario) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pydovecot-goldens-") as tmp:
        os.chmod(tmp, 0o755)  # the auth process runs as the unprivileged dovecot user
        run = Path(tmp) / "run"
        (run / "state").mkdir(parents=True)
        for name, text in scenario.files.items():
            (Path(tmp) / name).write_text(text)
        conf = Path(tmp) / "dovecot.conf"
        conf.write_text(BASE.format(run=run) + scenario.conf.replace("@DIR@", tmp))
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
        log = run / "dovecot.log"
        try:
            time.sleep(1)
            _, pos = _log_lines(log, 0, tmp)
            auth = []
            for login, password in scenario.auth_cases:
                proc = subprocess.run(["doveadm", "-c", str(conf), "auth", "test", "-x", "rip=1.2.3.4",
                                       login, password], capture_output=True, text=True)
                time.sleep(0.3)
                lines, pos = _log_lines(log, pos, tmp)
                auth.append({"login": login, "password": password, **_parse_auth_test(proc.stdout), "log": lines})
            users = []
            for user in scenario.user_cases:
                proc = subprocess.run(["doveadm", "-c", str(conf), "user", user], capture_output=True, text=True)
                time.sleep(0.3)
                lines, pos = _log_lines(log, pos, tmp)
                users.append({"user": user, **_parse_user(proc.stdout, proc.returncode), "log": lines})
        finally:
            pid = int((run / "master.pid").read_text())
            os.kill(pid, signal.SIGTERM)
            time.sleep(1)
    return {"scenario": scenario.name, "auth": auth, "user": users}


def main() -> None:
    GOLDENS.mkdir(exist_ok=True)
    for scenario in SCENARIOS:
        data = record(scenario)
        (GOLDENS / f"{scenario.name}.json").write_text(json.dumps(data, indent=1) + "\n")
        print("recorded", scenario.name)


if __name__ == "__main__":
    main()
