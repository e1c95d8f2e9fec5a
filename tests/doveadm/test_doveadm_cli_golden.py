"""Our doveadm against the real one's recorded output (goldens/doveadm_cli.json, see cases.py)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cases import CASES, Case, run_case  # noqa: E402

from pydovecot.auth import schemes  # noqa: E402

GOLDENS = {tuple(r["args"]) + (r["stdin"],): r
           for r in json.loads((Path(__file__).parent / "goldens" / "doveadm_cli.json").read_text("utf-8"))}
OURS = [sys.executable, "-m", "doveadm"]


def _id(case: Case) -> str:
    return " ".join(case.args) + (f" <{case.stdin!r}" if case.stdin else "")


def _golden(case: Case) -> dict:
    return GOLDENS[case.args + (case.stdin,)]


def _ours(case: Case, tmp_path: Path) -> dict:
    return run_case(OURS, case, tmp_path)


def _check_usage(ours: str, real: str) -> None:
    our_lines, real_lines = ours.splitlines(), real.splitlines()
    assert our_lines[:2] == real_lines[:2]  # the header and Dovecot's line of 15 spaces
    remaining = iter(real_lines[2:])
    for line in our_lines[2:]:  # our commands are a subset of real's, in the same order
        assert any(line == candidate for candidate in remaining), line


def _password_of(case: Case) -> bytes:
    args = list(case.args)
    return args[args.index("-p") + 1].encode()


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_real_doveadm(case: Case, tmp_path: Path) -> None:
    real, ours = _golden(case), _ours(case, tmp_path)
    if case.compare == "exact":
        assert (ours["stdout"], ours["stderr"], ours["exit"]) == (real["stdout"], real["stderr"], real["exit"])
    elif case.compare == "usage":
        assert (ours["stdout"], ours["exit"]) == (real["stdout"], real["exit"])
        _check_usage(ours["stderr"], real["stderr"])
    elif case.compare == "hash":
        assert (ours["stderr"], ours["exit"]) == (real["stderr"], real["exit"])
        our_hash, _, our_suffix = ours["stdout"].rstrip("\n").partition(" ")
        real_hash, _, real_suffix = real["stdout"].rstrip("\n").partition(" ")
        assert our_suffix == real_suffix
        assert len(our_hash) == len(real_hash)
        prefix_end = real_hash.index("$", real_hash.index("$", 1) + 1) + 1 if "$" in real_hash else real_hash.index("}") + 1
        assert our_hash[:prefix_end] == real_hash[:prefix_end]
        assert schemes.verify(our_hash, _password_of(case)) and schemes.verify(real_hash, _password_of(case))
    else:  # man
        if shutil.which("man") is None or not list(Path("/usr/share/man/man1").glob("doveadm-pw.1*")):
            pytest.skip("man(1) or Dovecot's manual pages are not installed")
        assert ours["exit"] == real["exit"]
        assert ours["stdout"].splitlines()[:1] == real["stdout"].splitlines()[:1]
        assert ours["stderr"] == real["stderr"]


@pytest.mark.oracle
@pytest.mark.parametrize("case", [c for c in CASES if c.compare == "exact"], ids=_id)
def test_live_matches_real_doveadm(case: Case, tmp_path: Path, real_dovecot: Path) -> None:
    real = run_case(["doveadm"], case, tmp_path, executable=str(real_dovecot / "doveadm"))
    ours = _ours(case, tmp_path)
    assert (ours["stdout"], ours["stderr"], ours["exit"]) == (real["stdout"], real["stderr"], real["exit"])
