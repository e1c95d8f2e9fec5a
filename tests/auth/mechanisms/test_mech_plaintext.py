"""PLAIN, LOGIN, EXTERNAL and ANONYMOUS driven by RFC clients to success and to each failure."""

from __future__ import annotations

import pytest
from mech_clients import plain_message
from mech_support import DictPassdb, run

from pydovecot.auth.mechanisms import (
    AuthRequestContext,
    Challenge,
    Failure,
    LookupCredentials,
    MechanismStateError,
    PassdbReply,
    PassdbResult,
    Success,
    UsernameRules,
    VerifyPlain,
    create_mechanism,
)

PASSDB = DictPassdb(plain={"alice": b"pw", "cert": b""})


def master_context(**kw: object) -> AuthRequestContext:
    return AuthRequestContext(has_master_passdbs=True, **kw)  # type: ignore[arg-type]


class TestPlain:
    def test_rfc4616_message_succeeds(self) -> None:
        out = run("PLAIN", PASSDB, plain_message(b"alice", b"pw"))
        assert out.event == Success("alice")
        assert PASSDB.requests[-1] == VerifyPlain("alice", None, b"pw")

    def test_without_initial_response_an_empty_challenge_asks_for_it(self) -> None:
        out = run("PLAIN", PASSDB, None, [plain_message(b"alice", b"pw")])
        assert out.challenges == [b""] and out.succeeded

    def test_wrong_password_is_the_passdbs_failure_not_logged_by_the_mechanism(self) -> None:
        out = run("PLAIN", PASSDB, plain_message(b"alice", b"nope"))
        assert out.event == Failure("password_mismatch", user="alice") and out.log == []

    @pytest.mark.parametrize("message", [b"", b"alice", b"\0alice", b"\0alice\0pw\0", b"a\0alice\0p\0w"])
    def test_anything_but_exactly_two_nuls_is_invalid_input(self, message: bytes) -> None:
        out = run("PLAIN", PASSDB, message)
        assert out.reason == "invalid input" and out.event.user is None

    def test_authzid_equal_to_authcid_is_no_authorization(self) -> None:
        run("PLAIN", PASSDB, plain_message(b"alice", b"pw", b"alice"))
        assert PASSDB.requests[-1] == VerifyPlain("alice", None, b"pw")

    def test_other_authzid_needs_a_master_passdb(self) -> None:
        out = run("PLAIN", PASSDB, plain_message(b"alice", b"pw", b"bob"))
        assert out.reason == "login user: Master user login attempted without master passdbs"
        out = run("PLAIN", PASSDB, plain_message(b"alice", b"pw", b"Bob"), context=master_context())
        assert PASSDB.requests[-1] == VerifyPlain("alice", "bob", b"pw") and out.succeeded

    def test_master_user_separator_splits_login_and_master(self) -> None:
        rules = UsernameRules(master_user_separator="*")
        run("PLAIN", PASSDB, plain_message(b"bob*alice", b"pw"), context=master_context(username_rules=rules))
        assert PASSDB.requests[-1] == VerifyPlain("alice", "bob", b"pw")

    def test_username_rules_apply(self) -> None:
        rules = UsernameRules(default_realm="example.com", username_translation="#@")
        run("PLAIN", PASSDB, plain_message(b"Alice", b"pw"), context=AuthRequestContext(username_rules=rules))
        assert PASSDB.requests[-1].user == "alice@example.com"
        # The default realm is added before translating, as Dovecot does: '#' is no '@' yet.
        run("PLAIN", PASSDB, plain_message(b"alice#other.org", b"pw"), context=AuthRequestContext(username_rules=rules))
        assert PASSDB.requests[-1].user == "alice@other.org@example.com"

    def test_disallowed_characters_and_empty_names(self) -> None:
        out = run("PLAIN", PASSDB, plain_message(b"al\xffice", b"pw"))
        assert out.reason == "Username character disallowed by auth_username_chars: 0xff (username: al?ice)"
        assert out.event.user == "al\udcffice"  # Dovecot's FAIL user= falls back to the given name
        assert run("PLAIN", PASSDB, plain_message(b"", b"pw")).reason == "Empty username"
        anything = AuthRequestContext(username_rules=UsernameRules(username_chars=""))
        run("PLAIN", PASSDB, plain_message("j\u00f6rg".encode(), b"pw"), context=anything)
        assert PASSDB.requests[-1].user == "j\u00f6rg"

    def test_internal_failure_is_temporary(self) -> None:
        passdb = DictPassdb(forced=PassdbReply(PassdbResult.INTERNAL_FAILURE))
        out = run("PLAIN", passdb, plain_message(b"alice", b"pw"))
        assert isinstance(out.event, Failure) and out.event.temporary

    def test_passdb_may_rename_the_user(self) -> None:
        mech = create_mechanism("PLAIN", AuthRequestContext())
        assert isinstance(mech.start(plain_message(b"alice", b"pw")), VerifyPlain)
        assert mech.passdb_reply(PassdbReply(PassdbResult.OK, user="alice@example.com")) == Success(
            "alice@example.com")

    def test_driver_calls_out_of_turn_raise(self) -> None:
        mech = create_mechanism("PLAIN", AuthRequestContext())
        with pytest.raises(MechanismStateError):
            mech.receive(b"x")
        mech.start(plain_message(b"alice", b"pw"))
        with pytest.raises(MechanismStateError):
            mech.receive(b"x")


