"""The console scripts and ``python -m`` entry points behave the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEED = ROOT / "examples" / "seed" / "dovecot.conf"


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize("tool", ["doveconf", "dovecot"])
def test_console_script_matches_module(tool: str) -> None:
    script = BIN / tool
    if not script.exists():
        pytest.skip(f"{script} is not installed (pip install -e . creates it)")
    module = "pydovecot" if tool == "dovecot" else tool
    by_script = run(str(script), "-c", str(SEED), "-n")
    by_module = run(sys.executable, "-m", module, "-c", str(SEED), "-n")
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout


def test_dovecot_n_is_doveconf_n() -> None:
    dovecot = run(sys.executable, "-m", "pydovecot", "-c", str(SEED), "-n")
    doveconf = run(sys.executable, "-m", "doveconf", "-c", str(SEED), "-n")
    assert dovecot.stdout == doveconf.stdout and "mail_location = " in dovecot.stdout


def test_dovecot_version_names_the_dovecot_release() -> None:
    assert run(sys.executable, "-m", "pydovecot", "--version").stdout == "2.3.19 (pydovecot 0.1.0)\n"


def test_starting_without_a_configuration_fails_like_dovecot() -> None:
    result = run(sys.executable, "-m", "pydovecot", "-F", "-c", "/nonexistent/dovecot.conf")
    assert result.returncode == 89
    assert result.stderr == ("Fatal: Error reading configuration: stat(/nonexistent/dovecot.conf) failed: "
                             "No such file or directory\n")


def test_doveadm_module_entry_point() -> None:
    result = run(sys.executable, "-m", "doveadm", "pw", "-s", "PLAIN", "-p", "secret")
    assert (result.returncode, result.stdout) == (0, "{PLAIN}secret\n")
