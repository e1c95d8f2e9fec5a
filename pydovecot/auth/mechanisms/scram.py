"""SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, as Dovecot 2.3.19.

Dovecot 2.3 has no -PLUS variants: a client asking for channel binding ("p=...") fails, and
"y" (client could bind, thinks the server cannot) is accepted like "n".

Credentials consumed (scheme "SCRAM-SHA-1" / "SCRAM-SHA-256"), the text `doveadm pw` prints after
`{SCRAM-SHA-...}`: `iterations,salt,StoredKey,ServerKey` where salt, StoredKey and ServerKey
are base64; the iteration count must be 4096..2147483647 and both keys exactly one digest long.
The salt is passed to the client as stored, without decoding it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Challenge, Event, PassdbReply, PassdbResult, Success
from .username import to_text

SCRAM_MIN_ITERATIONS = 4096
SCRAM_MAX_ITERATIONS = 2**31 - 1
SERVER_NONCE_LEN = 64


def decode_base64(text: bytes) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def scram_unescape(name: bytes) -> bytes | None:
    """RFC 5802 5.1: '=2C' is ',' and '=3D' is '='; any other '=' makes the name invalid."""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i:i + 1] == b"=":
            code = name[i + 1:i + 3]
            if code == b"2C":
                out += b","
            elif code == b"3D":
                out += b"="
            else:
                return None
            i += 3
        else:
            out.append(name[i])
            i += 1
    return bytes(out)


def make_server_nonce() -> bytes:
    """64 printable characters ('!'..'}'), with ',' (the SCRAM separator) replaced by '~'."""
    chars = bytes(33 + b % 93 for b in secrets.token_bytes(SERVER_NONCE_LEN))
    return chars.replace(b",", b"~")


def parse_scram_credentials(credentials: bytes, scheme: str, digest_size: int
                            ) -> tuple[int, bytes, bytes, bytes] | str:
    """(iterations, salt as stored, StoredKey, ServerKey) or Dovecot's error message."""
    fields = credentials.split(b",")
    if len(fields) != 4:
        return f"Invalid {scheme} passdb entry format"
    count = fields[0].decode("latin-1")
    if not count.isdigit() or not count.isascii() or not (SCRAM_MIN_ITERATIONS <= int(count) <= SCRAM_MAX_ITERATIONS):
        return f"Invalid {scheme} iteration count in passdb"
    stored_key = decode_base64(fields[2])
    if stored_key is None or len(stored_key) != digest_size:
        return f"Invalid {scheme} StoredKey in passdb"
    server_key = decode_base64(fields[3])
    if server_key is None or len(server_key) != digest_size:
        return f"Invalid {scheme} ServerKey in passdb"
    return int(count), fields[1], stored_key, server_key


