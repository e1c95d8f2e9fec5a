"""mail_log (+ notify): the log lines of each event, compared with real Dovecot 2.3.19.

The same session runs twice: through real ``imap`` (PREAUTH on stdin/stdout) and through our
MailUser API. ``goldens/mail_log.json`` holds the lines real Dovecot logged (after the
``imap(u)<pid><session>: Info: `` prefix); the live test re-records them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.plugins.mail_log import first_header, parse_words, sanitize
from pydovecot.plugins.registry import PluginError
from pydovecot.storage.interface import StoreAction
from pydovecot.storage.mail_user import MailUserError, create_mail_user
from tests.conftest import require_real_dovecot
from tests.plugins.real_imap import IMAP_BINARY, config, log_lines, make_home, run_imap

GOLDEN = Path(__file__).parent / "goldens" / "mail_log.json"
MESSAGE = b"From: A <a@b.c>\r\nSubject: hello\r\nMessage-ID: <x@y>\r\n\r\nbody text\r\n"
NO_ID = b"From: =?utf-8?q?J=C3=B6rg?= <j@x.y>\r\nSubject: a\r\n  folded\r\n\r\nno id\r\n"

CONFIGS = {
    "all": """mail_plugins = notify mail_log
namespace inbox {
  separator = /
  inbox = yes
}
plugin {
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename save mailbox_create flag_change append
  mail_log_fields = uid box msgid size vsize flags from subject
}
""",
    "defaults": """mail_plugins = notify mail_log
namespace inbox {
  separator = /
  inbox = yes
}
""",
}

IMAP_SESSION = [
    b"create foo", (b"append INBOX (\\Seen)", MESSAGE), (b"append INBOX", NO_ID), b"select INBOX",
    b"store 1 +flags (\\Deleted)", b"store 1 -flags (\\Deleted)", b"store 1 +flags (\\Flagged kw1)",
    b"store 2 +flags (\\Answered)", b"copy 1:2 foo", b"store 1 +flags (\\Deleted)", b"expunge",
    b"rename foo bar", b"delete bar", b"logout",
]


def our_session(conf: Path, home: Path) -> list[str]:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            assert record.dovecot_prefix.startswith("imap(u)<")  # type: ignore[attr-defined]
            records.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("pydovecot.mail_log")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
        user.create_mailbox("foo")
        inbox = user.open_mailbox("INBOX")
        inbox.append(MESSAGE, flags=["\\Seen"])
        inbox.append(NO_ID)
        inbox.sync(take_recent=True)
        inbox.store([1], StoreAction.ADD, ["\\Deleted"])
        inbox.store([1], StoreAction.REMOVE, ["\\Deleted"])
        inbox.store([1], StoreAction.ADD, ["\\Flagged"], ["kw1"])
        inbox.store([2], StoreAction.ADD, ["\\Answered"])
        inbox.copy_to([1, 2], user.open_mailbox("foo"))
        inbox.store([1], StoreAction.ADD, ["\\Deleted"])
        inbox.expunge([1])
        user.rename_mailbox("foo", "bar")
        user.delete_mailbox("bar")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return records


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lines_match_real_golden(tmp_path: Path, name: str) -> None:
    golden = json.loads(GOLDEN.read_text())[name]
    home = tmp_path / "home"
    home.mkdir()
    conf = config(tmp_path, home, CONFIGS[name])
    assert our_session(conf, home) == golden


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_live_against_real_imap(open_tmp_path: Path, name: str) -> None:
    require_real_dovecot()
    if not IMAP_BINARY.exists():
        pytest.skip("no real imap binary")
    real_home = make_home(open_tmp_path, "real")
    conf = config(open_tmp_path, real_home, CONFIGS[name])
    _, stderr = run_imap(conf, real_home, IMAP_SESSION)
    real = log_lines(stderr)
    assert real == json.loads(GOLDEN.read_text())[name]
    ours_home = open_tmp_path / "ours"
    ours_home.mkdir()
    ours_conf = config(open_tmp_path, ours_home, CONFIGS[name])
    assert our_session(ours_conf, ours_home) == real


def test_unknown_names_fail_the_user(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="Unknown event in mail_log_events: 'bogus'"):
        parse_words("save bogus", ("save",), "events")
    home = tmp_path / "home"
    home.mkdir()
    conf = config(tmp_path, home, "mail_plugins = notify mail_log\nplugin {\n  mail_log_fields = uid nope\n}\n")
    with pytest.raises(MailUserError, match="Unknown field in mail_log_fields: 'nope'"):
        create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


def test_mail_log_requires_notify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    conf = config(tmp_path, home, "mail_plugins = mail_log\n")
    with pytest.raises(MailUserError, match="requires plugin notify"):
        create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


def test_sanitize_and_headers() -> None:
    assert sanitize("a\tb", 80) == "a?b"
    assert sanitize("x" * 100, 80) == "x" * 77 + "..."
    assert first_header(NO_ID, "Subject") == "a  folded"
    assert first_header(NO_ID, "From") == "Jörg <j@x.y>"
    assert first_header(NO_ID, "Message-ID") == ""


def record() -> None:  # pragma: no cover - run by hand: python -m tests.plugins.test_mail_log
    import shutil
    import tempfile

    out = {}
    for name, body in CONFIGS.items():
        root = Path(tempfile.mkdtemp(prefix="pydovecot-mail-log-"))
        root.chmod(0o755)
        try:
            home = make_home(root, "real")
            _, stderr = run_imap(config(root, home, body), home, IMAP_SESSION)
            out[name] = log_lines(stderr)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record()
