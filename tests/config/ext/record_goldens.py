#!/usr/bin/env python3
"""Records what the real Dovecot auth process says about each dovecot-sql.conf.ext case
in sql_cases/ (its fatal log line, or none), into goldens.json.

Starts a throwaway Dovecot (private base_dir under /tmp, no listeners) per case and asks
for an auth lookup so the sql passdb reads the file.  Needs root and real Dovecot."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "sql_cases"
CONF = """base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log
protocols =
ssl = no
default_internal_user = root
default_login_user = root
default_internal_group = root
passdb {{
  driver = sql
  args = {case}
}}
userdb {{
  driver = static
  args = uid=1000 gid=1000 home=/tmp
}}
service anvil {{
  chroot =
}}
"""


def record_case(case: Path) -> str | None:
    with tempfile.TemporaryDirectory(prefix="pydovecot-sqlext-") as tmp:
        base = Path(tmp)
        (base / "state").mkdir()
        copy = base / case.name
        shutil.copy(case, copy)
        conf = base / "dovecot.conf"
        conf.write_text(CONF.format(base=base, case=copy))
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
        try:
            subprocess.run(["/usr/bin/doveadm", "-c", str(conf), "auth", "test", "nobody", "x"],
                           capture_output=True, timeout=20, check=False)
            time.sleep(0.5)
            for line in (base / "log").read_text().splitlines():
                if " auth: Fatal: " in line:
                    return line.split(" auth: Fatal: ", 1)[1].replace(str(copy), "{path}")
            return None
        finally:
            subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
            time.sleep(0.5)


def main() -> None:
    goldens = {case.name: record_case(case) for case in sorted(CASES.glob("*.conf"))}
    (HERE / "goldens.json").write_text(json.dumps(goldens, indent=2, sort_keys=True) + "\n")
    print(json.dumps(goldens, indent=2))


if __name__ == "__main__":
    main()
