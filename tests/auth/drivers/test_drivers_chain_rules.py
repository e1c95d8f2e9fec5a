"""The passdb/userdb chain rules (skip, result_*, deny, pass, master, filters), table-driven.

Scripted drivers return a fixed result per passdb, so each row states one Dovecot rule. The
expected answers follow auth-request.c of 2.3.19 (and the oracle goldens for the subset that
test_drivers_oracle.py replays).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from pydovecot.auth.fields import AuthRequest, FieldTemplate
from pydovecot.auth.lookup import AuthChain, PassdbEntry, UserdbEntry, split_master_login, username_accepted
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.password import verify_password
from pydovecot.auth.passdb.static import StaticPassdb
from pydovecot.auth.userdb.interface import UserdbResult
from pydovecot.auth.userdb.static import StaticUserdb

OK, UNKNOWN, MISMATCH, TEMPFAIL = (PassdbResult.OK, PassdbResult.USER_UNKNOWN, PassdbResult.PASSWORD_MISMATCH,
                                   PassdbResult.INTERNAL_FAILURE)


@dataclass
class ScriptedPassdb:
    """Finds the user (OK/mismatch by the stored PLAIN password) or answers a fixed result."""

    result: PassdbResult = OK
    password: str = "pw"
    fields: dict[str, str] = field(default_factory=dict)
    driver: str = "scripted"
    default_pass_scheme: str = "PLAIN"
    calls: list[str] = field(default_factory=list)

    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        self.calls.append(request.user)
        if self.result is not OK:
            return self.result
        request.set_field("password", self.password, "PLAIN")
        for name, value in self.fields.items():
            request.set_field(name, value)
        return OK

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbResult:
        result = await self._lookup(request)
        if result is not OK:
            return result
        return await verify_password(request, password, request.passdb_password, "PLAIN")

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> tuple[PassdbResult, bytes | None]:
        result = await self._lookup(request)
        return result, (self.password.encode() if result is OK else None)

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None


def _p(result: PassdbResult = OK, password: str = "pw", **rules: object) -> PassdbEntry:
    fields = rules.pop("fields", {})
    return PassdbEntry(ScriptedPassdb(result, password, dict(fields)), **rules)  # type: ignore[arg-type]


def _run(chain: AuthChain, user: str = "u@ex.org", password: bytes = b"pw", mechanism: str = "PLAIN"):  # type: ignore[no-untyped-def]
    logs: list[str] = []
    chain.log_callback = lambda level, line: logs.append(f"{level}: {line}")
    chain.verbose = True
    request = chain.new_request(user, remote_ip="10.0.0.1", mechanism=mechanism)
    outcome = asyncio.run(chain.verify_plain(request, password))
    return outcome, request, logs


# (id, passdbs, expected result, expected "authenticated")
CHAIN_CASES = [
    ("first-ok-returns", [_p(OK), _p(TEMPFAIL)], OK, True),
    ("unknown-continues", [_p(UNKNOWN), _p(OK)], OK, True),
    ("mismatch-continues", [_p(OK, "other"), _p(OK)], OK, True),
    ("all-fail-last-result", [_p(UNKNOWN), _p(OK, "other")], MISMATCH, False),
    ("tempfail-then-fail-is-tempfail", [_p(TEMPFAIL), _p(OK, "other")], TEMPFAIL, False),
    ("tempfail-then-unknown-is-tempfail", [_p(TEMPFAIL), _p(UNKNOWN)], TEMPFAIL, False),
    ("tempfail-then-ok-is-ok", [_p(TEMPFAIL), _p(OK)], OK, True),
    ("internalfail-return", [_p(TEMPFAIL, result_internalfail="return"), _p(OK)], TEMPFAIL, False),
    ("failure-return-fail", [_p(UNKNOWN, result_failure="return-fail"), _p(OK)], UNKNOWN, False),
    ("failure-return-ok-authenticates", [_p(OK, "other", result_failure="return-ok"), _p(TEMPFAIL)], OK, True),
    ("success-return-is-not-enough", [_p(OK, result_success="return"), _p(OK)], OK, False),
    ("success-continue-then-unknown", [_p(OK, result_success="continue"), _p(UNKNOWN)], UNKNOWN, False),
    ("success-continue-ok-then-unknown", [_p(OK, result_success="continue-ok"), _p(UNKNOWN)], OK, True),
    ("continue-fail-then-return", [_p(OK, result_success="continue-fail"), _p(OK, result_success="return")],
     OK, False),
    ("continue-skips-second-password-check", [_p(OK, result_success="continue"), _p(OK, "other")], OK, True),
    ("pass-yes-is-continue", [_p(OK, pass_=True), _p(OK, "other")], OK, True),
    ("skip-authenticated", [_p(OK, result_success="continue-ok"),
                            _p(TEMPFAIL, skip="authenticated", result_internalfail="return-fail"), _p(OK)], OK, True),
    ("skip-authenticated-runs-unauthenticated", [_p(UNKNOWN),
                                                 _p(TEMPFAIL, skip="authenticated", result_internalfail="return"),
                                                 _p(OK)], TEMPFAIL, False),
    ("skip-unauthenticated", [_p(OK, skip="unauthenticated"), _p(UNKNOWN)], UNKNOWN, False),
    ("deny-found-disables", [_p(OK, "anything", deny=True), _p(OK)], PassdbResult.USER_DISABLED, False),
    ("deny-unknown-continues", [_p(UNKNOWN, deny=True), _p(OK)], OK, True),
    ("deny-tempfail-is-fatal", [_p(TEMPFAIL, deny=True), _p(OK)], TEMPFAIL, False),
    ("mechanism-filter", [_p(TEMPFAIL, mechanisms=("CRAM-MD5",), result_internalfail="return"), _p(OK)], OK, True),
    ("mechanism-filter-match", [_p(TEMPFAIL, mechanisms=("cram-md5", "plain"), result_internalfail="return"),
                                _p(OK)], TEMPFAIL, False),
    ("username-filter-exclude", [_p(TEMPFAIL, username_filter=("*@ex.org", "!u@*"), result_internalfail="return"),
                                 _p(OK)], OK, True),
    ("username-filter-include", [_p(OK, "other", username_filter=("*@ex.org",), result_failure="return-fail"),
                                 _p(OK)], MISMATCH, False),
    ("all-skipped", [_p(OK, username_filter=("*@other",))], TEMPFAIL, False),
    ("allow-nets-mismatch-is-unknown", [_p(OK, fields={"allow_nets": "192.168.0.0/16"}), _p(UNKNOWN)],
     UNKNOWN, False),
    ("allow-nets-match", [_p(OK, fields={"allow_nets": "127.0.0.1, 10.0.0.0/8"})], OK, True),
    ("noauthenticate-last-is-tempfail", [_p(OK, fields={"noauthenticate": ""})], TEMPFAIL, False),
    ("noauthenticate-then-next", [_p(OK, "x", fields={"noauthenticate": "", "proxy": ""}), _p(OK)], OK, True),
]


@pytest.mark.parametrize(("passdbs", "result", "authenticated"),
                         [c[1:] for c in CHAIN_CASES], ids=[c[0] for c in CHAIN_CASES])
def test_passdb_chain_rules(passdbs: list[PassdbEntry], result: PassdbResult, authenticated: bool) -> None:
    outcome, _, _ = _run(AuthChain(list(passdbs)))
    assert (outcome.result, outcome.authenticated) == (result, authenticated)


def test_all_skipped_is_logged_as_an_error() -> None:
    _, _, logs = _run(AuthChain([_p(OK, username_filter=("*@other",))]))
    assert logs == ["error: plain(u@ex.org,10.0.0.1): All password databases were skipped"]


def test_failed_passdb_fields_are_rolled_back_and_successful_ones_kept() -> None:
    chain = AuthChain([
        _p(OK, fields={"first": "1", "userdb_home": "/one"}, result_success="continue"),
        _p(OK, "other", fields={"second": "2", "userdb_mail": "x"}),  # not checked: password already verified
        _p(UNKNOWN),
    ])
    outcome, request, _ = _run(chain)
    assert outcome.authenticated
    assert request.extra_fields.visible() == {"first": "1", "second": "2"}
    assert request.userdb_reply.as_dict() == {"home": "/one", "mail": "x"}

    chain = AuthChain([_p(OK, "other", fields={"gone": "1", "userdb_home": "/gone"}), _p(OK, fields={"kept": "1"})])
    outcome, request, _ = _run(chain)
    assert outcome.authenticated
    assert request.extra_fields.visible() == {"kept": "1"}
    assert request.userdb_reply.as_dict() == {}
    assert not request.userdb_prefetch_set


def test_default_and_override_fields_are_expanded() -> None:
    chain = AuthChain([_p(OK, fields={"a": "db", "b": "db"},
                          default_fields=FieldTemplate.parse("a=default-%n b=default c=%d"),
                          override_fields=FieldTemplate.parse("b=override-%u"))])
    outcome, request, _ = _run(chain)
    assert outcome.authenticated
    assert request.extra_fields.visible() == {"a": "db", "b": "override-u@ex.org", "c": "ex.org"}


def test_master_user_login() -> None:
    normal = ScriptedPassdb(OK, "userpw")
    chain = AuthChain(
        passdbs=[PassdbEntry(normal)],
        masterdbs=[PassdbEntry(ScriptedPassdb(OK, "masterpw"), master=True, pass_=True)],
        master_user_separator="*",
    )
    outcome, request, logs = _run(chain, "jane@ex.org*admin", b"masterpw")
    assert outcome.authenticated
    assert (request.user, request.master_user) == ("jane@ex.org", "admin")
    assert normal.calls == ["jane@ex.org"]  # looked up, but the password was not checked
    assert "info: Master user logging in as jane@ex.org" in logs
    assert request.reply_fields() == ["user=jane@ex.org", "original_user=admin", "auth_user=admin"]

    outcome, request, logs = _run(chain, "jane@ex.org*admin", b"userpw")
    assert not outcome.authenticated
    assert "info: scripted(admin,10.0.0.1,master): Password mismatch" in logs


def test_master_without_pass_does_not_look_up_the_login_user() -> None:
    normal = ScriptedPassdb(UNKNOWN)
    chain = AuthChain([PassdbEntry(normal)], [PassdbEntry(ScriptedPassdb(OK, "m"), master=True)],
                      master_user_separator="*")
    outcome, request, _ = _run(chain, "jane*root", b"m")
    assert outcome.authenticated and request.user == "jane"
    assert normal.calls == []


def test_master_login_without_master_passdbs_is_unknown() -> None:
    chain = AuthChain([_p(OK)], master_user_separator="*")
    outcome, _, logs = _run(chain, "jane*root", b"pw")
    assert outcome.result is UNKNOWN
    assert logs == ["info: plain(root,10.0.0.1,master): Attempted master login with no master passdbs "
                    "(trying to log in as user: jane)"]


def test_illegal_password_characters() -> None:
    outcome, _, logs = _run(AuthChain([_p(OK, "a\tb")]), password=b"a\tb")
    assert outcome.result is UNKNOWN
    assert logs == ["info: plain(u@ex.org,10.0.0.1): Attempted login with password having illegal chars"]


def test_credentials_scheme_not_available_after_unknown_is_unknown() -> None:
    chain = AuthChain([_p(UNKNOWN), _p(PassdbResult.SCHEME_NOT_AVAILABLE)])
    request = chain.new_request("u@ex.org", mechanism="CRAM-MD5")
    outcome = asyncio.run(chain.lookup_credentials(request, "CRAM-MD5"))
    assert outcome.result is UNKNOWN


def test_credentials_from_the_first_passdb_survive_a_continue() -> None:
    chain = AuthChain([_p(OK, "first", result_success="continue-ok"), _p(OK, "", fields={"nopassword": ""})])
    request = chain.new_request("u@ex.org", mechanism="CRAM-MD5")
    outcome = asyncio.run(chain.lookup_credentials(request, "PLAIN"))
    assert outcome.authenticated and outcome.credentials == b"first"


@pytest.mark.parametrize(("patterns", "user", "accepted"), [
    (("*@ex.org",), "a@ex.org", True),
    (("*@ex.org",), "a@other", False),
    (("!bad@*",), "bad@ex.org", False),
    (("!bad@*",), "good@ex.org", True),
    (("*@ex.org", "!b?d@*"), "bad@ex.org", False),
    (("[a]*",), "[a]x", True),  # only * and ? are wildcards
])
def test_username_filter(patterns: tuple[str, ...], user: str, accepted: bool) -> None:
    assert username_accepted(patterns, user) is accepted


def test_split_master_login() -> None:
    assert split_master_login("jane*admin", "*") == ("admin", "jane")
    assert split_master_login("jane", "*") == ("jane", None)
    assert split_master_login("jane*admin", "") == ("jane*admin", None)


# --- userdbs ---------------------------------------------------------------------------------------


@dataclass
class ScriptedUserdb:
    result: UserdbResult
    fields: dict[str, str] = field(default_factory=dict)
    driver: str = "scripted"

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        for name, value in self.fields.items():
            request.set_userdb_field(name, value)
        return self.result

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None


def _u(result: UserdbResult, fields: dict[str, str] | None = None, **rules: object) -> UserdbEntry:
    return UserdbEntry(ScriptedUserdb(result, dict(fields or {})), **rules)  # type: ignore[arg-type]


UOK, UUNKNOWN, UTEMP = UserdbResult.OK, UserdbResult.USER_UNKNOWN, UserdbResult.INTERNAL_FAILURE
USERDB_CASES = [
    ("first-ok", [_u(UOK, {"home": "/a"}), _u(UTEMP)], UOK, {"home": "/a"}),
    ("unknown-continues", [_u(UUNKNOWN, {"home": "/gone"}), _u(UOK, {"uid": "5"})], UOK, {"uid": "5"}),
    ("tempfail-then-unknown", [_u(UTEMP), _u(UUNKNOWN)], UTEMP, None),
    ("tempfail-then-ok", [_u(UTEMP), _u(UOK, {"uid": "1"})], UOK, {"uid": "1"}),
    ("continue-ok-merges", [_u(UOK, {"home": "/a", "uid": "1"}, result_success="continue-ok"),
                            _u(UOK, {"uid": "2"})], UOK, {"home": "/a", "uid": "2"}),
    ("continue-ok-then-unknown-keeps", [_u(UOK, {"home": "/a"}, result_success="continue-ok"), _u(UUNKNOWN)],
     UOK, {"home": "/a"}),
    ("continue-then-unknown-fails", [_u(UOK, {"home": "/a"}, result_success="continue"), _u(UUNKNOWN)],
     UUNKNOWN, None),
    ("skip-found", [_u(UOK, {"home": "/a"}, result_success="continue-ok"),
                    _u(UTEMP, skip="found"), _u(UOK, {"mail": "m"})], UOK, {"home": "/a", "mail": "m"}),
    ("skip-notfound", [_u(UUNKNOWN), _u(UOK, {"home": "/x"}, skip="notfound")], UUNKNOWN, None),
    ("tempfail-field", [_u(UOK, {"home": "/a", "tempfail": "y"})], UTEMP, None),
    ("bad-uid-is-tempfail", [_u(UOK, {"uid": "no-such-user-pydovecot"})], UTEMP, None),
    ("uid-by-name", [_u(UOK, {"uid": "root", "gid": "root"})], UOK, {"uid": "0", "gid": "0"}),
    ("default-and-override", [_u(UOK, {"home": "/db"}, default_fields=FieldTemplate.parse("home=/def mail=%n"),
                                 override_fields=FieldTemplate.parse("uid=7"))],
     UOK, {"home": "/db", "mail": "u", "uid": "7"}),
]


@pytest.mark.parametrize(("userdbs", "result", "fields"), [c[1:] for c in USERDB_CASES],
                         ids=[c[0] for c in USERDB_CASES])
def test_userdb_chain_rules(userdbs: list[UserdbEntry], result: UserdbResult, fields: dict[str, str] | None) -> None:
    chain = AuthChain([], userdbs=list(userdbs))
    request = chain.new_request("u@ex.org")
    request.successful = True
    assert asyncio.run(chain.lookup_user(request)) is result
    if fields is not None:
        assert request.userdb_reply.as_dict() == fields


def test_userdb_not_found_after_login_is_logged() -> None:
    logs: list[str] = []
    chain = AuthChain([], userdbs=[_u(UUNKNOWN)], log_callback=lambda level, line: logs.append(f"{level}: {line}"))
    request = chain.new_request("u@ex.org", remote_ip="10.0.0.1")
    request.successful = True
    assert asyncio.run(chain.lookup_user(request)) is UUNKNOWN
    assert logs == ["error: scripted(u@ex.org,10.0.0.1): user not found from userdb"]


def test_static_userdb_checks_existence_through_passdbs() -> None:
    userdb = StaticUserdb.from_args("uid=0 gid=0 home=/srv/%d/%n")
    known = AuthChain([PassdbEntry(StaticPassdb.from_args("password=x"))], userdbs=[UserdbEntry(userdb)])
    unknown = AuthChain([_p(UNKNOWN)], userdbs=[UserdbEntry(userdb)])
    tempfail = AuthChain([_p(TEMPFAIL)], userdbs=[UserdbEntry(userdb)])
    everyone = AuthChain([_p(UNKNOWN)], userdbs=[UserdbEntry(StaticUserdb.from_args("home=/h allow_all_users=yes"))])
    results = []
    for chain in (known, unknown, tempfail, everyone):
        request = chain.new_request("u@ex.org")
        results.append(asyncio.run(chain.lookup_user(request)))
    assert results == [UOK, UUNKNOWN, UTEMP, UOK]
    request = known.new_request("u@ex.org")
    asyncio.run(known.lookup_user(request))
    assert request.userdb_reply.as_dict() == {"uid": "0", "gid": "0", "home": "/srv/ex.org/u"}


def test_default_userdb_is_static() -> None:
    chain = AuthChain([_p(OK)])
    request = chain.new_request("u@ex.org")
    assert asyncio.run(chain.lookup_user(request)) is UOK
