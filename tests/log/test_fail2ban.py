"""Lines our log module writes for failed logins are caught by fail2ban's stock dovecot filter."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pydovecot.log import FileTarget, Log, LogSink
from pydovecot.log.login_format import disconnect_message, login_log_line
from pydovecot.login.session_id import new_session_id
from tests.conftest import IN_CI

FILTER = Path("/etc/fail2ban/filter.d/dovecot.conf")


def test_fail2ban_catches_failed_logins(tmp_path: Path) -> None:
    if shutil.which("fail2ban-regex") is None or not FILTER.exists():
        if IN_CI:
            pytest.fail("CI is set but fail2ban is not installed (scripts/setup.sh installs it)")
        pytest.skip("fail2ban-regex is not installed (apt-get install fail2ban)")
    path = tmp_path / "dovecot.log"
    sink = LogSink.single(FileTarget(str(path)))
    failures = [
        ("imap-login", disconnect_message("Aborted login by logging out", auth_attempts=1, seconds=2),
         "alice@example.test", "192.0.2.10"),
        ("pop3-login", disconnect_message("Connection closed", auth_attempts=3, seconds=12),
         "bob@example.test", "198.51.100.7"),
        ("imap-login", disconnect_message(None, auth_attempts=1, seconds=0), "carol", "2001:db8::5"),
    ]
    for service, message, user, rip in failures:
        values = dict(user=user, mechanism="PLAIN", remote_ip=rip, local_ip="127.0.0.1",
                      session=new_session_id(rip, 40000))
        Log(sink).for_service(service).info(login_log_line(message, values))
    # A successful login and a client that never tried must not count.
    Log(sink).for_service("imap-login").info(login_log_line("Login", dict(
        user="alice@example.test", mechanism="PLAIN", remote_ip="192.0.2.10", local_ip="127.0.0.1",
        mail_pid="42", session=new_session_id("192.0.2.10", 1))))
    Log(sink).for_service("imap-login").info(login_log_line(
        disconnect_message("Connection closed", auth_attempts=0, seconds=0),
        dict(remote_ip="192.0.2.11", local_ip="127.0.0.1")))
    sink.close()
    result = subprocess.run(["fail2ban-regex", "--print-all-matched", str(path), str(FILTER)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    summary = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", result.stdout)
    assert summary, result.stdout
    assert summary.groups() == ("5", "0", "3", "2"), result.stdout
    matched = result.stdout.split("Matched line(s):", 1)[1].split("Missed line(s):", 1)[0]
    for _, _, _, rip in failures:
        assert f"rip={rip}," in matched
