"""Live check that the recorded goldens still describe the installed Dovecot (oracle only)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from mech_scenarios import SCENARIOS, Conversation
from test_mech_golden_replay import comparable

GOLDENS = Path(__file__).resolve().parent / "goldens"
SAMPLE = ["plain-ok", "plain-extra-nul", "login-nul-in-password", "cram-md5-long-digest", "digest-md5-ok",
          "digest-md5-whitespace-and-case", "scram-sha-256-ok", "scram-sha-1-mandatory-extension",
          "external-authzid-other", "anonymous-nul-in-trace"]


@pytest.mark.oracle
def test_sample_scenarios_live_against_real_dovecot(real_dovecot: Path) -> None:
    from mech_record_goldens import RealDovecot

    goldens = {t["name"]: t for t in json.loads((GOLDENS / "transcripts.json").read_text())}
    by_name = {sc.name: sc for sc in SCENARIOS}
    with tempfile.TemporaryDirectory(prefix="pydovecot-mech-") as tmp:
        server = RealDovecot(Path(tmp), GOLDENS / "users.passwd-file", "default")
        try:
            for name in SAMPLE:
                scenario = by_name[name]
                conv = Conversation(server, scenario.mech, scenario.params)
                scenario.run(conv)
                assert comparable(conv.steps, scenario.mech) == comparable(goldens[name]["steps"], scenario.mech), name
        finally:
            server.stop()
