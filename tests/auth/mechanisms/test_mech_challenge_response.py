"""CRAM-MD5 and DIGEST-MD5 driven by RFC clients to success and to each failure."""

from __future__ import annotations

import re

import pytest
from mech_clients import DigestMd5Client, cram_md5_response, digest_md5_credentials, parse_digest_challenge
from mech_support import DictPassdb, run

from pydovecot.auth.mechanisms import (
    AuthRequestContext,
    Failure,
    LookupCredentials,
    PassdbReply,
    PassdbResult,
    Success,
    create_mechanism,
)
from pydovecot.auth.mechanisms.cram_md5 import hmac_md5_from_context

# doveadm pw -s CRAM-MD5 -p secret (see goldens/doveadm_pw.json)
CRAM_SECRET = bytes.fromhex("cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56")
PASSDB = DictPassdb(credentials={
    "alice": {"CRAM-MD5": CRAM_SECRET, "DIGEST-MD5": digest_md5_credentials(b"alice", b"", b"secret")},
    "bob@example.com": {"DIGEST-MD5": digest_md5_credentials(b"bob", b"example.com", b"secret")},
})


class TestCramMd5:
    def test_challenge_shape(self) -> None:
        out = run("CRAM-MD5", PASSDB, b"ignored", [], context=AuthRequestContext(hostname="mail.example"))
        assert re.fullmatch(rb"<\d{16}\.\d+@mail\.example>", out.challenges[0])

    def test_rfc2195_client_succeeds(self) -> None:
        out = run("CRAM-MD5", PASSDB, None, lambda ch: cram_md5_response(b"alice", b"secret", ch))
        assert out.event == Success("alice")
        assert PASSDB.requests[-1] == LookupCredentials("alice", None, "CRAM-MD5", original_user="alice")

    def test_failures(self) -> None:
        def reason(respond: object) -> str:
            return run("CRAM-MD5", PASSDB, None, respond).reason  # type: ignore[arg-type]

        assert reason(lambda ch: cram_md5_response(b"alice", b"wrong", ch)) == "Password mismatch"
        assert reason(lambda ch: b"alice") == "missing digest"
        assert reason(lambda ch: b" " + cram_md5_response(b"alice", b"secret", ch)[6:]) == "missing digest"
        assert reason(lambda ch: cram_md5_response(b"alice", b"secret", ch).upper().replace(b"ALICE", b"alice")) == (
            "Password mismatch")
        assert reason(lambda ch: cram_md5_response(b"nosuch", b"secret", ch)) == "user_unknown"

    def test_only_the_first_32_digest_characters_count(self) -> None:
        assert run("CRAM-MD5", PASSDB, None, lambda ch: cram_md5_response(b"alice", b"secret", ch) + b"zz").succeeded
        assert not run("CRAM-MD5", PASSDB, None, lambda ch: cram_md5_response(b"alice", b"secret", ch)[:-1]).succeeded

    def test_wrong_length_credentials_are_an_error(self) -> None:
        passdb = DictPassdb(forced=PassdbReply(PassdbResult.OK, b"short"))
        out = run("CRAM-MD5", passdb, None, lambda ch: cram_md5_response(b"alice", b"secret", ch))
        assert out.reason == "invalid credentials length" and out.log[-1].level == "error"

    def test_context_gives_the_hmac(self) -> None:
        import hashlib
        import hmac

        assert hmac_md5_from_context(CRAM_SECRET, b"<1.2@h>") == hmac.new(b"secret", b"<1.2@h>", hashlib.md5).digest()


def digest_run(client: DigestMd5Client, context: AuthRequestContext | None = None, **kw: object):  # noqa: ANN201
    return run("DIGEST-MD5", PASSDB, None, lambda ch: client.response(ch, **kw), context=context)  # type: ignore[arg-type]


