"""doveconf's answer cache: a repeated question gives the same answer, and any change to
the tree (an edited, added or removed file) is seen at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    tree = tmp_path / "tree"
    (tree / "conf.d").mkdir(parents=True)

    def doveconf(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYDOVECOT_CACHE_DIR": str(cache)}
        return subprocess.run([sys.executable, "-m", "doveconf", "-c", "dovecot.conf", *args], cwd=tree,
                              env=env, capture_output=True, text=True, timeout=60)

    doveconf.tree = tree  # type: ignore[attr-defined]
    doveconf.cache = cache  # type: ignore[attr-defined]
    return doveconf


def _strip_banner(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# "))


def test_repeated_answer_is_identical_and_cached(run) -> None:  # type: ignore[no-untyped-def]
    (run.tree / "dovecot.conf").write_text("!include conf.d/*.conf\nlog_path = x#y\n")
    (run.tree / "conf.d" / "10-a.conf").write_text("mail_location = maildir:~/A\n")
    first, second = run("-n"), run("-n")
    assert len(list(run.cache.iterdir())) == 1
    assert (first.returncode, first.stdout, first.stderr) == (second.returncode, second.stdout, second.stderr)
    assert "mail_location = maildir:~/A" in second.stdout
    assert "Ambiguous '#'" in second.stderr  # warnings are part of the answer


def test_edited_added_and_removed_files_are_seen(run) -> None:  # type: ignore[no-untyped-def]
    (run.tree / "dovecot.conf").write_text("!include conf.d/*.conf\n")
    first_file = run.tree / "conf.d" / "10-a.conf"
    first_file.write_text("mail_location = maildir:~/A\n")
    assert "maildir:~/A" in run("-n").stdout
    first_file.write_text("mail_location = maildir:~/Edited\n")
    assert "maildir:~/Edited" in run("-n").stdout
    (run.tree / "conf.d" / "20-b.conf").write_text("mail_plugins = quota\n")
    assert "mail_plugins = quota" in run("-n").stdout
    (run.tree / "conf.d" / "20-b.conf").unlink()
    assert "mail_plugins" not in run("-n").stdout


def test_errors_and_exit_codes_replay(run) -> None:  # type: ignore[no-untyped-def]
    (run.tree / "dovecot.conf").write_text("passdb {\n  args = x\n}\n")
    first, second = run("-n"), run("-n")
    assert first.returncode == second.returncode == 89
    assert first.stderr == second.stderr
    assert second.stderr.endswith("Fatal: Error in configuration file dovecot.conf: passdb is missing driver\n")
    assert _strip_banner(first.stdout) == _strip_banner(second.stdout)


def test_expanded_values_are_never_cached(run) -> None:  # type: ignore[no-untyped-def]
    (run.tree / "dovecot.conf").write_text("mail_location = maildir:~/A\n")
    run("-x", "-n")
    assert not run.cache.exists() or not any(run.cache.iterdir())


def test_cached_answers_are_private(run) -> None:  # type: ignore[no-untyped-def]
    (run.tree / "dovecot.conf").write_text("imapc_password = s3cret\n")
    run("-P", "-n")
    (answer,) = run.cache.iterdir()
    assert answer.stat().st_mode & 0o077 == 0
    assert run.cache.stat().st_mode & 0o077 == 0
