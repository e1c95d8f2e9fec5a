"""Client scripts run against real Dovecot (to record goldens) and against our mechanisms (to replay).

A scenario talks to a `SaslServer` through a `Conversation`, which records every client message,
every server reply and every client-side check (rspauth, SCRAM server signature) as a transcript.
Random server parts (CRAM-MD5 challenge, DIGEST-MD5 nonce, SCRAM s-nonce) are normalised so that
the transcript of our server must equal the one recorded from Dovecot 2.3.19.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mech_clients import DigestMd5Client, ScramClient, cram_md5_response, plain_message

# Password of every test user in goldens/users.passwd-file.
PASSWORD = b"secret"


@dataclass
class Reply:
    verb: str  # "CONT", "OK" or "FAIL"
    data: bytes = b""  # CONT payload, base64-decoded
    args: list[str] = field(default_factory=list)  # the OK/FAIL line's fields after the id


class SaslServer(Protocol):
    def auth(self, mech: str, initial: bytes | None, params: dict[str, str]) -> Reply: ...

    def cont(self, data: bytes) -> Reply: ...


def show(data: bytes) -> str:
    """Bytes as a JSON-friendly string that maps back one-to-one (latin-1)."""
    return data.decode("latin-1")


_SNONCE = re.compile(r"^[!-+\--~]{64}$")  # printable, no ','


def normalise_server_data(mech: str, data: bytes, client_nonce: bytes | None) -> str:
    text = show(data)
    if mech == "CRAM-MD5" and re.fullmatch(r"<\d{16}\.\d+@[^>]+>", text):
        return "<RANDOM16.TIME@HOSTNAME>"
    if mech == "DIGEST-MD5":
        text = re.sub(r'nonce="[A-Za-z0-9+/]{22}=="', 'nonce="NONCE"', text)
        text = re.sub(r"^rspauth=[0-9a-f]{32}$", "rspauth=HEX32", text)
    if mech.startswith("SCRAM-") and text.startswith("r=") and client_nonce is not None:
        nonce, _, rest = text[2:].partition(",s=")
        cnonce = show(client_nonce)
        if nonce.startswith(cnonce) and _SNONCE.match(nonce[len(cnonce):]):
            text = "r=" + cnonce + "SNONCE64,s=" + rest
    if mech.startswith("SCRAM-") and re.fullmatch(r"v=[A-Za-z0-9+/=]+", text):
        text = "v=SIGNATURE"
    return text


class Conversation:
    """One authentication attempt, recorded."""

    def __init__(self, server: SaslServer, mech: str, params: dict[str, str]) -> None:
        self.server = server
        self.mech = mech
        self.params = params
        self.steps: list[list[Any]] = []
        self.client_nonce: bytes | None = None

    def _record(self, reply: Reply) -> Reply:
        if reply.verb == "CONT":
            self.steps.append(["S", "CONT", normalise_server_data(self.mech, reply.data, self.client_nonce)])
        else:
            kept = [a for a in reply.args if a.startswith("user=")]
            kept += ["resp=" + normalise_server_data(self.mech, base64.b64decode(a[5:]), self.client_nonce)
                     for a in reply.args if a.startswith("resp=")]
            self.steps.append(["S", reply.verb, kept])
        return reply

    def start(self, initial: bytes | None = None) -> Reply:
        self.steps.append(["C", "AUTH", None if initial is None else show(initial)])
        return self._record(self.server.auth(self.mech, initial, self.params))

    def send(self, data: bytes) -> Reply:
        self.steps.append(["C", "CONT", show(data)])
        return self._record(self.server.cont(data))

    def note(self, text: str) -> None:
        self.steps.append(["note", text])

    def finish(self, reply: Reply) -> Reply:
        """A CONT after success carries the final server data; the client acknowledges it."""
        if reply.verb == "CONT":
            return self.send(b"")
        return reply


ScenarioFn = Callable[[Conversation], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    mech: str
    run: ScenarioFn
    params: dict[str, str] = field(default_factory=dict)
    variant: str = "default"  # which recorded Dovecot configuration


SCENARIOS: list[Scenario] = []


def scenario(name: str, mech: str, variant: str = "default", **params: str) -> Callable[[ScenarioFn], ScenarioFn]:
    def register(fn: ScenarioFn) -> ScenarioFn:
        SCENARIOS.append(Scenario(name, mech, fn, dict(params), variant))
        return fn

    return register


def one_shot(name: str, mech: str, initial: bytes | None, *follow_ups: bytes, **params: str) -> None:
    """A scenario whose client messages do not depend on the server's challenges."""

    def run(conv: Conversation) -> None:
        reply = conv.start(initial)
        for data in follow_ups:
            if reply.verb != "CONT":
                break
            reply = conv.send(data)
        conv.finish(reply)

    SCENARIOS.append(Scenario(name, mech, run, dict(params)))


