"""Record real doveadm 2.3.19's fts/index outputs: python -m tests.doveadm.record_fts_goldens

Starts a private real dovecot (own base_dir, no listeners) for the userdb, saves the fixture's
mail with real `doveadm save`, runs every case and writes goldens_fts/real.json."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from tests.doveadm.fts_cases import CASES, MAILS, build

GOLDEN = Path(__file__).parent / "goldens_fts" / "real.json"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        conf = build(root, 65534)
        subprocess.run(["chown", "-R", "65534:65534", str(root / "home")], check=True)
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
        try:
            for user, mailbox, text in MAILS:
                if mailbox != "INBOX":
                    subprocess.run(["doveadm", "-c", str(conf), "mailbox", "create", "-u", user, mailbox],
                                   check=False, capture_output=True)
                subprocess.run(["doveadm", "-c", str(conf), "save", "-u", user, "-m", mailbox],
                               input=text.encode(), check=True, timeout=30)
            out = {}
            for name, args in CASES:
                proc = subprocess.run(["doveadm", "-c", str(conf), *args], capture_output=True, timeout=60,
                                      check=False)
                out[name] = {"stdout": proc.stdout.decode(), "stderr": proc.stderr.decode().replace(tmp, "ROOT"),
                             "code": proc.returncode}
        finally:
            subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
    GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
