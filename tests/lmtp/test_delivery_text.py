"""The byte and text helpers of a delivery: CRLF to LF as Dovecot stores mail, the Received
date, and the recipients' names as the auth process normalises them."""

from __future__ import annotations

import asyncio
import email.utils

from hypothesis import given, settings
from hypothesis import strategies as st

from pydovecot.auth.mechanisms.context import UsernameRules
from pydovecot.auth.mechanisms.username import fix_username
from pydovecot.auth.service import RequestInfo, UserdbAnswer, UserdbResult
from pydovecot.lmtp import userdb
from pydovecot.lmtp.delivery import rfc822_date, to_lf


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b"\r\r\n", b"\n\r"]), max_size=20))
def test_to_lf_replaces_crlf_only(parts: list[bytes]) -> None:
    """Only CRLF pairs lose their CR (bare CRs stay), whichever way the helper takes."""
    data = b"".join(parts)
    assert to_lf(data) == data.replace(b"\r\n", b"\n")


def test_to_lf_large_crlf_message() -> None:
    data = b"".join(b"line %d\r\n" % i for i in range(10_000))
    assert to_lf(data) == data.replace(b"\r\n", b"\n")
    assert to_lf(data + b"x\ry\r\n") == (data + b"x\ry\r\n").replace(b"\r\n", b"\n")
    assert to_lf(data + b"\r") == data.replace(b"\r\n", b"\n") + b"\r"


def test_rfc822_date_is_formatdate_of_that_second() -> None:
    for when in (1_700_000_000.0, 1_700_000_000.5, 1_700_000_001.25, 1_700_000_000.75, 1_000_000_000.0):
        assert rfc822_date(when) == email.utils.formatdate(int(when), localtime=True)


class _Auth:
    def __init__(self, rules: UsernameRules) -> None:
        self.settings = type("S", (), {"username_rules": rules})()
        self.asked: list[str] = []
        self.backend = self

    async def lookup_user(self, user: str, info: RequestInfo) -> UserdbAnswer:
        self.asked.append(user)
        return UserdbAnswer(UserdbResult.OK, user=user)


def test_recipient_names_normalised_as_the_auth_process_does() -> None:
    """The remembered normalisation gives what fix_username gives, for each rule set in turn."""
    info = RequestInfo(service="lmtp")
    names = ["Bob@EXAMPLE.test", "bob@example.test", "b\u00f6b@example.test", "bad name@x", "Bob@EXAMPLE.test"]
    for rules in (UsernameRules(), UsernameRules(username_chars="", default_realm="realm.test"),
                  UsernameRules(username_format=None), UsernameRules(username_format=str.upper)):
        auth = _Auth(rules)
        for name in names:
            fixed = fix_username(name, rules)[0]
            answer = asyncio.run(userdb.lookup_user(auth, name, info))
            if fixed is None:
                assert answer.result is UserdbResult.USER_UNKNOWN
            else:
                assert answer.user == fixed and auth.asked[-1] == fixed
