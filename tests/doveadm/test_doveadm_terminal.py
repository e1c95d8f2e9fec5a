"""`doveadm pw` asking for the password on a terminal (a pseudo-terminal here)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

OURS = [sys.executable, "-m", "doveadm"]


def run_on_terminal(program: list[str], args: list[str], answers: list[bytes], config: Path,
                    executable: str | None = None) -> tuple[bytes, int]:
    """Run with stdin/stdout/stderr on a new pty; type each answer after its prompt appears."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([*program, "-c", str(config), *args], stdin=follower, stdout=follower,
                               stderr=follower, executable=executable, start_new_session=True,
                               preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
    os.close(follower)
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if pending and output.rstrip().endswith(b":"):
            time.sleep(0.05)  # let the program switch echo off before typing
            os.write(leader, pending.pop(0))
    os.close(leader)
    return output, process.wait(timeout=60)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "dovecot.conf"
    path.write_text(f"base_dir = {tmp_path}/run\n")
    return path


def test_prompts_twice_without_echo(config: Path) -> None:
    output, code = run_on_terminal(OURS, ["pw", "-s", "sha"], [b"x\n", b"x\n"], config)
    assert code == 0
    assert output == b"Enter new password: \r\nRetype new password: \r\n{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\r\n"


def test_mismatch_asks_again(config: Path) -> None:
    output, code = run_on_terminal(OURS, ["pw", "-s", "plain"], [b"a\n", b"b\n", b"c\n", b"c\n"], config)
    assert code == 0
    assert b"Error: Passwords don't match!" in output and output.endswith(b"{PLAIN}c\r\n")


@pytest.mark.oracle
@pytest.mark.parametrize(("args", "answers"), [
    (["pw", "-s", "sha"], [b"x\n", b"x\n"]),
    (["pw", "-s", "plain"], [b"a\n", b"b\n", b"c\n", b"c\n"]),
    (["pw", "-t", "{PLAIN}x"], [b"x\n"]),
    (["-f", "json", "pw", "-s", "sha"], [b"p\xc3\xa4ss\n", b"p\xc3\xa4ss\n"]),
])
def test_terminal_session_matches_real(args: list[str], answers: list[bytes], config: Path, real_dovecot: Path) -> None:
    real = run_on_terminal(["doveadm"], args, list(answers), config, executable=str(real_dovecot / "doveadm"))
    ours = run_on_terminal(OURS, args, list(answers), config)
    assert ours == real
