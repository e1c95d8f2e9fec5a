"""`doveadm quota get|recalc`: output, errors and exit codes compared with real doveadm 2.3.19.

The users' mail is written once through our storage (as the mail uid); then every command
line runs through our doveadm and, live, through real doveadm (which needs the auth service:
a real ``dovecot`` on a temporary config with no listeners, stopped afterwards).
``goldens/doveadm_quota.json`` holds real's (stdout, stderr, exit code) per command line.
"""

from __future__ import annotations

import encodings.ascii  # noqa: F401 - maildirsize is written as ascii under the mail uid (see quota.py)
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import ROOT, require_real_dovecot
from tests.plugins.real_imap import mail_uid
from tests.support.conf import passwd_file_tree

GOLDEN = Path(__file__).parent / "goldens" / "doveadm_quota.json"
MESSAGE = b"Subject: x\n\n" + b"y" * 3000 + b"\n"
CASES = {
    "get -u u1": ["quota", "get", "-u", "u1"],
    "get -A": ["quota", "get", "-A"],
    "get -u u*": ["quota", "get", "-u", "u*"],
    "tab get -u u2": ["-f", "tab", "quota", "get", "-u", "u2"],
    "flow get -u u1": ["-f", "flow", "quota", "get", "-u", "u1"],
    "json get -u u1": ["-f", "json", "quota", "get", "-u", "u1"],
    "get -u u3 (no quota plugin)": ["quota", "get", "-u", "u3"],
    "get -u nosuch": ["quota", "get", "-u", "nosuch"],
    "get extra": ["quota", "get", "-u", "u1", "extra"],
    "get -x": ["quota", "get", "-x"],
    "recalc -u u1": ["quota", "recalc", "-u", "u1"],
    "recalc -A": ["quota", "recalc", "-A"],
    "get -u u1 after recalc": ["quota", "get", "-u", "u1"],
    "quota": ["quota"],
    "no mail_plugins": ["-o", "mail_plugins=", "quota", "get", "-u", "u1"],
}
COUNTS = {"u1": 3, "u2": 1, "u3": 0}


def write_setup(root: Path) -> Path:
    uid = mail_uid()
    lines = []
    for name in COUNTS:
        home = root / "home" / name
        home.mkdir(parents=True)
        if os.getuid() == 0:
            os.chown(home, uid, uid)
        extra = {"u1": "", "u2": "userdb_quota_rule=*:storage=1M", "u3": "userdb_mail_plugins=zlib"}[name]
        lines.append(f"{name}:{{PLAIN}}x:{uid}:{uid}::{home}::{extra}\n")
    (root / "passwd").write_text("".join(lines))
    conf = root / "dovecot.conf"
    conf.write_text(passwd_file_tree(root, mail_plugins="quota", plugin=(
        "  quota = maildir:User quota\n  quota_rule = *:storage=10k:messages=4\n  quota_rule2 = Trash:ignore\n")))
    node = load(str(conf)).lookup(service="doveadm")
    for name, count in COUNTS.items():
        home = str(root / "home" / name)
        user = create_mail_user(node, name, {"home": home, "uid": str(uid), "gid": str(uid)}, service="doveadm")

        def fill(user=user, count=count) -> None:  # noqa: ANN001 - default-bound loop values
            inbox = user.open_mailbox("INBOX")
            for _ in range(count):
                inbox.append(MESSAGE)

        call_as(uid, uid, fill)
    return conf


def run(command: list[str], conf: Path, args: list[str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "USER"}
    proc = subprocess.run([*command, "-c", str(conf), *args], capture_output=True, env=env, timeout=60,
                          cwd=ROOT, check=False)
    return {"stdout": proc.stdout.decode(), "stderr": proc.stderr.decode(), "rc": proc.returncode}


def ours(conf: Path) -> dict[str, dict[str, object]]:
    return {name: run([sys.executable, "-m", "doveadm"], conf, args) for name, args in CASES.items()}


@pytest.fixture
def setup(open_tmp_path: Path) -> Iterator[Path]:
    yield write_setup(open_tmp_path)


def test_matches_real_golden(setup: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    got = ours(setup)
    for name in CASES:
        assert got[name] == golden[name], name


def real(conf: Path) -> dict[str, dict[str, object]]:
    subprocess.run(["/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else "dovecot", "-c", str(conf)],
                   check=True, timeout=30)
    try:
        return {name: run(["doveadm"], conf, args) for name, args in CASES.items()}
    finally:
        subprocess.run(["doveadm", "-c", str(conf), "stop"], check=False, timeout=30, capture_output=True)


def test_live_against_real_doveadm(open_tmp_path: Path) -> None:
    require_real_dovecot()
    real_root = open_tmp_path / "real"
    real_root.mkdir()
    real_root.chmod(0o755)
    ours_root = open_tmp_path / "ours"
    ours_root.mkdir()
    ours_root.chmod(0o755)
    got_real = real(write_setup(real_root))
    assert got_real == json.loads(GOLDEN.read_text())
    got_ours = ours(write_setup(ours_root))
    for name in CASES:
        assert got_ours[name] == got_real[name], name


def record() -> None:  # pragma: no cover - run by hand: python -m tests.plugins.test_doveadm_quota
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="pydovecot-quota-"))
    root.chmod(0o755)
    try:
        GOLDEN.write_text(json.dumps(real(write_setup(root)), indent=1) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    record()
