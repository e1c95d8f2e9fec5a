"""`doveadm user` / `auth test` / `auth lookup` against real doveadm 2.3.19's recorded answers.

goldens_user_auth/cases.json comes from tests/auth/e2e/record_doveadm_user_auth.py: real
doveadm on the e2e passwd-file config (alice and bob, SHA512-CRYPT). The same config is
written here with fresh hashes of the same passwords and our doveadm runs on it; stdout,
stderr and the exit code must be identical. No Dovecot needs to be installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "auth" / "e2e"))
from e2e_support import write_setup  # noqa: E402

CASES = json.loads((Path(__file__).parent / "goldens_user_auth" / "cases.json").read_text())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> object:
    return write_setup(tmp_path_factory.mktemp("user_auth"))


@pytest.mark.parametrize("case", CASES, ids=lambda case: " ".join(case["args"]))
def test_matches_real_doveadm(case: dict, setup: object) -> None:
    directory = str(setup.directory)  # type: ignore[attr-defined]
    proc = subprocess.run([sys.executable, "-m", "doveadm", "-c", str(setup.conf), *case["args"]],  # type: ignore[attr-defined]
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (proc.returncode, proc.stdout.replace(directory, "@DIR@"), proc.stderr.replace(directory, "@DIR@")) == (
        case["rc"], case["stdout"], case["stderr"])
