"""`quota_vsizes`: which size each quota backend counts, compared with real Dovecot 2.3.19.

Mail with LF line endings has a physical size (the file) smaller than its virtual size (CRLF,
what IMAP clients see). Real Dovecot counts virtual sizes with ``quota_vsizes = yes`` when it
recalculates a dict quota and when it adds a saved message to any backend; Maildir++
recalculation always sums the files; and the ``count`` backend refuses to start without
``quota_vsizes = yes``. For each variant the same steps run through our doveadm and LDA and
(when recording or live) through real's: recalc, get, deliver one message, the usage file, get.
``goldens/quota_vsizes.json`` holds real's results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import ROOT, require_real_dovecot
from tests.plugins.real_imap import mail_uid
from tests.support.conf import passwd_file_tree

GOLDEN = Path(__file__).parent / "goldens" / "quota_vsizes.json"
STORED = b"Subject: x\n\n" + b"y" * 3000 + b"\n"
DELIVERED = b"Subject: y\n\nhello\nworld\n"
VARIANTS = {
    "maildir yes": ("maildir:User quota", "yes"),
    "maildir no": ("maildir:User quota", "no"),
    "dict yes": ("dict:User quota::file:{home}/quota.dict", "yes"),
    "dict no": ("dict:User quota::file:{home}/quota.dict", "no"),
    "count yes": ("count:User quota", "yes"),
    "count no": ("count:User quota", "no"),
    "count unset": ("count:User quota", None),
}
OUR_DOVEADM = [sys.executable, "-m", "doveadm"]
OUR_LDA = [sys.executable, str(ROOT / "bin" / "dovecot-lda")]
REAL_DOVEADM = ["/usr/bin/doveadm"]
REAL_LDA = ["/usr/lib/dovecot/dovecot-lda"]


def write_setup(root: Path, variant: str) -> tuple[Path, Path]:
    uid = mail_uid()
    home = root / "home" / "u1"
    home.mkdir(parents=True)
    if os.getuid() == 0:
        os.chown(home, uid, uid)
    (root / "passwd").write_text(f"u1:{{PLAIN}}x:{uid}:{uid}::{home}::\n")
    quota, vsizes = VARIANTS[variant]
    vsizes_line = f"  quota_vsizes = {vsizes}\n" if vsizes is not None else ""
    conf = root / "dovecot.conf"
    conf.write_text(passwd_file_tree(root, mail_plugins="quota", plugin=(
        f"  quota = {quota.format(home=home)}\n  quota_rule = *:storage=100k:messages=40\n{vsizes_line}")))
    # The stored mail goes in below the quota plugin, as if another MDA had written it.
    user = create_mail_user(load(str(conf)).lookup(service="doveadm"), "u1",
                            {"home": str(home), "uid": str(uid), "gid": str(uid), "mail_plugins": ""},
                            service="doveadm")

    def fill() -> None:
        inbox = user.open_mailbox("INBOX")
        for _ in range(3):
            inbox.append(STORED)

    call_as(uid, uid, fill)
    return conf, home


def _run(command: list[str], conf: Path, args: list[str], stdin: bytes = b"") -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "USER"}
    proc = subprocess.run([*command, "-c", str(conf), *args], input=stdin, capture_output=True, env=env,
                          timeout=60, cwd=ROOT, check=False)
    return {"stdout": proc.stdout.decode(), "stderr": proc.stderr.decode(), "rc": proc.returncode}


def _usage_file(home: Path) -> str:
    maildirsize, dict_file = home / "Maildir" / "maildirsize", home / "quota.dict"
    if maildirsize.exists():
        return maildirsize.read_text()
    if dict_file.exists():
        # A file dict is key and value lines in hash-table order: compare it as a mapping.
        lines = dict_file.read_text().splitlines()
        return "".join(f"{k}={v}\n" for k, v in sorted(zip(lines[::2], lines[1::2], strict=False)))
    return ""


def steps(doveadm: list[str], lda: list[str], conf: Path, home: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    out["recalc"] = _run(doveadm, conf, ["quota", "recalc", "-u", "u1"])
    out["get"] = _run(doveadm, conf, ["quota", "get", "-u", "u1"])
    delivered = _run(lda, conf, ["-d", "u1"], DELIVERED)
    out["lda rc"] = delivered["rc"]
    out["usage file"] = _usage_file(home)
    out["get after delivery"] = _run(doveadm, conf, ["quota", "get", "-u", "u1"])
    return out


def ours(root: Path, variant: str) -> dict[str, object]:
    conf, home = write_setup(root, variant)
    return steps(OUR_DOVEADM, OUR_LDA, conf, home)


def real(root: Path, variant: str) -> dict[str, object]:
    conf, home = write_setup(root, variant)
    subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True, timeout=30)
    try:
        return steps(REAL_DOVEADM, REAL_LDA, conf, home)
    finally:
        subprocess.run([*REAL_DOVEADM, "-c", str(conf), "stop"], check=False, timeout=30, capture_output=True)


def _fresh(base: Path, name: str) -> Path:
    root = base / name.replace(" ", "-")
    root.mkdir()
    root.chmod(0o755)
    return root


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_matches_real_golden(open_tmp_path: Path, variant: str) -> None:
    golden = json.loads(GOLDEN.read_text())[variant]
    got = ours(_fresh(open_tmp_path, variant), variant)
    assert got == golden


@pytest.mark.parametrize("variant", ["maildir yes", "dict no", "count unset"])
def test_live_against_real(open_tmp_path: Path, variant: str) -> None:
    require_real_dovecot()
    assert real(_fresh(open_tmp_path, "real"), variant) == json.loads(GOLDEN.read_text())[variant]


def record() -> None:  # pragma: no cover - run by hand: python -m tests.plugins.test_quota_vsizes
    import shutil
    import tempfile

    results = {}
    for variant in VARIANTS:
        root = Path(tempfile.mkdtemp(prefix="pydovecot-vsizes-"))
        root.chmod(0o755)
        try:
            results[variant] = real(root, variant)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    GOLDEN.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    record()