class TestLogin:
    def test_prompts_then_success(self) -> None:
        out = run("LOGIN", PASSDB, None, [b"alice", b"pw"])
        assert out.challenges == [b"Username:", b"Password:"] and out.event == Success("alice")

    @pytest.mark.parametrize("initial", [None, b""])
    def test_no_or_empty_initial_response_prompts_for_the_username(self, initial: bytes | None) -> None:
        assert run("LOGIN", PASSDB, initial, [b"alice", b"pw"]).challenges[0] == b"Username:"

    def test_initial_response_is_the_username(self) -> None:
        out = run("LOGIN", PASSDB, b"alice", [b"pw"])
        assert out.challenges == [b"Password:"] and out.succeeded

    def test_nul_anywhere_fails_before_the_mechanism_sees_it(self) -> None:
        for answers in ([b"ali\0ce", b"pw"], [b"alice", b"p\0w"]):
            out = run("LOGIN", PASSDB, None, answers)
            assert out.reason == "Unexpected NUL in auth data" and out.log[-1].level == "debug"

    def test_bad_username_fails_before_the_password_prompt(self) -> None:
        out = run("LOGIN", PASSDB, None, [b"a b", b"pw"])
        assert out.challenges == [b"Username:"]
        assert out.reason.startswith("Username character disallowed by auth_username_chars: 0x20")

    def test_certificate_name_makes_the_first_answer_the_password(self) -> None:
        out = run("LOGIN", PASSDB, None, [b""], context=AuthRequestContext(cert_username="cert"))
        assert out.challenges == [b"Username:"] and out.event == Success("cert")


class TestExternal:
    CERT = AuthRequestContext(secured=True, valid_client_cert=True, cert_username="Cert")

    def test_certificate_user_verified_with_an_empty_password(self) -> None:
        out = run("EXTERNAL", PASSDB, b"", context=self.CERT)
        assert out.event == Success("cert") and PASSDB.requests[-1] == VerifyPlain("cert", None, b"")

    def test_without_certificate_name(self) -> None:
        assert run("EXTERNAL", PASSDB, b"").reason == "username not known"

    def test_authzid(self) -> None:
        assert run("EXTERNAL", PASSDB, b"cert", context=self.CERT).succeeded
        assert run("EXTERNAL", PASSDB, b"bob", context=self.CERT).reason == (
            "login user: Master user login attempted without master passdbs")

    def test_certificate_name_goes_through_username_rules(self) -> None:
        bad = AuthRequestContext(cert_username="c n")
        assert run("EXTERNAL", PASSDB, b"", context=bad).reason == "Invalid username"

    def test_nul(self) -> None:
        assert run("EXTERNAL", PASSDB, b"a\0b", context=self.CERT).reason == "Unexpected NUL in auth data"


class TestAnonymous:
    def test_any_trace_logs_in_as_the_anonymous_user(self) -> None:
        for trace in (b"", b"me@example.com", b"a\0b", b"\xff"):
            out = run("ANONYMOUS", PASSDB, trace)
            assert out.event == Success("anonuser")
            assert out.log[0].message == "login" and out.log[0].user == trace.split(b"\0")[0].decode(
                "utf-8", "surrogateescape")

    def test_no_passdb_involved(self) -> None:
        mech = create_mechanism("ANONYMOUS", AuthRequestContext(anonymous_username="guest"))
        assert mech.start(None) == Challenge(b"")
        assert mech.receive(b"x") == Success("guest")


def test_plaintext_mechanisms_never_look_up_credentials() -> None:
    passdb = DictPassdb(plain={"alice": b"pw"})
    run("PLAIN", passdb, plain_message(b"alice", b"pw"))
    run("LOGIN", passdb, None, [b"alice", b"pw"])
    assert not any(isinstance(r, LookupCredentials) for r in passdb.requests)