# --- PLAIN -----------------------------------------------------------------------------------------
one_shot("plain-ok", "PLAIN", plain_message(b"plainuser", PASSWORD))
one_shot("plain-ok-no-initial-response", "PLAIN", None, plain_message(b"plainuser", PASSWORD))
one_shot("plain-uppercase-user-lowercased", "PLAIN", plain_message(b"PlainUser", PASSWORD))
one_shot("plain-authzid-equal", "PLAIN", plain_message(b"plainuser", PASSWORD, b"plainuser"))
one_shot("plain-authzid-other", "PLAIN", plain_message(b"plainuser", PASSWORD, b"other"))
one_shot("plain-wrong-password", "PLAIN", plain_message(b"plainuser", b"wrong"))
one_shot("plain-unknown-user", "PLAIN", plain_message(b"nosuch", PASSWORD))
one_shot("plain-extra-nul", "PLAIN", plain_message(b"plainuser", PASSWORD) + b"\0extra")
one_shot("plain-one-nul", "PLAIN", b"\0plainuser")
one_shot("plain-no-nul", "PLAIN", b"plainuser")
one_shot("plain-empty-initial-response", "PLAIN", b"")
one_shot("plain-empty-continuation", "PLAIN", None, b"")
one_shot("plain-empty-username", "PLAIN", b"\0\0secret")
one_shot("plain-empty-password", "PLAIN", b"\0plainuser\0")
one_shot("plain-invalid-utf8-username", "PLAIN", plain_message(b"plain\xffuser", PASSWORD))
one_shot("plain-utf8-username", "PLAIN", plain_message("u\u00e9".encode(), PASSWORD))
one_shot("plain-space-in-username", "PLAIN", plain_message(b"plain user", PASSWORD))
one_shot("plain-control-char-username", "PLAIN", plain_message(b"plain\x01user", PASSWORD))
one_shot("plain-overlong-username", "PLAIN", plain_message(b"a" * 300, PASSWORD))
one_shot("plain-overlong-bad-username", "PLAIN", plain_message(b"b" * 200 + b" " + b"c" * 100, PASSWORD))
one_shot("plain-invalid-utf8-password", "PLAIN", plain_message(b"plainuser", b"sec\xffret"))
one_shot("plain-authzid-bad-char", "PLAIN", plain_message(b"plainuser", PASSWORD, b"ot her"))
one_shot("plain-nopassword-user", "PLAIN", plain_message(b"nopassuser", b"anything"))

# --- LOGIN -----------------------------------------------------------------------------------------
one_shot("login-ok", "LOGIN", None, b"plainuser", PASSWORD)
one_shot("login-ok-initial-response", "LOGIN", b"plainuser", PASSWORD)
one_shot("login-empty-initial-response", "LOGIN", b"", b"plainuser", PASSWORD)
one_shot("login-wrong-password", "LOGIN", None, b"plainuser", b"wrong")
one_shot("login-nul-in-username", "LOGIN", None, b"plain\0user", PASSWORD)
one_shot("login-nul-in-password", "LOGIN", None, b"plainuser", b"sec\0ret")
one_shot("login-nul-in-initial-response", "LOGIN", b"plain\0user", PASSWORD)
one_shot("login-empty-username", "LOGIN", None, b"", PASSWORD)
one_shot("login-bad-username", "LOGIN", None, b"bad user", PASSWORD)
one_shot("login-empty-password", "LOGIN", None, b"plainuser", b"")
# With a certificate name the username is already known, so the first answer is the password.
one_shot("login-cert-username-first-answer-is-password", "LOGIN", None, PASSWORD,
         **{"secured": "", "valid-client-cert": "", "cert_username": "certuser"})
