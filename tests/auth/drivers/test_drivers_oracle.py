"""Our passdb/userdb chain against goldens recorded from real Dovecot 2.3.19.

The goldens (goldens/*.json, made by drivers_record_goldens.py) hold, for the scenarios in
drivers_scenarios.py, what ``doveadm auth test`` and ``doveadm user`` answered and the auth
process's Info and Error log lines. These tests need no Dovecot installed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from drivers_scenarios import SCENARIOS, Scenario  # noqa: E402

from pydovecot.auth.lookup import AuthChain  # noqa: E402
from pydovecot.auth.userdb.interface import UserdbResult  # noqa: E402
from pydovecot.config import load  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"
BASE = "protocols =\nssl = no\nmail_location =\nauth_verbose = yes\nauth_failure_delay = 0\n"
DOVEADM_USER_RC = {UserdbResult.OK: 0, UserdbResult.USER_UNKNOWN: 67, UserdbResult.INTERNAL_FAILURE: 75}


def _chain(scenario: Scenario, tmp_path: Path, logs: list[str]) -> AuthChain:
    for name, text in scenario.files.items():
        (tmp_path / name).write_text(text)
    conf = tmp_path / "dovecot.conf"
    conf.write_text(BASE + scenario.conf.replace("@DIR@", str(tmp_path)))
    node = load(str(conf)).lookup(service="doveadm")

    def log(level: str, line: str) -> None:
        if level in ("info", "error"):
            logs.append(f"{level}: {line}")

    return AuthChain.from_settings(node, log_callback=log)


def _cases(kind: str) -> list[tuple[Scenario, dict[str, object]]]:
    out = []
    for scenario in SCENARIOS:
        golden = json.loads((GOLDENS / f"{scenario.name}.json").read_text())
        out += [(scenario, case) for case in golden[kind]]
    return out


def _id(param: object) -> str:
    if isinstance(param, Scenario):
        return param.name
    case = param  # type: ignore[assignment]
    return f"{case.get('login', case.get('user'))}:{case.get('password', '')}"  # type: ignore[union-attr]


@pytest.mark.parametrize(("scenario", "case"), _cases("auth"), ids=_id)
def test_auth_test_matches_dovecot(scenario: Scenario, case: dict, tmp_path: Path) -> None:
    logs: list[str] = []
    chain = _chain(scenario, tmp_path, logs)

    async def run() -> tuple[bool, list[str]]:
        request = chain.new_request(case["login"], service="doveadm", remote_ip="1.2.3.4", mechanism="PLAIN")
        outcome = await chain.verify_plain(request, case["password"].encode())
        return outcome.authenticated, request.reply_fields()

    authenticated, fields = asyncio.run(run())
    assert authenticated == case["succeeded"]
    if case["succeeded"]:
        assert fields == case["fields"]
    else:
        assert fields[0] == case["fields"][0]  # the user= Dovecot names in its FAIL
    assert logs == case["log"]


@pytest.mark.parametrize(("scenario", "case"), _cases("user"), ids=_id)
def test_doveadm_user_matches_dovecot(scenario: Scenario, case: dict, tmp_path: Path) -> None:
    logs: list[str] = []
    chain = _chain(scenario, tmp_path, logs)

    async def run() -> tuple[UserdbResult, dict[str, str]]:
        request = chain.new_request(case["user"], service="doveadm")
        result = await chain.lookup_user(request)
        return result, (request.userdb_reply.as_dict() if request.userdb_reply else {})

    result, fields = asyncio.run(run())
    assert DOVEADM_USER_RC[result] == case["rc"]
    if case["rc"] == 0:
        expected = dict(case["fields"])
        if expected.get("mail") == "" and "mail" not in fields:
            del expected["mail"]  # doveadm prints mail_location (empty here) when userdb has none
        assert fields == expected
    assert logs == case["log"]
