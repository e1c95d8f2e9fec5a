"""Our auth service's replies equal real Dovecot 2.3.19's recorded ones (goldens/, see README)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
from pathlib import Path

import pytest
from wire_backend import MemoryBackend
from wire_record_goldens import SCENARIOS, normalise

from pydovecot.auth.service import AuthService, AuthServiceSettings

GOLDENS = Path(__file__).resolve().parent / "goldens"
GOLDEN_FILES = sorted(GOLDENS.glob("*.json"))
# Replies whose order depends on lookup timing (Dovecot answers pipelined lookups as they finish).
UNORDERED = {"master_pipelined"}


def make_service() -> AuthService:
    return AuthService(MemoryBackend(), AuthServiceSettings(mechanisms="plain login cram-md5", failure_delay=0,
                                                            hostname="localhost"))


async def settle() -> None:
    """Let every task that can run without a real wait finish."""
    for _ in range(50):
        await asyncio.sleep(0)


def cram_answer(sent: str, spec: dict[str, str]) -> bytes:
    challenge = re.findall(r"^CONT\t\d+\t(\S+)$", sent, flags=re.M)[-1]
    digest = hmac.new(spec["password"].encode(), base64.b64decode(challenge), "md5").hexdigest()
    text = base64.b64encode(f"{spec['user']} {digest}".encode()).decode()
    return f"CONT\t{spec['id']}\t{text}\n".encode()


async def replay(name: str, golden: dict) -> list[tuple[str, object, object]]:
    """(what, real, ours) for every step of the recorded conversation."""
    service = make_service()
    socket_name = golden["socket"]
    session = (service.new_client_session() if socket_name == "auth-client"
               else service.new_master_session(userdb_only=socket_name == "auth-userdb"))
    compared: list[tuple[str, object, object]] = []
    last_sent = ""
    session.flush()
    for step in golden["steps"]:
        if "recv" in step:
            await settle()
            ours = session.sent.decode("latin-1")
            session.sent.clear()
            last_sent = ours
            real, mine = step["recv"], normalise(ours)
            if name in UNORDERED:
                real, mine = sorted(real.splitlines()), sorted(mine.splitlines())
            compared.append(("recv", real, mine))
        elif "send" in step:
            if not session.closed:
                session.receive(step["send"].encode("latin-1"))
        elif "cram" in step:
            session.receive(cram_answer(last_sent, step["cram"]))
        elif "closed" in step:
            compared.append(("closed", step["closed"], session.closed))
    session.abort()
    return compared


def test_goldens_cover_every_scenario() -> None:
    assert {p.stem for p in GOLDEN_FILES} == set(SCENARIOS)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_replay_matches_real_dovecot(path: Path) -> None:
    golden = json.loads(path.read_text())
    compared = asyncio.run(replay(path.stem, golden))
    assert compared, "a golden without steps"
    for what, real, ours in compared:
        assert ours == real, f"{path.stem}: {what} differs"