one_shot("login-cert-username-initial-response-is-password", "LOGIN", b"certuser",
         **{"secured": "", "valid-client-cert": "", "cert_username": "certuser"})

# --- ANONYMOUS / EXTERNAL ----------------------------------------------------------------------------
one_shot("anonymous-trace", "ANONYMOUS", b"someone@example.com")
one_shot("anonymous-no-initial-response", "ANONYMOUS", None, b"trace")
one_shot("anonymous-empty", "ANONYMOUS", b"")
one_shot("anonymous-nul-in-trace", "ANONYMOUS", b"a\0b")
one_shot("anonymous-invalid-utf8", "ANONYMOUS", b"\xff\xfe")
_CERT = {"secured": "", "valid-client-cert": "", "cert_username": "cert2"}
one_shot("external-no-certificate", "EXTERNAL", b"")
one_shot("external-no-certificate-no-initial-response", "EXTERNAL", None, b"")
one_shot("external-ok", "EXTERNAL", b"", **_CERT)
one_shot("external-ok-no-initial-response", "EXTERNAL", None, b"", **_CERT)
one_shot("external-authzid-equal", "EXTERNAL", b"cert2", **_CERT)
one_shot("external-authzid-other", "EXTERNAL", b"other", **_CERT)
one_shot("external-nul", "EXTERNAL", b"cert2\0x", **_CERT)
one_shot("external-user-has-password", "EXTERNAL", b"",
         **{"secured": "", "valid-client-cert": "", "cert_username": "certuser"})
one_shot("external-cert-username-uppercase", "EXTERNAL", b"",
         **{"secured": "", "valid-client-cert": "", "cert_username": "CERT2"})
one_shot("external-cert-username-bad-char", "EXTERNAL", b"",
         **{"secured": "", "valid-client-cert": "", "cert_username": "cert 2"})
one_shot("plain-cert-username-overrides", "PLAIN", plain_message(b"plainuser", PASSWORD), **_CERT)

# --- CRAM-MD5 ----------------------------------------------------------------------------------------


def cram(name: str, make: Callable[[bytes], bytes], initial: bytes | None = None) -> None:
    def run(conv: Conversation) -> None:
        reply = conv.start(initial)
        if reply.verb == "CONT":
            conv.finish(conv.send(make(reply.data)))

    SCENARIOS.append(Scenario(name, "CRAM-MD5", run))


cram("cram-md5-ok", lambda ch: cram_md5_response(b"cramuser", PASSWORD, ch))
cram("cram-md5-initial-response-ignored", lambda ch: cram_md5_response(b"cramuser", PASSWORD, ch), b"junk")
cram("cram-md5-wrong-password", lambda ch: cram_md5_response(b"cramuser", b"wrong", ch))
cram("cram-md5-unknown-user", lambda ch: cram_md5_response(b"nosuch", PASSWORD, ch))
cram("cram-md5-scheme-not-available", lambda ch: cram_md5_response(b"scram1", PASSWORD, ch))
cram("cram-md5-no-space", lambda ch: b"cramuser")
cram("cram-md5-leading-space", lambda ch: b" " + cram_md5_response(b"cramuser", PASSWORD, ch))
cram("cram-md5-empty", lambda ch: b"")
cram("cram-md5-nul", lambda ch: b"cram\0user " + b"0" * 32)
cram("cram-md5-uppercase-hex", lambda ch: cram_md5_response(b"cramuser", PASSWORD, ch).upper().replace(
    b"CRAMUSER", b"cramuser"))
