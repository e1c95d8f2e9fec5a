"""Hypothesis: whatever a client sends and whatever a passdb answers, a mechanism only ever
returns events (ending in Success or Failure) and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mech_clients import ScramClient, digest_md5_credentials, plain_message, scram_credentials

from pydovecot.auth.mechanisms import (
    MECHANISMS,
    AuthRequestContext,
    Challenge,
    Failure,
    LookupCredentials,
    PassdbReply,
    PassdbResult,
    Success,
    UsernameRules,
    VerifyPlain,
    create_mechanism,
)

CRAM_SECRET = bytes.fromhex("cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56")
GOOD_CREDENTIALS = {
    "CRAM-MD5": CRAM_SECRET,
    "DIGEST-MD5": digest_md5_credentials(b"alice", b"", b"secret"),
    "SCRAM-SHA-1": scram_credentials("sha1", b"secret", b"salt"),
    "SCRAM-SHA-256": scram_credentials("sha256", b"secret", b"salt"),
}

# Pieces that real clients send, so that random splicing reaches the later checks too.
TOKENS = [b"\0", b",", b"=", b'"', b"\\", b" ", b"n,,", b"y,,", b"p=x,", b"a=", b"n=alice", b"r=", b"c=biws",
          b"p=", b"=2C", b"=3D", b"username=", b'nonce="', b"cnonce=", b"nc=00000001", b"qop=auth",
          b"digest-uri=imap/h", b"response=", b"realm=", b"authzid=", b"maxbuf=", b"charset=utf-8", b"alice",
          b"secret", "\u00e9".encode(), b"\xff", b"\x01", b"0" * 32]
client_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(TOKENS) | st.binary(max_size=8), max_size=25).map(b"".join),
)
contexts = st.builds(
    AuthRequestContext,
    cert_username=st.none() | st.sampled_from(["alice", "Bob", "bad name", ""]),
    realms=st.sampled_from([(), ("example.com", "example.org")]),
    has_master_passdbs=st.booleans(),
    username_rules=st.builds(UsernameRules, username_chars=st.sampled_from(["", "abc@"]),
                             master_user_separator=st.sampled_from(["", "*"]),
                             default_realm=st.sampled_from(["", "example.com"])),
)


def passdb_answers(data: st.DataObject, request: VerifyPlain | LookupCredentials) -> PassdbReply:
    result = data.draw(st.sampled_from(list(PassdbResult)))
    if isinstance(request, LookupCredentials) and result is PassdbResult.OK:
        credentials = data.draw(st.sampled_from([GOOD_CREDENTIALS[request.scheme]]) | st.binary(max_size=120))
        return PassdbReply(result, credentials, user=data.draw(st.none() | st.just("renamed")))
    return PassdbReply(result)


def exercise(mech_name: str, data: st.DataObject, first_messages: list[bytes]) -> None:
    mech = create_mechanism(mech_name, data.draw(contexts))
    initial = data.draw(st.none() | client_bytes)
    event = mech.start(initial)
    for _ in range(8):
        assert isinstance(event, Challenge | VerifyPlain | LookupCredentials | Success | Failure)
        if mech.finished:
            assert isinstance(event, Success | Failure)
            return
        if isinstance(event, Challenge):
            message = first_messages.pop(0) if first_messages else data.draw(client_bytes)
            event = mech.receive(message)
        else:
            event = mech.passdb_reply(passdb_answers(data, event))
    # Only a client that keeps answering (at most LOGIN's two prompts + SCRAM's two steps) ends here.


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mech_name=st.sampled_from(sorted(MECHANISMS)), data=st.data())
def test_random_client_data_never_raises(mech_name: str, data: st.DataObject) -> None:
    exercise(mech_name, data, [])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mech_name=st.sampled_from(["SCRAM-SHA-1", "SCRAM-SHA-256"]), data=st.data())
def test_scram_final_message_fuzz_after_a_valid_first(mech_name: str, data: st.DataObject) -> None:
    hash_name = "sha1" if mech_name == "SCRAM-SHA-1" else "sha256"
    client = ScramClient(hash_name, b"alice", b"secret")
    mech = create_mechanism(mech_name, AuthRequestContext())
    event = mech.start(client.client_first())
    assert isinstance(event, LookupCredentials)
    event = mech.passdb_reply(PassdbReply(PassdbResult.OK, GOOD_CREDENTIALS[mech_name]))
    assert isinstance(event, Challenge)
    valid = client.client_final(event.data)
    cut = data.draw(st.integers(0, len(valid)))
    damaged = valid[:cut] + data.draw(client_bytes) + valid[cut + data.draw(st.integers(0, 4)):]
    final = mech.receive(damaged)
    assert isinstance(final, Success | Failure)
    if isinstance(final, Success):
        assert final.extra_server_data == client.server_signature


@settings(max_examples=100, deadline=None)
@given(authzid=st.binary(max_size=20), authcid=st.binary(max_size=20), password=st.binary(max_size=20))
def test_plain_parses_any_three_fields(authzid: bytes, authcid: bytes, password: bytes) -> None:
    mech = create_mechanism("PLAIN", AuthRequestContext(username_rules=UsernameRules(username_chars="")))
    event = mech.start(plain_message(authcid, password, authzid))
    if b"\0" in authzid + authcid + password:
        assert isinstance(event, Failure)
    elif isinstance(event, VerifyPlain):
        assert event.password == password
        assert event.user.encode("utf-8", "surrogateescape").lower() == authcid.lower()

