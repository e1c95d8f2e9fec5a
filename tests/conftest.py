"""Shared test fixtures.

Tests that compare live against the real Dovecot binaries use ``oracle`` (a marker plus
the ``real_dovecot`` fixture): they skip when Dovecot is not installed, except under CI,
where a missing oracle is a failure because the set-up script installs it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_BIN = Path("/usr/bin")
IN_CI = bool(os.environ.get("CI"))


def real_dovecot_available() -> bool:
    return (REAL_BIN / "doveconf").exists() and (REAL_BIN / "doveadm").exists()


def require_real_dovecot() -> None:
    """Skip (or, under CI, fail) when the reference Dovecot is not installed."""
    if real_dovecot_available():
        return
    if IN_CI:
        pytest.fail("CI is set but the reference Dovecot is not installed (scripts/setup.sh installs it)")
    pytest.skip("the reference Dovecot (/usr/bin/doveconf) is not installed")


@pytest.fixture
def real_dovecot() -> Path:
    """The directory holding the real dovecot, doveconf and doveadm binaries."""
    require_real_dovecot()
    return REAL_BIN


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def python() -> str:
    """The interpreter that runs our command-line tools as modules (python -m doveconf)."""
    return sys.executable


def have_command(name: str) -> bool:
    return shutil.which(name) is not None


@pytest.fixture
def open_tmp_path() -> Iterator[Path]:
    """A temporary directory every user can traverse.

    pytest's own tmp_path sits under a 0700 directory of the user running the tests, so a
    real Dovecot process that drops root privileges to a mail user cannot reach it.
    """
    path = Path(tempfile.mkdtemp(prefix="pydovecot-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
