"""``dovecot`` exit codes and messages, live against the real binary (goldens:
goldens/cli_real_dovecot.txt, recorded the same way)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_real_dovecot
from tests.master.harness import ROOT, TIMEOUT

REAL = Path("/usr/sbin/dovecot")
GOLDEN = Path(__file__).parent / "goldens" / "cli_real_dovecot.txt"


def ours(*args: str) -> tuple[int, str]:
    r = subprocess.run([sys.executable, "-m", "pydovecot", *args], capture_output=True, text=True,
                       timeout=TIMEOUT, cwd=ROOT)
    return r.returncode, r.stderr


def real(*args: str) -> tuple[int, str]:
    r = subprocess.run([str(REAL), *args], capture_output=True, text=True, timeout=TIMEOUT)
    return r.returncode, r.stderr


def scenarios(tmp: Path) -> list[list[str]]:
    conf = tmp / "dovecot.conf"
    conf.write_text(f"base_dir = {tmp}/run\nprotocols = imap\nlisten = 127.0.0.1\nssl = no\n"
                    f"log_path = {tmp}/dovecot.log\n")
    missing = str(tmp / "missing.conf")
    return [["-c", missing], ["-F", "-c", missing], ["-c", missing, "stop"], ["-c", missing, "reload"],
            ["-c", str(conf), "stop"], ["-c", str(conf), "reload"], ["-x"]]


def test_golden_cases_hold(tmp_path: Path) -> None:
    """Without the oracle: our answers match the recorded ones (paths substituted)."""
    rows = [line.split(" | ") for line in GOLDEN.read_text().splitlines() if not line.startswith("#")]
    expected = {args: (int(code), text) for args, code, text in rows}
    missing = str(tmp_path / "nonexist.conf")
    code, err = ours("-c", missing)
    assert (code, err) == (expected["-c /nonexist.conf"][0],
                           expected["-c /nonexist.conf"][1].replace("/nonexist.conf", missing) + "\n")
    code, err = ours("-c", missing, "stop")
    assert code == expected["-c /nonexist.conf stop"][0]
    conf = scenarios(tmp_path)[4][1]
    code, err = ours("-c", conf, "reload")
    assert (code, err) == (expected["-c CONF reload"][0], expected["-c CONF reload"][1].replace(
        "PIDFILE", f"{tmp_path}/run/master.pid") + "\n")


@pytest.mark.oracle
def test_cli_matches_real_dovecot(tmp_path: Path) -> None:
    require_real_dovecot()
    if not REAL.exists():
        pytest.skip(f"{REAL} is not installed")
    for args in scenarios(tmp_path):
        theirs = real(*args)
        mine = ours(*args)
        if args == ["-x"]:  # getopt words it the same; the usage text follows
            first = [text.splitlines()[0].split(": ", 1)[1] for text in (mine[1], theirs[1])]
            assert mine[0] == theirs[0] and first[0] == first[1]
            continue
        assert mine == theirs, args