cram("cram-md5-short-digest", lambda ch: cram_md5_response(b"cramuser", PASSWORD, ch)[:-2])
cram("cram-md5-long-digest", lambda ch: cram_md5_response(b"cramuser", PASSWORD, ch) + b"00")
cram("cram-md5-rightmost-space", lambda ch: b"cram user " + cram_md5_response(b"cramuser", PASSWORD, ch)[9:])
cram("cram-md5-bad-credentials", lambda ch: cram_md5_response(b"badcram", PASSWORD, ch))
cram("cram-md5-only-leading-space", lambda ch: b" " + cram_md5_response(b"cramuser", PASSWORD, ch)[9:])

# --- DIGEST-MD5 ----------------------------------------------------------------------------------------


def digest(name: str, client: Callable[[], DigestMd5Client], *, params: dict[str, str] | None = None,
           nonce: bytes | None = None,
           response: bytes | None = None, extra: list[bytes] | None = None,
           raw: Callable[[DigestMd5Client, bytes], bytes] | None = None, initial: bytes | None = None,
           variant: str = "default") -> None:
    def run(conv: Conversation) -> None:
        reply = conv.start(initial)
        if reply.verb != "CONT":
            return
        c = client()
        message = raw(c, reply.data) if raw else c.response(reply.data, nonce=nonce, response=response,
                                                             extra=extra)
        reply = conv.send(message)
        if reply.verb == "CONT" and reply.data.startswith(b"rspauth=") and c.expected_rspauth:
            conv.note("rspauth matches" if reply.data == c.expected_rspauth else "rspauth MISMATCH")
        conv.finish(reply)

    SCENARIOS.append(Scenario(name, "DIGEST-MD5", run, dict(params or {}), variant))


def _digest_user(**kw: Any) -> Callable[[], DigestMd5Client]:
    return lambda: DigestMd5Client(username=kw.pop("username", b"digestuser"), password=kw.pop("password", PASSWORD),
                                   **kw)


digest("digest-md5-ok", _digest_user())
digest("digest-md5-final-resp-ok", _digest_user(), params={"final-resp-ok": ""})
digest("digest-md5-initial-response-ignored", _digest_user(), initial=b"username=x")
digest("digest-md5-realm-ok", _digest_user(username=b"drealm", realm=b"example.com"))
digest("digest-md5-wrong-password", _digest_user(password=b"wrong"))
digest("digest-md5-unknown-user", _digest_user(username=b"nosuch"))
digest("digest-md5-scheme-not-available", _digest_user(username=b"cramuser"))
digest("digest-md5-wrong-nonce", _digest_user(), nonce=b"AAAAAAAAAAAAAAAAAAAAAA==")
digest("digest-md5-no-qop-no-nc", _digest_user(qop=None, nc=None))
digest("digest-md5-no-digest-uri", _digest_user(digest_uri=None))
digest("digest-md5-nc-2", _digest_user(nc=b"00000002"))
digest("digest-md5-nc-not-number", _digest_user(nc=b"abc"))
digest("digest-md5-nc-decimal-one", _digest_user(nc=b"1"))
digest("digest-md5-qop-auth-int", _digest_user(qop=b"auth-int"))
digest("digest-md5-qop-unknown", _digest_user(qop=b"bogus"))
digest("digest-md5-qop-uppercase", _digest_user(qop=b"AUTH"))
digest("digest-md5-digest-uri-no-slash", _digest_user(digest_uri=b"imap"))
digest("digest-md5-digest-uri-other-host", _digest_user(digest_uri=b"smtp/elsewhere.example/x"))
digest("digest-md5-maxbuf-zero", _digest_user(), extra=[b"maxbuf=0"])
digest("digest-md5-maxbuf-ok", _digest_user(), extra=[b"maxbuf=65536"])
digest("digest-md5-maxbuf-twice", _digest_user(), extra=[b"maxbuf=65536", b"maxbuf=1024"])
digest("digest-md5-charset-latin1", _digest_user(), extra=[b"charset=iso-8859-1"])
digest("digest-md5-unknown-key-ignored", _digest_user(), extra=[b'foo="bar"', b"cipher=rc4"])
digest("digest-md5-short-response", _digest_user(), response=b"0123456789abcdef")
digest("digest-md5-uppercase-response", _digest_user(),
       raw=lambda c, ch: c.response(ch, response=c.response_value(_nonce(ch)).upper()))
