"""SCRAM-SHA-1 and SCRAM-SHA-256 driven by an RFC 5802 client to success and to each failure."""

from __future__ import annotations

import base64
import re

import pytest
from mech_clients import ScramClient, scram_credentials
from mech_support import DictPassdb, run

from pydovecot.auth.mechanisms import (
    AuthRequestContext,
    Failure,
    PassdbReply,
    PassdbResult,
    Success,
    UsernameRules,
)
from pydovecot.auth.mechanisms.scram import parse_scram_credentials

HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}
SALT = b"0123456789abcdef"


def passdb() -> DictPassdb:
    return DictPassdb(credentials={"alice": {mech: scram_credentials(h, b"secret", SALT)
                                             for mech, h in HASHES.items()}})


def scram_run(mech: str, client: ScramClient, final=None, first=None, context=None):  # noqa: ANN001, ANN201
    def respond(challenge: bytes) -> bytes:
        return final(client, challenge) if final else client.client_final(challenge)

    return run(mech, passdb(), first if first is not None else client.client_first(), respond, context=context)


@pytest.mark.parametrize("mech", list(HASHES))
class TestScram:
    def test_success_with_server_signature(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret")
        out = scram_run(mech, client)
        assert out.event == Success("alice", client.server_signature)
        nonce = out.challenges[0].split(b",")[0][2:]
        assert nonce.startswith(client.cnonce) and re.fullmatch(rb"[!-+\--}~]{64}", nonce[len(client.cnonce):])
        assert out.challenges[0].endswith(b",s=" + base64.b64encode(SALT) + b",i=4096")

    def test_no_initial_response_gets_an_empty_challenge(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret")
        out = run(mech, passdb(), None, [client.client_first()])
        assert out.challenges[0] == b"" and out.challenges[1].startswith(b"r=" + client.cnonce)

    def test_gs2_y_is_accepted_and_bound_into_the_final_message(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret", gs2_header=b"y,,")
        assert scram_run(mech, client).succeeded

    @pytest.mark.parametrize(("gs2", "reason"), [
        (b"p=tls-unique,,", "Channel binding not supported"),
        (b"q,,", "Invalid GS2 header"),
        (b"n,a=x=2,", "authzid escaping is invalid"),
        (b"n,z=x,", "Invalid authzid field"),
        (b"n,a=bob,", "Master user login attempted without master passdbs"),
    ])
    def test_gs2_header_checks(self, mech: str, gs2: bytes, reason: str) -> None:
        out = scram_run(mech, ScramClient(HASHES[mech], b"alice", b"secret", gs2_header=gs2))
        assert out.reason == reason

    def test_authzid_with_master_passdb(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret", gs2_header=b"n,a=b=2Cob,")
        rules = AuthRequestContext(has_master_passdbs=True, username_rules=UsernameRules(username_chars=""))
        out = scram_run(mech, client, context=rules)
        assert out.succeeded and out.mech.fields.login_user == "b,ob"

    @pytest.mark.parametrize(("first", "reason"), [
        (b"n", "Invalid initial client message: Missing first ',' in GS2 header"),
        (b"n,", "Invalid initial client message: Missing second ',' in GS2 header"),
        (b"n,,n=alice", "Invalid initial client message: Missing nonce field"),
        (b"n,,m=x,n=alice,r=a", "Mandatory extension(s) not supported"),
        (b"n,,u=alice,r=a", "Invalid username field"),
        (b"n,,n=al=ice,r=a", "Username escaping is invalid"),
        (b"n,,n=alice,x=a", "Invalid client nonce"),
        (b"n,,n=,r=a", "Empty username"),
        (b"n,,n=al\0ice,r=a", "Unexpected NUL in auth data"),
    ])
    def test_client_first_checks(self, mech: str, first: bytes, reason: str) -> None:
        out = scram_run(mech, ScramClient(HASHES[mech], b"alice", b"secret"), first=first)
        assert out.reason == reason

    @pytest.mark.parametrize(("make_final", "reason"), [
        (lambda c, sf: c.client_final(sf, channel_binding=b"c=eSws"), "Invalid channel binding data"),
        (lambda c, sf: c.client_final(sf, nonce=b"other"), "Wrong nonce"),
        (lambda c, sf: b"c=biws,r=x", "Invalid final client message"),
        (lambda c, sf: c.client_final(sf) + b",e=x", "Invalid ClientProof"),
        (lambda c, sf: c.client_final(sf, proof_filter=lambda p: b",p=*"), "Invalid base64 encoding"),
        (lambda c, sf: c.client_final(sf, proof_filter=lambda p: b",p=" + base64.b64encode(p + b"x")),
         "Invalid ClientProof length"),
        (lambda c, sf: c.client_final(sf, proof_filter=lambda p: b",p=" + base64.b64encode(bytes(len(p)))),
         "Password mismatch"),
    ])
    def test_client_final_checks(self, mech: str, make_final, reason: str) -> None:  # noqa: ANN001
        out = scram_run(mech, ScramClient(HASHES[mech], b"alice", b"secret"), final=make_final)
        assert out.reason == reason

    def test_extensions_in_the_final_message_are_signed(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret")
        assert scram_run(mech, client, final=lambda c, sf: c.client_final(sf, extensions=b",x=1")).succeeded

    def test_wrong_password(self, mech: str) -> None:
        assert scram_run(mech, ScramClient(HASHES[mech], b"alice", b"wrong")).reason == "Password mismatch"

    def test_temporary_passdb_failure(self, mech: str) -> None:
        client = ScramClient(HASHES[mech], b"alice", b"secret")
        out = run(mech, DictPassdb(forced=PassdbReply(PassdbResult.INTERNAL_FAILURE)), client.client_first())
        assert isinstance(out.event, Failure) and out.event.temporary


@pytest.mark.parametrize(("credentials", "error"), [
    (b"4096,c2FsdA==,AAAA", "Invalid SCRAM-SHA-1 passdb entry format"),
    (b"4095,c2FsdA==,AAAA,AAAA", "Invalid SCRAM-SHA-1 iteration count in passdb"),
    (b"2147483648,c2FsdA==,AAAA,AAAA", "Invalid SCRAM-SHA-1 iteration count in passdb"),
    (b"+4096,c2FsdA==,AAAA,AAAA", "Invalid SCRAM-SHA-1 iteration count in passdb"),
    (b"4096,c2FsdA==,AAAA,AAAA", "Invalid SCRAM-SHA-1 StoredKey in passdb"),
    (b"4096,c2FsdA==," + base64.b64encode(bytes(20)) + b",!!", "Invalid SCRAM-SHA-1 ServerKey in passdb"),
])
def test_credential_format_errors(credentials: bytes, error: str) -> None:
    assert parse_scram_credentials(credentials, "SCRAM-SHA-1", 20) == error
    client = ScramClient("sha1", b"alice", b"secret")
    out = run("SCRAM-SHA-1", DictPassdb(forced=PassdbReply(PassdbResult.OK, credentials)), client.client_first())
    assert out.reason == error


def test_salt_is_passed_through_undecoded() -> None:
    parsed = parse_scram_credentials(b"4096,not*base64," + base64.b64encode(bytes(20)) + b"," + base64.b64encode(bytes(20)), "SCRAM-SHA-1", 20)
    assert not isinstance(parsed, str)
