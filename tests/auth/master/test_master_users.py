"""Master user logins over our auth-client socket, compared with real Dovecot 2.3.19.

The goldens were recorded by master_record_goldens.py: PLAIN authzid and the ``login*master``
separator, master passdbs with and without ``pass = yes``, and the auth log lines."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from conftest import require_real_dovecot  # noqa: E402
from e2e_support import auth_client, real_dovecot_running  # noqa: E402
from master_support import Setup, auth_log_lines, doveadm_outputs, plain3, transcript, write_setup  # noqa: E402

from tests.support.auth import collected_log, serving, short_tmpdir  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


@asynccontextmanager
async def running(with_masters: bool = True) -> AsyncIterator[tuple[Setup, list[str]]]:
    with short_tmpdir("pdm") as directory:
        setup = write_setup(directory)
        if not with_masters:
            conf = setup.conf.read_text()
            start = conf.index("passdb {\n  driver = passwd-file\n  master")
            setup.conf.write_text(conf[:start] + conf[conf.index("userdb {"):])
        with collected_log() as lines:
            async with serving(setup.conf):
                yield setup, lines


_OURS: list[tuple[dict[str, list[str]], list[str]]] = []


def ours() -> tuple[dict[str, list[str]], list[str]]:
    """Our transcript and auth log lines (run once per test session)."""
    async def main() -> tuple[dict[str, list[str]], list[str]]:
        async with running() as (setup, log):
            return await transcript(setup.base_dir), list(log)
    if not _OURS:
        _OURS.append(asyncio.run(main()))
    return _OURS[0]


def test_master_logins_answer_as_recorded_from_real_dovecot() -> None:
    golden = json.loads((GOLDENS / "transcript.json").read_text())
    answers, _ = ours()
    assert answers == golden


def test_master_login_log_lines_as_recorded() -> None:
    golden = json.loads((GOLDENS / "auth_log.json").read_text())
    _, log = ours()
    assert log == golden


def test_master_login_fields() -> None:
    answers, _ = ours()
    # The login user is user=, the master user auth_user= (and original_user=, the name given).
    assert answers["authzid"][0].split("\t")[2:] == ["user=jane", "original_user=admin", "auth_user=admin"]
    # pass = yes: the login user must exist in the normal passdbs.
    assert "code=authz_fail" in answers["pass_yes_unknown_target"][0]
    assert answers["pass_yes_known_target"][0].startswith("OK\t")


def test_authzid_refused_without_master_passdbs() -> None:
    # Real Dovecot 2.3.19 answered both with these lines (checked by hand on this config).
    async def main() -> list[str]:
        async with running(with_masters=False) as (setup, _):
            client, _ = await auth_client(setup.base_dir / "auth-client")
            await client.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain3('alice', 'jane', 'jane-pw')}\n")
            await client.send(f"AUTH\t2\tPLAIN\tservice=imap\tresp={plain3('', 'alice*jane', 'jane-pw')}\n")
            lines = [await client.line(), await client.line()]
            await client.close()
            return lines
    assert asyncio.run(main()) == ["FAIL\t1\tuser=jane", "FAIL\t2\tuser=jane"]


def test_doveadm_auth_test_and_login_as_recorded(tmp_path: Path) -> None:
    """doveadm auth test/login run the chain in-process: user=, original_user=, auth_user= and
    the userdb's master_user= as real doveadm printed them."""
    golden = json.loads((GOLDENS / "doveadm.json").read_text())
    setup = write_setup(tmp_path)
    ours = doveadm_outputs([sys.executable, "-m", "doveadm"], setup.conf)
    assert sorted(ours) == sorted(golden)
    for case, real in golden.items():
        assert (ours[case]["rc"], ours[case]["stdout"]) == (real["rc"], real["stdout"]), case
        if real["stderr"]:
            # Real doveadm's text names its auth-master request id and pids.
            assert "userdb lookup failed" in str(ours[case]["stderr"]), case
        else:
            assert ours[case]["stderr"] == "", case


def test_master_logins_as_live_real_dovecot() -> None:
    require_real_dovecot()
    if os.geteuid() != 0:
        pytest.skip("starting the real dovecot master needs root")
    directory = Path(tempfile.mkdtemp(prefix="pdmr", dir="/tmp"))
    try:
        setup = write_setup(directory)
        for name in ("masters", "strict-masters"):
            (directory / name).chmod(0o644)
        with real_dovecot_running(setup):  # type: ignore[arg-type]
            real = asyncio.run(transcript(setup.base_dir))
        real_log = auth_log_lines((setup.base_dir / "dovecot.log").read_text())
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    answers, log = ours()
    assert answers == real
    assert log == real_log
