"""dovecot-lda over quota, as real 2.3.19 answers: exit code, stderr and log lines.

With ``-e`` the refusal is permanent (77, logged as ``rejected``); with ``quota_full_tempfail``
the MTA is told to retry (75). ``goldens/lda_quota.json`` is real's, recorded by
``python -m tests.lmtp.test_lda_quota``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, require_real_dovecot
from tests.plugins.real_imap import mail_uid
from tests.support.conf import passwd_file_tree

GOLDEN = Path(__file__).parent / "goldens" / "lda_quota.json"
MESSAGE = b"Subject: y\n\nhello\n"
CASES = {
    "-e": ["-e"],
    "-e quota_full_tempfail": ["-e", "-o", "quota_full_tempfail=yes"],
}
OURS = [sys.executable, str(ROOT / "bin" / "dovecot-lda")]
REAL = ["/usr/lib/dovecot/dovecot-lda"]


def write_setup(root: Path) -> Path:
    uid = mail_uid()
    new = root / "home" / "u1" / "Maildir" / "new"
    new.mkdir(parents=True)
    (new / "1700000000.M1P1.h,S=3000").write_bytes(b"Subject: x\n\n" + b"y" * 2988)
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(root / "home")], check=True)
    (root / "passwd").write_text(f"u1:{{PLAIN}}x:{uid}:{uid}::{root}/home/u1::\n")
    conf = root / "dovecot.conf"
    conf.write_text(passwd_file_tree(root, mail_plugins="quota",
                                     plugin="  quota = maildir:User quota\n  quota_rule = *:storage=1k\n"))
    return conf


def _run(command: list[str], conf: Path, args: list[str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "USER"}
    env["PYTHONPATH"] = str(ROOT)
    log = conf.parent / "log"
    before = log.read_text() if log.exists() else ""
    proc = subprocess.run([*command, "-c", str(conf), "-d", "u1", *args], input=MESSAGE, capture_output=True,
                          env=env, timeout=60, check=False)
    lines = log.read_text()[len(before):].splitlines() if log.exists() else []
    # "Nov 25 22:52:26 lda(u1)<pid><session>: Info: ..." -> "lda(u1): Info: ..."
    lda = [re.sub(r"^.*?(lda\(u1\))<\d+><[^>]*>", r"\1", line) for line in lines if "lda(u1)" in line]
    return {"rc": proc.returncode, "stderr": proc.stderr.decode(), "log": lda}


def results(command: list[str], root: Path) -> dict[str, dict[str, object]]:
    out = {}
    for name, args in CASES.items():
        case_root = root / name.replace(" ", "_").replace("-", "")
        case_root.mkdir()
        case_root.chmod(0o755)
        conf = write_setup(case_root)
        if command is not REAL:
            out[name] = _run(command, conf, args)
            continue
        # real dovecot-lda asks a running auth service for the user
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True, timeout=30)
        try:
            out[name] = _run(command, conf, args)
        finally:
            subprocess.run(["/usr/bin/doveadm", "-c", str(conf), "stop"], check=False, timeout=30,
                           capture_output=True)
    return out


def test_matches_real_golden(open_tmp_path: Path) -> None:
    assert results(OURS, open_tmp_path) == json.loads(GOLDEN.read_text())


def test_live_against_real(open_tmp_path: Path) -> None:
    require_real_dovecot()
    assert results(REAL, open_tmp_path) == json.loads(GOLDEN.read_text())


def record() -> None:  # pragma: no cover - run by hand
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="pydovecot-lda-quota-"))
    root.chmod(0o755)
    try:
        GOLDEN.write_text(json.dumps(results(REAL, root), indent=1) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    record()