digest("digest-md5-authzid-equal", _digest_user(authzid=b"digestuser"))
digest("digest-md5-authzid-other", _digest_user(authzid=b"other"))
digest("digest-md5-authzid-empty", _digest_user(authzid=b""))
digest("digest-md5-username-twice", _digest_user(), extra=[b'username="other"'])
digest("digest-md5-cnonce-twice", _digest_user(), extra=[b'cnonce="x"'])
digest("digest-md5-empty-username", _digest_user(username=b""))
digest("digest-md5-realm-with-at-user", _digest_user(username=b"drealm@example.com", realm=b"example.com",
                                                      send_realm=False))
digest("digest-md5-missing-nonce", _digest_user(), raw=lambda c, ch: b'username="digestuser",cnonce="x",nc=00000001')
digest("digest-md5-missing-cnonce", _digest_user(),
       raw=lambda c, ch: b'username="digestuser",nonce="' + _nonce(ch) + b'",nc=00000001')
digest("digest-md5-missing-username", _digest_user(),
       raw=lambda c, ch: b'nonce="' + _nonce(ch) + b'",cnonce="abc",nc=00000001')
digest("digest-md5-empty-cnonce", _digest_user(cnonce=b""))
digest("digest-md5-empty-message", _digest_user(), raw=lambda c, ch: b"")
digest("digest-md5-garbage", _digest_user(), raw=lambda c, ch: b"this is not a digest response")
digest("digest-md5-nul", _digest_user(), raw=lambda c, ch: b'username="digest\0user"')
digest("digest-md5-whitespace-and-case", _digest_user(), raw=lambda c, ch: _spaced(c, ch, b" = "))
digest("digest-md5-whitespace-before-equals", _digest_user(), raw=lambda c, ch: _spaced(c, ch, b" ="))
digest("digest-md5-quoted-escapes", _digest_user(),
       raw=lambda c, ch: c.response(ch).replace(b'username="digestuser"', b'username="dig\\estuser"'))
digest("digest-md5-trailing-comma-and-spaces", _digest_user(), raw=lambda c, ch: b"  " + c.response(ch) + b" ,, ")
digest("digest-md5-realms-challenge", _digest_user(username=b"drealm", realm=b"example.com"), variant="realms")
digest("digest-md5-realms-unlisted-realm", _digest_user(username=b"drealm", realm=b"other.example"),
       variant="realms")
digest("digest-md5-realms-no-realm-sent", _digest_user(), variant="realms")


def _nonce(challenge: bytes) -> bytes:
    from mech_clients import parse_digest_challenge

    return parse_digest_challenge(challenge)["nonce"][0]


def _spaced(client: DigestMd5Client, challenge: bytes, equals: bytes) -> bytes:
    """Upper-case keys and linear white space around '=' and ',' (RFC 2831's #rule allows both)."""
    message = client.response(challenge)
    return b" , ".join(k.upper() + equals + v for k, v in (p.split(b"=", 1) for p in message.split(b",")))


# --- SCRAM -----------------------------------------------------------------------------------------

SCRAM_USERS = {"SCRAM-SHA-1": (b"scram1", "sha1"), "SCRAM-SHA-256": (b"scram256", "sha256")}


