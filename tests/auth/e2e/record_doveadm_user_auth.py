"""Record real doveadm 2.3.19's `user` / `auth test` / `auth lookup` answers (by hand, as root):

    /work/main/.venv/bin/python tests/auth/e2e/record_doveadm_user_auth.py

Real doveadm asks the auth process, so real dovecot runs (no protocols) on a private base_dir
with the e2e passwd-file config while the cases run; it is stopped afterwards. Writes
tests/doveadm/goldens_user_auth/cases.json: args, exit code, stdout and stderr, with the temp
directory replaced by @DIR@.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from e2e_support import PASSWORD, real_dovecot_running, write_setup  # noqa: E402

OUT = Path(__file__).parents[2] / "doveadm" / "goldens_user_auth" / "cases.json"

CASES: list[list[str]] = [
    ["user", "alice"], ["user", "ghost"], ["user", "ALICE"], ["user", "alice", "bob"], ["user", "alice", "ghost"],
    ["user", "ghost", "alice"], ["user", "-u", "alice"], ["user", "-u", "bob"], ["user", "-u", "ghost"],
    ["user", "-u", "-f", "home", "alice"], ["user", "-u", "-f", "home", "ghost"], ["user", "-u", "alice", "bob"],
    ["user", "-f", "home", "alice"], ["user", "-f", "uid", "bob"], ["user", "-f", "mail", "bob"],
    ["user", "-f", "nosuch", "alice"], ["user", "-f", "home", "ghost"], ["user", "-f", "home", "alice", "bob"],
    ["user", "-e", "%u:%h", "alice"], ["user", "-e", "%n/%d/%s", "bob"], ["user", "-e", "%u", "ghost"],
    ["user", "-e", "x", "-u", "alice"], ["user", "-e", "x", "-f", "home", "alice"],
    ["user", "a*"], ["user", "*"], ["user", "?ob"], ["user", "z*"], ["user", "b*", "a*"],
    ["user", "-x", "service=imap", "alice"], ["user"], ["user", "-a", "alice"],
    ["auth", "test", "alice", PASSWORD], ["auth", "test", "alice", "wrong"], ["auth", "test", "ghost", "x"],
    ["auth", "test", "ALICE", PASSWORD], ["auth", "test", "-x", "rip=1.2.3.4", "alice", PASSWORD],
    ["auth", "test", "-x", "service=imap", "bob", "other-pass"], ["auth", "test"],
    ["auth", "lookup", "alice"], ["auth", "lookup", "ghost"], ["auth", "lookup", "ALICE"],
    ["auth", "lookup", "-f", "user", "alice"], ["auth", "lookup", "-f", "home", "alice"],
    ["auth", "lookup", "alice", "ghost", "bob"], ["auth", "lookup"],
    ["auth", "login", "alice", PASSWORD], ["auth", "login", "bob", "other-pass"], ["auth", "login", "alice", "bad"],
    ["auth", "login", "ghost", "bad"], ["auth", "login", "ALICE", PASSWORD], ["auth", "login"],
    ["auth", "cache", "flush"], ["auth", "cache", "flush", "alice"],
]


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="pdu-real", dir="/tmp"))
    results = []
    try:
        setup = write_setup(directory)
        with real_dovecot_running(setup) as conf:
            for args in CASES:
                proc = subprocess.run(["/usr/bin/doveadm", "-c", str(conf), *args], capture_output=True, text=True,
                                      timeout=60)
                results.append({"args": args, "rc": proc.returncode,
                                "stdout": proc.stdout.replace(str(directory), "@DIR@"),
                                "stderr": proc.stderr.replace(str(directory), "@DIR@")})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
