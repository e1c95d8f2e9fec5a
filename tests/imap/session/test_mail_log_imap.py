"""mail_log over IMAP: COPY, UID COPY, MOVE, UID MOVE, RENAME and DELETE log the lines real
Dovecot 2.3.19 logs for the same session (`copy from INBOX: box=..., uid=...` and the MOVE's
expunges), through the plugins' copy hook rather than anything in the IMAP commands.

Record: python -m tests.imap.session.test_mail_log_imap (needs real Dovecot).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import tempfile
import time
from pathlib import Path

from .cases import MAIL_LOG_CASE, MAIL_LOG_SETTINGS, run_case, write_config
from .harness import running_server

GOLDEN = Path(__file__).with_name("goldens") / "mail_log_imap.json"
PORT = 31744
# "imap(alice@example.test)<pid><session>: Info: TEXT": the mail process's lines but its logout.
_LINE = re.compile(r"imap\([^)]*\)<\d+><[^>]*>: Info: (.*)$")


def mail_log_lines(lines: list[str]) -> list[str]:
    found = (_LINE.search(line) for line in lines)
    return [m.group(1) for m in found if m is not None and not m.group(1).startswith("Disconnected:")]


# Dovecot creates INBOX and the auto = create mailboxes when first used, we at login (storage's
# business, see test_session_goldens' KNOWN_DIFFERENCES): their "Mailbox created" lines differ.
AUTOCREATED = {"Mailbox created: INBOX", "Mailbox created: Trash"}


def record() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="imapgold") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        conf = write_config(base, PORT, MAIL_LOG_SETTINGS)
        subprocess.run(["dovecot", "-c", str(conf)], check=True)
        try:
            time.sleep(0.5)
            run_case("127.0.0.1", PORT, MAIL_LOG_CASE)
            time.sleep(0.5)
        finally:
            subprocess.run(["dovecot", "-c", str(conf), "stop"], check=False)
            time.sleep(0.5)
        return mail_log_lines((base / "dovecot.log").read_text().splitlines())


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(getattr(record, "dovecot_prefix", "") + "Info: " + record.getMessage())


def test_copy_and_move_log_as_real_dovecot() -> None:
    collect = _Collect()
    logger = logging.getLogger("pydovecot.mail_log")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(collect)
    try:
        with running_server(MAIL_LOG_SETTINGS) as server:
            replies = run_case("127.0.0.1", server.port, MAIL_LOG_CASE)
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    assert all(" OK " in reply.splitlines()[-1] for _, reply in replies[1:]), replies
    golden = [line for line in json.loads(GOLDEN.read_text()) if line not in AUTOCREATED]
    assert mail_log_lines(collect.lines) == golden


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(record(), indent=1) + "\n")
