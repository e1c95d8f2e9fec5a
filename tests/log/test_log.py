"""Log line format, routing by level, prefixes, debug gating."""

from __future__ import annotations

import re
import time
from pathlib import Path

from pydovecot.config import load
from pydovecot.log import FileTarget, Level, Log, LogSink, MemoryTarget, format_line, user_prefix


def test_file_line_has_timestamp_prefix_and_level() -> None:
    now = time.mktime((2026, 11, 25, 18, 15, 21, 0, 0, -1))
    line = format_line("imap-login: ", Level.INFO, "Login: user=<a>", timestamp="%b %d %H:%M:%S ", now=now)
    assert line == "Nov 25 18:15:21 imap-login: Info: Login: user=<a>"


def test_syslog_line_has_no_timestamp_and_no_info_level() -> None:
    assert format_line("imap-login: ", Level.INFO, "x", timestamp="%b ", syslog=True) == "imap-login: x"
    assert format_line("auth: ", Level.ERROR, "y", timestamp="%b ", syslog=True) == "auth: Error: y"


def test_user_prefix_like_mail_log_prefix() -> None:
    assert user_prefix("imap", "alice@example.test", 1234, "AVggzx1hqst/AAAB") == \
        "imap(alice@example.test)<1234><AVggzx1hqst/AAAB>: "


def test_levels_route_to_their_targets() -> None:
    error, info, debug = MemoryTarget(), MemoryTarget(), MemoryTarget()
    log = Log(LogSink(error, info, debug, timestamp=""))
    imap = log.for_service("imap", debug=True)
    imap.error("e")
    imap.warning("w")
    imap.info("i")
    imap.debug("d")
    assert [line for _, line in error.lines] == ["imap: Error: e", "imap: Warning: w"]
    assert [line for _, line in info.lines] == ["imap: Info: i"]
    assert [line for _, line in debug.lines] == ["imap: Debug: d"]


def test_debug_only_when_the_debug_setting_is_on(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    target = MemoryTarget()
    log = Log(LogSink.single(target, ""))
    conf.write_text("auth_debug = yes\n")
    on = load(str(conf)).lookup()
    log.for_service("auth", settings=on).debug("shown")
    log.for_service("imap", settings=on).debug("hidden: mail_debug is off")
    log.for_service("master").debug("hidden")
    assert [line for _, line in target.lines] == ["auth: Debug: shown"]


def test_sink_from_settings_splits_info_and_debug_paths(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    paths = {name: tmp_path / f"{name}.log" for name in ("log", "info", "debug")}
    conf.write_text(f"log_path = {paths['log']}\ninfo_log_path = {paths['info']}\n"
                    f"debug_log_path = {paths['debug']}\nlog_timestamp = \"%Y-%m-%d \"\n")
    sink = LogSink.from_settings(load(str(conf)).lookup())
    log = Log(sink).for_service("pop3", debug=True)
    log.info("hello")
    log.error("bad")
    log.debug("detail")
    sink.close()
    date = r"\d{4}-\d\d-\d\d "
    assert re.fullmatch(date + r"pop3: Info: hello\n", paths["info"].read_text())
    assert re.fullmatch(date + r"pop3: Error: bad\n", paths["log"].read_text())
    assert re.fullmatch(date + r"pop3: Debug: detail\n", paths["debug"].read_text())


def test_file_target_appends(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("old\n")
    target = FileTarget(str(path))
    target.write(Level.INFO, "new")
    target.close()
    assert path.read_text() == "old\nnew\n"


def test_multiline_message_becomes_several_lines() -> None:
    target = MemoryTarget()
    Log(LogSink.single(target, "")).error("one\ntwo")
    assert [line for _, line in target.lines] == ["master: Error: one", "master: Error: two"]


def test_auth_callback_prefix_matches_real_dovecot() -> None:
    target = MemoryTarget()
    auth = Log(LogSink.single(target, "")).for_service("auth")
    auth.callback("info", "passwd-file(alice@example.test,127.0.0.1,<oaFL0h1hRsp/AAAB>): Password mismatch")
    golden = (Path(__file__).parent / "goldens" / "real_dovecot_login.log").read_text()
    assert f" {target.lines[0][1]}\n" in golden