class TestDigestMd5:
    def test_challenge_contents(self) -> None:
        out = run("DIGEST-MD5", PASSDB, None, [])
        directives = parse_digest_challenge(out.challenges[0])
        assert directives["realm"] == [b""] and directives["qop"] == [b"auth"]
        assert directives["charset"] == [b"utf-8"] and directives["algorithm"] == [b"md5-sess"]
        assert re.fullmatch(rb"[A-Za-z0-9+/]{22}==", directives["nonce"][0])
        realms = run("DIGEST-MD5", PASSDB, None, [], context=AuthRequestContext(realms=("a.example", "b.example")))
        assert realms.challenges[0].startswith(b'realm="a.example",realm="b.example",nonce="')

    def test_rfc2831_client_succeeds_and_gets_rspauth(self) -> None:
        client = DigestMd5Client(b"alice", b"secret")
        out = digest_run(client)
        assert isinstance(out.event, Success) and out.event.user == "alice"
        assert out.event.extra_server_data == client.expected_rspauth

    def test_realm_directive_completes_the_username(self) -> None:
        out = digest_run(DigestMd5Client(b"bob", b"secret", realm=b"example.com"))
        assert out.event.user == "bob@example.com"  # type: ignore[union-attr]
        request = PASSDB.requests[-1]
        assert isinstance(request, LookupCredentials) and request.realm == "example.com" and request.domain_is_realm

    def test_authzid_takes_part_in_the_hash(self) -> None:
        client = DigestMd5Client(b"alice", b"secret", authzid=b"alice")
        assert digest_run(client).succeeded
        out = digest_run(DigestMd5Client(b"alice", b"secret", authzid=b"bob"),
                         context=AuthRequestContext(has_master_passdbs=True))
        assert out.succeeded and PASSDB.requests[-1].authzid == "bob"

    @pytest.mark.parametrize(("changes", "reason"), [
        ({"password": b"wrong"}, "Password mismatch"),
        ({"nc": b"00000002"}, "re-auth not supported currently"),
        ({"nc": b"0x1"}, "nonce-count value invalid"),
        ({"qop": b"auth-conf"}, "Nonallowed QoP requested"),
        ({"qop": b"x\x01y"}, "Unknown QoP value: x?y"),
        ({"digest_uri": b"imap"}, "Invalid digest-uri"),
        ({"cnonce": b""}, "cnonce can't contain empty value"),
        ({"username": b""}, "empty username"),
        ({"authzid": b""}, "empty authzid"),
    ])
    def test_each_check(self, changes: dict[str, bytes], reason: str) -> None:
        fields = {"username": b"alice", "password": b"secret", **changes}
        out = digest_run(DigestMd5Client(**fields))  # type: ignore[arg-type]
        assert out.reason == reason

    @pytest.mark.parametrize(("message", "reason"), [
        (b"", "Client sent no input"),
        (b"garbage", "Missing nonce parameter"),
        (b'username="a",nonce="NONCE"', "Missing cnonce parameter"),
        (b'nonce="NONCE",cnonce="c"', "Missing username parameter"),
        (b'nonce="x"', "Invalid nonce"),
        (b"charset=latin1", "Only utf-8 charset is allowed"),
        (b"maxbuf=0", "Invalid maxbuf value"),
        (b"maxbuf=1,maxbuf=2", "maxbuf must not exist more than once"),
        (b"response=abc", "Invalid response value"),
        (b'username="a",username="b"', "username must not exist more than once"),
        (b"nc= 1", "nonce-count value invalid"),  # an unquoted value keeps its leading blank
    ])
    def test_malformed_responses(self, message: bytes, reason: str) -> None:
        mech = create_mechanism("DIGEST-MD5", AuthRequestContext())
        challenge = mech.start(None)
        nonce = parse_digest_challenge(challenge.data)["nonce"][0]  # type: ignore[union-attr]
        event = mech.receive(message.replace(b"NONCE", nonce))
        assert isinstance(event, Failure) and event.reason == reason

    def test_wrong_credentials_length(self) -> None:
        passdb = DictPassdb(forced=PassdbReply(PassdbResult.OK, b"x" * 15))
        out = run("DIGEST-MD5", passdb, None, lambda ch: DigestMd5Client(b"alice", b"secret").response(ch))
        assert out.reason == "invalid credentials length"
