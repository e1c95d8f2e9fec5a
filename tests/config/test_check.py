"""doveconf --check: every error of a tree in one run, with places and suggestions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doveconf", "-c", "dovecot.conf", "--check"],
                          cwd=tree, capture_output=True, text=True, timeout=60)


def test_reports_every_error_with_file_line_and_suggestion(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "dovecot.conf").write_text(
        "mail_locaton = maildir:~/Maildir\n"
        "auth_verbose = maybe\n"
        "!include conf.d/*.conf\n"
        "service imap {\n"
        "  proces_limit = 5\n"
        "}\n"
        "foo bar\n"
        "ssl = yes\n"
    )
    (tmp_path / "conf.d" / "10-auth.conf").write_text("disable_plaintext_auth = perhaps\n")
    result = _check(tmp_path)
    assert result.returncode == 89
    assert result.stdout.splitlines() == [
        "dovecot.conf:1: Unknown setting: mail_locaton (did you mean mail_location?)",
        "dovecot.conf:2: Invalid boolean value: maybe (use yes or no)",
        "conf.d/10-auth.conf:1: Invalid boolean value: perhaps (use yes or no)",
        "dovecot.conf:5: Unknown setting: service { proces_limit (did you mean process_limit?)",
        "dovecot.conf:7: Expecting '{'",
        "5 errors in dovecot.conf",
    ]


def test_a_section_that_fails_to_open_keeps_braces_balanced(tmp_path: Path) -> None:
    (tmp_path / "dovecot.conf").write_text("nosuch {\n  a = b\n}\nauth_verbose = x\n")
    result = _check(tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == "dovecot.conf:1: Unknown setting: nosuch { nosuch"
    assert "dovecot.conf:4: Invalid boolean value: x (use yes or no)" in lines
    assert not any("Unexpected" in line for line in lines)


def test_clean_tree_passes(tmp_path: Path) -> None:
    (tmp_path / "dovecot.conf").write_text("protocols = imap\nmail_location = maildir:~/Maildir\n")
    result = _check(tmp_path)
    assert (result.returncode, result.stdout) == (0, "No errors in dovecot.conf\n")


def test_missing_brace_is_reported_after_the_rest(tmp_path: Path) -> None:
    (tmp_path / "dovecot.conf").write_text("auth_verbose = x\nservice imap {\n")
    lines = _check(tmp_path).stdout.splitlines()
    assert lines[:2] == [
        "dovecot.conf:1: Invalid boolean value: x (use yes or no)",
        "dovecot.conf: Missing '}' (section started at dovecot.conf:2)",
    ]


def test_warns_when_dovecot_was_started_with_another_config(tmp_path: Path) -> None:
    base = tmp_path / "run"
    base.mkdir()
    (base / "dovecot.conf").symlink_to("/elsewhere/dovecot.conf")
    (tmp_path / "dovecot.conf").write_text(f"base_dir = {base}\n")
    result = subprocess.run([sys.executable, "-m", "doveconf", "-c", "dovecot.conf", "-n"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.stderr == (
        "doveconf: Warning: Dovecot was last started using /elsewhere/dovecot.conf, "
        "but this config is dovecot.conf\n")
