"""quota_warning: a save crossing a threshold runs the quota-warning service's script once, with
the configured arguments; ``-storage=`` warns on the way back down. Ours through the mail user,
real Dovecot through PREAUTH imap talking to a running real dovecot's quota-warning service."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from pydovecot.config import load
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import require_real_dovecot
from tests.plugins.real_imap import config, mail_uid, make_home, run_imap

# 10k limit: 4k (40%), +5k (90%: crosses 80%), +0.5k (95%: no new warning), expunge the 5k (45%: back under).
SIZES = [4000, 5000, 500]


def setup(root: Path) -> tuple[Path, Path, Path]:
    home = make_home(root)
    out = root / "warnings.log"
    script = root / "warn.sh"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {out}\n")
    script.chmod(0o755)
    out.touch()
    out.chmod(0o666)
    conf = config(root, home, "protocols = \nmail_plugins = quota\n"
                  f"service quota-warning {{\n  executable = script {script}\n"
                  "  unix_listener quota-warning {\n    mode = 0666\n  }\n}\n"
                  "plugin {\n  quota = count:User quota\n  quota_vsizes = yes\n  quota_rule = *:storage=10k\n"
                  "  quota_warning = storage=80%% quota-warning 80 %u\n"
                  "  quota_warning2 = storage=50%% quota-warning 50 %u\n"
                  "  quota_warning3 = -storage=80%% quota-warning below %u\n}\n")
    return conf, home, out


def message(size: int) -> bytes:
    head = b"Subject: w\n\n"
    return head + b"x" * (size - len(head))


def read_warnings(out: Path, expected: int) -> list[str]:
    """The script runs in the background: wait (bounded) for the lines we expect, then a little more."""
    for _ in range(100):
        if len(out.read_text().splitlines()) >= expected:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # a wrong extra warning would show up now
    return out.read_text().splitlines()


def test_warnings_run_once_per_crossing(open_tmp_path: Path) -> None:
    conf, home, out = setup(open_tmp_path)
    seen: list[list[str]] = []

    def work() -> None:
        user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
        inbox = user.open_mailbox("INBOX")
        for size in SIZES:
            inbox.append(message(size))
            seen.append(read_warnings(out, len(seen[-1]) + 1 if seen else 0))
        inbox.expunge([2])
        seen.append(read_warnings(out, len(seen[-1]) + 1))

    uid = mail_uid() if os.getuid() == 0 else None
    call_as(uid, uid, work)
    # 40%: nothing; 90%: the 80% warning only (the first match), once; 95%: nothing new; 45%: "below".
    assert seen == [[], ["80 u"], ["80 u"], ["80 u", "below u"]]


def test_real_dovecot_runs_the_same_warnings(open_tmp_path: Path) -> None:
    require_real_dovecot()
    conf, home, out = setup(open_tmp_path)
    subprocess.run(["dovecot", "-c", str(conf)], check=True, timeout=30)
    try:
        for _ in range(100):
            if (open_tmp_path / "run" / "quota-warning").exists():
                break
            time.sleep(0.05)
        crlf = [(b"APPEND INBOX", message(size).replace(b"\n", b"\r\n")[:size]) for size in SIZES]
        run_imap(conf, home, [*crlf, b"SELECT INBOX", b"STORE 2 +FLAGS (\\Deleted)", b"EXPUNGE", b"LOGOUT"])
        lines = read_warnings(out, 2)
    finally:
        subprocess.run(["dovecot", "-c", str(conf), "stop"], timeout=30, check=False)
    assert lines == ["80 u", "below u"]