def scram(suffix: str, *, mechs: tuple[str, ...] = ("SCRAM-SHA-1", "SCRAM-SHA-256"), username: bytes | None = None,
          password: bytes = PASSWORD, gs2: bytes = b"n,,", first: Callable[[ScramClient], bytes] | None = None,
          final: Callable[[ScramClient, bytes], bytes] | None = None, initial: bool = True,
          params: dict[str, str] | None = None) -> None:
    for mech in mechs:
        default_user, hash_name = SCRAM_USERS[mech]

        def run(conv: Conversation, mech: str = mech, default_user: bytes = default_user,
                hash_name: str = hash_name) -> None:
            user = username if username is not None else default_user
            client = ScramClient(hash_name, user, password, gs2_header=gs2.replace(b"USER", user))
            message = first(client) if first else client.client_first()
            conv.client_nonce = client.cnonce
            if initial:
                reply = conv.start(message)
            else:
                reply = conv.start(None)
                if reply.verb != "CONT":
                    return
                reply = conv.send(message)
            if reply.verb != "CONT":
                return
            reply = conv.send(final(client, reply.data) if final else client.client_final(reply.data))
            if reply.verb == "CONT" and reply.data.startswith(b"v="):
                conv.note("server signature matches" if reply.data == client.server_signature
                          else "server signature MISMATCH")
            conv.finish(reply)

        SCENARIOS.append(Scenario(mech.lower() + "-" + suffix, mech, run, dict(params or {})))


scram("ok")
scram("ok-no-initial-response", initial=False)
scram("final-resp-ok", params={"final-resp-ok": ""})
scram("gs2-y", gs2=b"y,,")
scram("gs2-p", gs2=b"p=tls-unique,,")
scram("gs2-bad-flag", gs2=b"x,,")
scram("gs2-empty-flag", gs2=b",,")
scram("authzid-equal", gs2=b"n,a=USER,")
scram("authzid-other", gs2=b"n,a=other,")
scram("authzid-escaped", gs2=b"n,a=oth=3Der,")
scram("authzid-bad-escape", gs2=b"n,a=x=41,")
scram("authzid-bad-field", gs2=b"n,b=x,")
scram("authzid-extra-comma", gs2=b"n,a=USER,,")
scram("missing-first-comma", first=lambda c: b"n")
scram("missing-second-comma", first=lambda c: b"n,n=scram1")
scram("missing-nonce-field", first=lambda c: b"n,,n=scram1")
scram("username-field-wrong", first=lambda c: b"n,,u=scram1,r=abc")
scram("username-escaped-comma", username=b"scr,am")
scram("username-bad-escape", first=lambda c: b"n,,n=scr=41m,r=abc")
scram("mandatory-extension", first=lambda c: b"n,,m=ext,n=scram1,r=abc")
scram("nonce-field-wrong", first=lambda c: b"n,,n=USER,x=abc".replace(b"USER", c.username))
scram("empty-client-nonce", first=lambda c: (setattr(c, "cnonce", b"") or c.client_first()))
scram("client-first-extension", first=lambda c: c.client_first() + b",x=ext")
scram("nul", first=lambda c: b"n,,n=scr\0am,r=abc")
scram("wrong-password", password=b"wrong")
scram("unknown-user", username=b"nosuch")
scram("scheme-not-available", username=b"cramuser")
scram("bad-iteration-count", mechs=("SCRAM-SHA-1",), username=b"badscram")
scram("final-too-few-fields", final=lambda c, sf: b"c=biws,r=x")
scram("final-wrong-channel-binding", final=lambda c, sf: c.client_final(sf, channel_binding=b"c=eSws"))
scram("final-wrong-nonce", final=lambda c, sf: c.client_final(sf, nonce=b"wrongnonce"))
scram("final-extension", final=lambda c, sf: c.client_final(sf, extensions=b",x=ext"))
scram("final-proof-not-last", final=lambda c, sf: c.client_final(sf) + b",x=ext")
scram("final-proof-bad-base64", final=lambda c, sf: c.client_final(sf, proof_filter=lambda p: b",p=!!!!"))
scram("final-proof-short", final=lambda c, sf: c.client_final(
    sf, proof_filter=lambda p: b",p=" + base64.b64encode(p[:-1])))
scram("final-proof-key-other-letter", final=lambda c, sf: c.client_final(
    sf, proof_filter=lambda p: b",q=" + base64.b64encode(p)))
scram("final-empty", final=lambda c, sf: b"")
scram("final-nul", final=lambda c, sf: c.client_final(sf) + b"\0")

# A user whose stored SCRAM-SHA-256 credentials are asked for SCRAM-SHA-1 (and vice versa).
scram("cross-scheme", username=b"scram256", mechs=("SCRAM-SHA-1",))
