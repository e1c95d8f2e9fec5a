"""Our dovecot-lda against the real one's recorded results: exit code, log lines, stored bytes."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.lmtp.harness import write_config
from tests.lmtp.lda_cases import LDA_CASES
from tests.lmtp.record_goldens import run_lda

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = json.loads((Path(__file__).parent / "goldens" / "lda.json").read_text())
OURS = [sys.executable, str(ROOT / "bin" / "dovecot-lda")]


def _ours(root: Path, args: list[str], stdin: bytes) -> dict[str, object]:
    env_root = str(ROOT)
    os.environ["PYTHONPATH"] = env_root + os.pathsep + os.environ.get("PYTHONPATH", "")
    return run_lda(OURS, root, args, stdin)


@pytest.mark.parametrize("name", sorted(LDA_CASES))
def test_lda_matches_real(name: str, tmp_path: Path) -> None:
    args, stdin = LDA_CASES[name]
    golden = GOLDENS[name]
    write_config(tmp_path, 24999, uid=os.geteuid())
    result = _ours(tmp_path, args, stdin)
    result["log"] = [x for x in result["log"] if "lda(" in x]  # type: ignore[union-attr]
    for key in ("rc", "log", "folders", "mail", "work"):
        assert result[key] == golden[key], key


def test_lda_bad_config_is_tempfail(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run([*OURS, "-c", str(tmp_path / "missing.conf"), "-d", "a"], input=b"x\n",
                          capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 75
    assert re.match(rb"lda\(\d+\): Fatal: Error reading configuration: ", proc.stderr)


def test_lda_usage_error() -> None:
    import subprocess

    proc = subprocess.run([*OURS, "-Z"], input=b"", capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 64


def test_lda_reads_the_message_from_path(tmp_path: Path) -> None:
    import subprocess

    conf = write_config(tmp_path, 24999, uid=os.geteuid())
    message = tmp_path / "msg.eml"
    message.write_bytes(b"Subject: from file\r\n\r\nbody\r\n")
    proc = subprocess.run([*OURS, "-c", str(conf), "-d", "bob@example.test", "-p", str(message)], input=b"",
                          capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    (stored,) = (tmp_path / "mail" / "bob@example.test" / "Maildir" / "new").iterdir()
    assert stored.read_bytes() == b"Subject: from file\n\nbody\n"
