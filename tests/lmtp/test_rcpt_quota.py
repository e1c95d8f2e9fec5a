"""A recipient over quota, against real Dovecot 2.3.19 (goldens/quota.json): with
``lmtp_rcpt_check_quota = yes`` RCPT TO is refused (``552 5.2.2``, or ``452 4.2.2`` with
``quota_full_tempfail``) and the others still get the mail; with ``= no`` the refusal comes
after DATA, with Dovecot's "save failed" log line. Same replies, same log lines, same mail."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.lmtp.harness import converse, normalize_reply
from tests.lmtp.ours import OurServer
from tests.lmtp.quota_cases import STEPS, VARIANTS, message_count, write_variant
from tests.lmtp.test_lmtp_goldens import normalize_log

GOLDENS = json.loads((Path(__file__).parent / "goldens" / "quota.json").read_text())


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_over_quota_recipient_matches_real_dovecot(name: str, open_tmp_path: Path) -> None:
    golden = GOLDENS[name]
    conf = write_variant(open_tmp_path, 0, name)
    with OurServer(conf) as server:
        replies = converse(server.port, STEPS, golden["expected"])
        deadline = time.monotonic() + 5
        while not any("Disconnect" in x for x in server.log.lines) and time.monotonic() < deadline:
            time.sleep(0.02)
        logs = [normalize_log(x) for x in server.log.lines]
    assert [normalize_reply(r).decode("latin-1") for r in replies] == golden["replies"]
    assert logs == golden["log"]
    assert message_count(open_tmp_path, "bob") == golden["bob_messages"]
    assert message_count(open_tmp_path, "alice") == golden["alice_messages"]


def test_no_quota_plugin_means_no_rcpt_check(open_tmp_path: Path) -> None:
    """lmtp_rcpt_check_quota without a quota plugin: nothing to check, every RCPT is taken."""
    from tests.lmtp.harness import write_config
    from tests.lmtp.quota_cases import fill_alice

    conf = write_config(open_tmp_path, 0, extra="lmtp_rcpt_check_quota = yes\n")
    fill_alice(open_tmp_path, None)
    with OurServer(conf) as server:
        replies = converse(server.port, STEPS[:3], [1, 1, 4, 2])
    assert replies[2] == b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n354 OK\r\n"
    assert replies[3].count(b" Saved\r\n") == 2
