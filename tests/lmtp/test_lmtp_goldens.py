"""Our LMTP server replays the sessions recorded from real Dovecot 2.3.19: same replies byte for byte
(session ids aside), same log lines, same stored messages (session ids and dates aside)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.lmtp.harness import converse, folder_messages, maildir_messages, normalize_reply, write_config
from tests.lmtp.ours import OurServer
from tests.lmtp.scenarios import SCENARIO_CONFIG

GOLDENS = json.loads((Path(__file__).parent / "goldens" / "sessions.json").read_text())


def normalize_log(line: str) -> str:
    line = re.sub(r"lmtp\(\d+\)", "lmtp(PID)", line)
    return re.sub(r"<\d+><[A-Za-z0-9+/]{12,24}((?::[TR]\d+)*)>", r"<PID><SID\1>", line)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_session_matches_real_dovecot(name: str, tmp_path: Path) -> None:
    golden = GOLDENS[name]
    conf = write_config(tmp_path, 0, uid=os.geteuid(), extra=SCENARIO_CONFIG.get(name, ""))
    steps = [s.encode("latin-1") for s in golden["steps"]]
    with OurServer(conf) as server:
        replies = converse(server.port, steps, golden["expected"])
        deadline = time.monotonic() + 5
        while not any("Disconnect" in x for x in server.log.lines) and time.monotonic() < deadline:
            time.sleep(0.02)
        logs = [normalize_log(x) for x in server.log.lines]
    assert [normalize_reply(r).decode("latin-1") for r in replies] == golden["replies"]
    assert logs == golden["log"]
    mail = maildir_messages(tmp_path)
    assert {u: [m.decode("latin-1") for m in msgs] for u, msgs in mail.items()} == golden["mail"]
    folders = folder_messages(tmp_path)
    assert {f: [m.decode("latin-1") for m in msgs] for f, msgs in folders.items()} == golden["folders"]