class ScramMechanism(Mechanism):
    """The shared state machine; subclasses pick the hash."""

    hash_name: str = ""

    gs2_header: bytes = b""
    client_nonce: bytes = b""
    client_first_bare: bytes = b""
    server_nonce: bytes = b""
    server_first: bytes = b""
    stored_key: bytes = b""
    server_key: bytes = b""

    @property
    def digest_size(self) -> int:
        return hashlib.new(self.hash_name).digest_size

    def _continue(self, data: bytes) -> Event:
        if not self.server_first:
            return self._client_first(data)
        return self._client_final(data)

    def _client_first(self, data: bytes) -> Event:
        # gs2-header = gs2-cbind-flag "," [authzid] "," ; then username "," nonce ["," ext]
        first_comma = data.find(b",")
        if first_comma < 0:
            return self._fail("Invalid initial client message: Missing first ',' in GS2 header")
        second_comma = data.find(b",", first_comma + 1)
        if second_comma < 0:
            return self._fail("Invalid initial client message: Missing second ',' in GS2 header")
        cbind_flag = data[:first_comma]
        authzid_field = data[first_comma + 1:second_comma]
        bare = data[second_comma + 1:]
        fields = bare.split(b",")
        if len(fields) < 2:
            return self._fail("Invalid initial client message: Missing nonce field")
        username_field, nonce_field = fields[0], fields[1]

        if cbind_flag[:1] == b"p":
            return self._fail("Channel binding not supported")
        if cbind_flag[:1] not in (b"y", b"n"):  # only the first character is looked at
            return self._fail("Invalid GS2 header")

        authzid = None
        if authzid_field.startswith(b"a="):
            authzid = scram_unescape(authzid_field[2:])
            if authzid is None:
                return self._fail("authzid escaping is invalid")
        elif authzid_field:
            return self._fail("Invalid authzid field")

        if username_field[:1] == b"m":
            return self._fail("Mandatory extension(s) not supported")
        if not username_field.startswith(b"n="):
            return self._fail("Invalid username field")
        username = scram_unescape(username_field[2:])
        if username is None:
            return self._fail("Username escaping is invalid")
        error = self.fields.set_username(to_text(username), self.context)
        if error is None and authzid is not None:
            error = self.fields.set_login_username(to_text(authzid), self.context)
        if error is not None:
            return self._fail(error)

        if not nonce_field.startswith(b"r="):
            return self._fail("Invalid client nonce")
        self.client_nonce = nonce_field[2:]
        self.gs2_header = data[:second_comma + 1]
        self.client_first_bare = bare
        return self._lookup(self.info.name)

    def _passdb(self, reply: PassdbReply) -> Event:
        if reply.result is not PassdbResult.OK:
            return self._passdb_failure(reply)
        parsed = parse_scram_credentials(reply.credentials or b"", self.info.name, self.digest_size)
        if isinstance(parsed, str):
            return self._fail(parsed)
        iterations, salt, self.stored_key, self.server_key = parsed
        self.server_nonce = make_server_nonce()
        self.server_first = b"r=%s%s,s=%s,i=%d" % (self.client_nonce, self.server_nonce, salt, iterations)
        return Challenge(self.server_first)

    def _client_final(self, data: bytes) -> Event:
        # channel-binding "," nonce ["," extensions] "," proof
        fields = data.split(b",")
        if len(fields) < 3:
            return self._fail("Invalid final client message")
        if fields[0] != b"c=" + base64.b64encode(self.gs2_header):
            return self._fail("Invalid channel binding data")
        if fields[1] != b"r=" + self.client_nonce + self.server_nonce:
            return self._fail("Wrong nonce")
        proof_field = fields[-1]
        if proof_field[:1] != b"p":  # Dovecot checks the letter only, then decodes from offset 2
            return self._fail("Invalid ClientProof")
        proof = decode_base64(proof_field[2:])
        if proof is None:
            return self._fail("Invalid base64 encoding")
        if len(proof) != self.digest_size:
            return self._fail("Invalid ClientProof length")
        without_proof = b",".join(fields[:-1])
        auth_message = self.client_first_bare + b"," + self.server_first + b"," + without_proof
        client_signature = hmac.new(self.stored_key, auth_message, self.hash_name).digest()
        client_key = bytes(p ^ s for p, s in zip(proof, client_signature, strict=True))
        if not hmac.compare_digest(hashlib.new(self.hash_name, client_key).digest(), self.stored_key):
            return self._fail("Password mismatch")
        server_signature = hmac.new(self.server_key, auth_message, self.hash_name).digest()
        return Success(self._success_user(), b"v=" + base64.b64encode(server_signature))


class ScramSha1Mechanism(ScramMechanism):
    info = MechanismInfo("SCRAM-SHA-1", SecurityFlag.MUTUAL_AUTH, PassdbNeed.LOOKUP_CREDENTIALS,
                         credentials_scheme="SCRAM-SHA-1")
    hash_name = "sha1"


class ScramSha256Mechanism(ScramMechanism):
    info = MechanismInfo("SCRAM-SHA-256", SecurityFlag.MUTUAL_AUTH, PassdbNeed.LOOKUP_CREDENTIALS,
                         credentials_scheme="SCRAM-SHA-256")
    hash_name = "sha256"
