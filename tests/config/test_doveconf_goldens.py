"""Parity of our doveconf with the real doveconf 2.3.19, through goldens recorded by record_goldens.py.

Every recorded run (goldens/<tree>/manifest.json) is replayed against our doveconf
(``python -m doveconf``) in the same directory with the same arguments. Compared: stdout with the
leading ``# `` header lines removed on both sides, stderr byte for byte, and the exit code.

Set DOVECONF_UNDER_TEST to another doveconf binary (e.g. /usr/bin/doveconf) to check the harness
itself: against the real binary every test must pass.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _load_recorder() -> ModuleType:
    # Loaded by path: tests/config is not a package, and the recorder is also a script.
    spec = importlib.util.spec_from_file_location("doveconf_golden_recorder", HERE / "record_goldens.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


recorder = _load_recorder()

DEBIAN_STOCK_CONFIG = Path("/etc/dovecot/dovecot.conf")


def doveconf_under_test() -> list[str]:
    """The argv prefix of the doveconf being checked: ours unless DOVECONF_UNDER_TEST names another."""
    override = os.environ.get("DOVECONF_UNDER_TEST")
    return [override] if override else [sys.executable, "-m", "doveconf"]


@dataclass(frozen=True)
class GoldenRun:
    tree_name: str
    tree_dir: Path
    config: str
    slug: str
    args: tuple[str, ...]

    @property
    def golden_dir(self) -> Path:
        return recorder.GOLDENS_DIR / self.tree_name

    def expected(self) -> recorder.RunResult:
        return recorder.RunResult(
            stdout=(self.golden_dir / f"{self.slug}.out").read_bytes(),
            stderr=(self.golden_dir / f"{self.slug}.err").read_bytes(),
            returncode=int((self.golden_dir / f"{self.slug}.rc").read_text()),
        )


def collect_golden_runs() -> list[GoldenRun]:
    runs = []
    for manifest_path in sorted(recorder.GOLDENS_DIR.glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        tree_dir = (recorder.REPO / manifest["tree"]).resolve()
        for run in manifest["runs"]:
            runs.append(
                GoldenRun(
                    manifest_path.parent.name, tree_dir, manifest["config"], run["slug"], tuple(run["args"])
                )
            )
    return runs


GOLDEN_RUNS = collect_golden_runs()
GOLDEN_IDS = [f"{run.tree_name}/{run.slug}" for run in GOLDEN_RUNS]


QUICKSTART_LOCAL_CONF = Path("/tmp/pydovecot-quickstart/local.conf")


def machine_state_for(run: GoldenRun) -> None:
    """examples/quickstart includes the local.conf its prepare.sh writes (who mail runs as);
    its goldens were recorded as root after prepare.sh, so prepare the same state first."""
    if run.tree_name != "example-quickstart":
        return
    if os.geteuid() != 0:
        pytest.skip("the quickstart goldens hold prepare.sh's local.conf for a run as root")
    if not QUICKSTART_LOCAL_CONF.exists():
        subprocess.run(["sh", str(run.tree_dir / "prepare.sh")], check=True, capture_output=True, timeout=60)


def as_text(data: bytes) -> str:
    # surrogateescape keeps invalid UTF-8 distinguishable while giving readable pytest diffs.
    return data.decode("utf-8", "surrogateescape")


def without_machine_state(stderr: bytes) -> str:
    """stderr without the warning that depends on whether a Dovecot ran on this machine
    (doveconf compares base_dir's dovecot.conf symlink with the config it reads)."""
    lines = as_text(stderr).splitlines(keepends=True)
    return "".join(line for line in lines if "Dovecot was last started using" not in line)


def assert_same_output(actual: recorder.RunResult, expected: recorder.RunResult, what: str) -> None:
    """Compare two doveconf runs under the parity rules (header lines dropped from stdout)."""
    assert without_machine_state(actual.stderr) == without_machine_state(expected.stderr), f"{what}: stderr differs"
    assert as_text(recorder.strip_header(actual.stdout)) == as_text(recorder.strip_header(expected.stdout)), (
        f"{what}: stdout differs (after dropping '# ' header lines)"
    )
    assert actual.returncode == expected.returncode, f"{what}: exit code differs"


def test_goldens_were_recorded() -> None:
    # Guards against an empty parametrization silently passing.
    assert len(GOLDEN_RUNS) >= 50
    assert all(run.tree_dir.is_dir() for run in GOLDEN_RUNS), (
        "a golden's tree is gone: re-run record_goldens.py"
    )


@pytest.mark.parametrize("run", GOLDEN_RUNS, ids=GOLDEN_IDS)
def test_our_doveconf_matches_golden(run: GoldenRun) -> None:
    machine_state_for(run)
    actual = recorder.run_doveconf(doveconf_under_test(), run.tree_dir, run.args, config=run.config)
    assert b"Traceback (most recent call last)" not in actual.stderr, as_text(actual.stderr)
    assert_same_output(actual, run.expected(), f"doveconf {' '.join(run.args)} in {run.tree_name}")


@pytest.mark.oracle
@pytest.mark.parametrize("run", GOLDEN_RUNS, ids=GOLDEN_IDS)
def test_golden_has_not_drifted_from_real_doveconf(run: GoldenRun, real_dovecot: Path) -> None:
    machine_state_for(run)
    actual = recorder.run_doveconf(
        [str(real_dovecot / "doveconf")], run.tree_dir, run.args, config=run.config
    )
    assert_same_output(
        actual, run.expected(), f"real doveconf {' '.join(run.args)} in {run.tree_name} (re-record?)"
    )


@pytest.mark.oracle
@pytest.mark.parametrize("args", [("-n",), ("-a",)], ids=["n", "a"])
def test_debian_stock_config_matches_real(args: tuple[str, ...], real_dovecot: Path) -> None:
    if not DEBIAN_STOCK_CONFIG.is_file():
        pytest.skip(f"{DEBIAN_STOCK_CONFIG} is not installed")
    config_dir = DEBIAN_STOCK_CONFIG.parent
    expected = recorder.run_doveconf(
        [str(real_dovecot / "doveconf")], config_dir, args, config=str(DEBIAN_STOCK_CONFIG)
    )
    actual = recorder.run_doveconf(doveconf_under_test(), config_dir, args, config=str(DEBIAN_STOCK_CONFIG))
    assert b"Traceback (most recent call last)" not in actual.stderr, as_text(actual.stderr)
    assert_same_output(actual, expected, f"doveconf {' '.join(args)} on {DEBIAN_STOCK_CONFIG}")
