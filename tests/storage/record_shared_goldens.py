"""Record real Dovecot's answers to the shared-namespace scenario of shared_cases.py.

Run as root where Dovecot 2.3.19 is installed:  python tests/storage/record_shared_goldens.py
Starts a private real dovecot (its own base_dir, IMAP on a free high loopback port) on a fresh
tree, runs every step, stops it, and writes goldens/shared_namespace.json. Also records what
``doveadm acl set/delete`` with ``anyone`` leaves in the shared dict.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.storage.shared_cases import EXPLICIT_INBOX, prepare, read_dict, run  # noqa: E402
from tests.support.net import free_port, port_open  # noqa: E402
from tests.support.real_dovecot import running  # noqa: E402

GOLDEN = Path(__file__).parent / "goldens" / "shared_namespace.json"
DOVEADM = "/usr/bin/doveadm"


def doveadm(conf: Path, *args: str) -> None:
    subprocess.run([DOVEADM, "-c", str(conf), *args], check=True, capture_output=True, timeout=30)


def record_explicit_inbox() -> list[dict[str, object]]:
    root = Path(tempfile.mkdtemp(prefix="pydovecot-shared-golden-"))
    root.chmod(0o755)
    try:
        port = free_port()
        conf = prepare(root, port, "mail_shared_explicit_inbox = yes\n")
        with running(conf, ready=lambda: port_open(port), timeout=30):
            return run(root, port, EXPLICIT_INBOX)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def record() -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="pydovecot-shared-golden-"))
    root.chmod(0o755)
    try:
        port = free_port()
        conf = prepare(root, port)
        with running(conf, ready=lambda: port_open(port), timeout=30):
            steps = run(root, port)
            doveadm(conf, "acl", "set", "-u", "carol@y", "INBOX/work/q", "anyone", "lookup", "read")
            anyone_set = read_dict(root)
            doveadm(conf, "acl", "delete", "-u", "carol@y", "INBOX/work/q", "anyone")
            anyone_deleted = read_dict(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"steps": steps, "anyone_set": anyone_set, "anyone_deleted": anyone_deleted,
            "explicit_inbox": record_explicit_inbox()}


def main() -> int:
    data = record()
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {len(data['steps'])} steps into {GOLDEN}", file=sys.stderr)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
