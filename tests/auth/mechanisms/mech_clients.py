"""SASL client sides written from the RFCs, independent of pydovecot's server code.

They drive both the real Dovecot (when recording goldens) and our mechanism objects, so the same
client bytes are judged by both servers. Each client computes what a correct client would send;
the scenarios then damage one field at a time to reach each failure point.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field


def plain_message(authcid: bytes, password: bytes, authzid: bytes = b"") -> bytes:
    """RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd."""
    return authzid + b"\0" + authcid + b"\0" + password


def cram_md5_response(user: bytes, password: bytes, challenge: bytes) -> bytes:
    """RFC 2195: the user name, a space, and the lowercase hex HMAC-MD5 of the challenge."""
    return user + b" " + hmac.new(password, challenge, hashlib.md5).hexdigest().encode()


_DIGEST_PAIR = re.compile(rb'\s*([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*,?')


def parse_digest_challenge(challenge: bytes) -> dict[str, list[bytes]]:
    """RFC 2831 section 2.1.1 directives; realm may repeat, so every value is a list."""
    found: dict[str, list[bytes]] = {}
    for match in _DIGEST_PAIR.finditer(challenge):
        quoted = match.group(2)
        value = re.sub(rb"\\(.)", rb"\1", quoted) if quoted is not None else match.group(3)
        found.setdefault(match.group(1).decode().lower(), []).append(value)
    return found


def _md5_hex(data: bytes) -> bytes:
    return hashlib.md5(data).hexdigest().encode()


@dataclass
class DigestMd5Client:
    """RFC 2831 client for qop=auth: computes the response and the rspauth it expects back."""

    username: bytes
    password: bytes
    realm: bytes = b""
    cnonce: bytes = b"OA6MHXh6VqTrRk"
    digest_uri: bytes | None = b"imap/localhost"
    qop: bytes | None = b"auth"
    nc: bytes | None = b"00000001"
    authzid: bytes | None = None
    send_realm: bool = True
    expected_rspauth: bytes = b""

    def response_value(self, nonce: bytes) -> bytes:
        secret = hashlib.md5(self.username + b":" + self.realm + b":" + self.password).digest()
        a1 = secret + b":" + nonce + b":" + self.cnonce
        if self.authzid:
            a1 += b":" + self.authzid
        qop = self.qop if self.qop is not None else b"auth"
        nc = self.nc if self.nc is not None else b"00000001"
        uri = self.digest_uri if self.digest_uri is not None else b""
        a2_tail = b":00000000000000000000000000000000" if qop in (b"auth-int", b"auth-conf") else b""
        ha1 = _md5_hex(a1)

        def kd(a2: bytes) -> bytes:
            return _md5_hex(ha1 + b":" + nonce + b":" + nc + b":" + self.cnonce + b":" + qop + b":" + _md5_hex(a2))

        self.expected_rspauth = b"rspauth=" + kd(b":" + uri + a2_tail)
        return kd(b"AUTHENTICATE:" + uri + a2_tail)

    def response(self, challenge: bytes, *, nonce: bytes | None = None, response: bytes | None = None,
                 extra: list[bytes] | None = None) -> bytes:
        """The digest-response; `nonce`/`response` override the computed values to make bad ones."""
        server_nonce = parse_digest_challenge(challenge)["nonce"][0]
        value = self.response_value(server_nonce) if response is None else response
        parts = [b'username="' + self.username + b'"']
        if self.send_realm and self.realm:
            parts.append(b'realm="' + self.realm + b'"')
        parts.append(b'nonce="' + (server_nonce if nonce is None else nonce) + b'"')
        parts.append(b'cnonce="' + self.cnonce + b'"')
        if self.nc is not None:
            parts.append(b"nc=" + self.nc)
        if self.qop is not None:
            parts.append(b"qop=" + self.qop)
        if self.digest_uri is not None:
            parts.append(b'digest-uri="' + self.digest_uri + b'"')
        parts.append(b"response=" + value)
        if self.authzid is not None:
            parts.append(b'authzid="' + self.authzid + b'"')
        parts.extend(extra or [])
        return b",".join(parts)


def scram_escape(name: bytes) -> bytes:
    """RFC 5802 5.1: ',' and '=' in a saslname travel as =2C and =3D."""
    return name.replace(b"=", b"=3D").replace(b",", b"=2C")


@dataclass
class ScramClient:
    """RFC 5802 client (no channel binding) for SCRAM-SHA-1 and SCRAM-SHA-256."""

    hash_name: str
    username: bytes
    password: bytes
    cnonce: bytes = b"fyko+d2lbbFgONRv9qkxdawL"
    gs2_header: bytes = b"n,,"
    server_signature: bytes = field(default=b"", init=False)
    first_bare: bytes = field(default=b"", init=False)

    def client_first(self) -> bytes:
        self.first_bare = b"n=" + scram_escape(self.username) + b",r=" + self.cnonce
        return self.gs2_header + self.first_bare

    def client_final(self, server_first: bytes, *, channel_binding: bytes | None = None,
                     nonce: bytes | None = None, extensions: bytes = b"",
                     proof_filter: object = None) -> bytes:
        attrs = dict(item.split(b"=", 1) for item in server_first.split(b","))
        salt = base64.b64decode(attrs[b"s"])
        iterations = int(attrs[b"i"])
        salted = hashlib.pbkdf2_hmac(self.hash_name, self.password, salt, iterations)
        client_key = hmac.new(salted, b"Client Key", self.hash_name).digest()
        stored_key = hashlib.new(self.hash_name, client_key).digest()
        binding = channel_binding if channel_binding is not None else b"c=" + base64.b64encode(self.gs2_header)
        without_proof = binding + b",r=" + (attrs[b"r"] if nonce is None else nonce) + extensions
        auth_message = self.first_bare + b"," + server_first + b"," + without_proof
        signature = hmac.new(stored_key, auth_message, self.hash_name).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.new(salted, b"Server Key", self.hash_name).digest()
        self.server_signature = b"v=" + base64.b64encode(hmac.new(server_key, auth_message, self.hash_name).digest())
        if callable(proof_filter):
            return without_proof + proof_filter(proof)
        return without_proof + b",p=" + base64.b64encode(proof)


def scram_credentials(hash_name: str, password: bytes, salt: bytes, iterations: int = 4096) -> bytes:
    """What `doveadm pw -s SCRAM-SHA-*` stores: iterations,salt,StoredKey,ServerKey (base64)."""
    salted = hashlib.pbkdf2_hmac(hash_name, password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    return b",".join([str(iterations).encode(), base64.b64encode(salt), base64.b64encode(stored_key),
                      base64.b64encode(server_key)])


def digest_md5_credentials(user: bytes, realm: bytes, password: bytes) -> bytes:
    """What `doveadm pw -s DIGEST-MD5 -u user@realm` stores, as raw bytes: MD5(user:realm:pass)."""
    return hashlib.md5(user + b":" + realm + b":" + password).digest()
