"""Record real doveadm's answers to the mail command cases of mail_cases.py.

Run as root where Dovecot 2.3.19 is installed:  python tests/doveadm/record_mail_goldens.py
Starts a private real dovecot (its own base_dir, no protocols: only the auth service that
doveadm's user lookups need), runs every case on a fresh Maildir, stops dovecot, and writes
goldens_mail/mail_cases.json (normalised, see mail_cases.normalise).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mail_cases import CASES, comparable, prepare, run_real  # noqa: E402

from tests.support.real_dovecot import running as running_real_dovecot  # noqa: E402

GOLDEN = Path(__file__).parent / "goldens_mail" / "mail_cases.json"


def real_dovecot(root: Path) -> contextlib.AbstractContextManager[Path]:
    """A running real dovecot for ``root``'s configuration, stopped afterwards."""
    return running_real_dovecot(prepare(root), timeout=30)


def fresh(root: Path) -> None:
    shutil.rmtree(root / "home", ignore_errors=True)
    prepare(root)


def record_case(root: Path, conf: Path, name: str) -> list[dict]:
    fresh(root)
    return [{"args": list(step.args), "stdin": step.stdin, **comparable(run_real(conf, step), root)}
            for step in CASES[name]]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="pydovecot-mail-golden-"))
    root.chmod(0o755)
    try:
        with real_dovecot(root) as conf:
            records = {name: record_case(root, conf, name) for name in CASES}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {sum(map(len, records.values()))} steps into {GOLDEN}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
