"""Record goldens/auth_username_format.json from the real Dovecot 2.3.

Run from the repository root:  .venv/bin/python tests/varexpand/record_goldens.py
It starts a private dovecot under /tmp (no network listeners), expands every template in
cases.TEMPLATES for every username in cases.USERNAMES, stops it and writes the golden file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import ERROR_TEMPLATES, TEMPLATES, USERNAMES  # noqa: E402
from oracle import (  # noqa: E402
    AUTH_INFO,
    DOVECOT,
    ORACLE_ENV,
    process_info,
    run_error_oracle,
    run_oracle,
    service_name,
)

GOLDEN = HERE / "goldens" / "auth_username_format.json"
ERRORS_GOLDEN = HERE / "goldens" / "errors.json"
ERROR_USER = "bob@example.com"


def main() -> int:
    results, unquotable = run_oracle(TEMPLATES, USERNAMES)
    if unquotable:
        print("templates that do not survive dovecot.conf quoting:", unquotable, file=sys.stderr)
        return 1
    cases = [
        {"template": template, "user": user, "service": service_name(index), "expected": results[(index, user)]}
        for index, template in enumerate(TEMPLATES)
        for user in USERNAMES
    ]
    version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({
        "recorded_with": f"dovecot {version}",
        "how": "auth_username_format per protocol; doveadm user -x service=<service> -f user <user>",
        "process": process_info(),
        "environ": ORACLE_ENV,
        "auth_info": AUTH_INFO,
        "cases": cases,
    }, indent=1) + "\n", encoding="ascii")
    errors = run_error_oracle(ERROR_TEMPLATES, ERROR_USER)
    ERRORS_GOLDEN.write_text(json.dumps({
        "recorded_with": f"dovecot {version}",
        "how": "userdb static args x=<template> per protocol; 'Failed to expand template: <error>' from the auth log",
        "process": process_info(),
        "environ": ORACLE_ENV,
        "auth_info": {},
        "cases": [
            {"template": t, "user": ERROR_USER, "service": service_name(i), "expected_error": e}
            for i, (t, e) in enumerate(zip(ERROR_TEMPLATES, errors, strict=True))
        ],
    }, indent=1) + "\n", encoding="ascii")
    failed = sum(1 for c in cases if c["expected"] is None)
    print(f"wrote {len(cases)} cases ({failed} failed lookups) to {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
