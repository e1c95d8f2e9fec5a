"""Our login and logout log lines against the ones real Dovecot 2.3.19 wrote for the same clients."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .cases import LOG_CASES, LOG_SETTINGS, normalise_log, run_case
from .harness import running_server

GOLDEN = json.loads((Path(__file__).with_name("goldens") / "logs.json").read_text())


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        prefix = getattr(record, "dovecot_prefix", "")
        self.lines.append(normalise_log(prefix + record.getMessage()))


def test_log_lines_match_real_dovecot() -> None:
    collect = _Collect()
    logger = logging.getLogger("pydovecot")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(collect)
    try:
        with running_server(LOG_SETTINGS) as server:
            for lines in LOG_CASES:
                run_case("127.0.0.1", server.port, lines)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not collect.lines[-1:]:
                    time.sleep(0.05)
                time.sleep(0.2)  # the disconnect line follows the close
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    ours = [line for line in collect.lines if line.startswith("imap")]
    # Real Dovecot's imap-login and imap processes write through its log process: the order of
    # lines from different processes is not fixed, so compare them as a multiset.
    assert sorted(ours) == sorted(GOLDEN)
