"""DIGEST-MD5 (RFC 2831), qop=auth only, as Dovecot 2.3 implements it.

Credentials consumed (scheme "DIGEST-MD5"): the 16 raw bytes MD5("user:realm:password") that
`doveadm pw -s DIGEST-MD5 -u user@realm` prints hex-encoded after `{DIGEST-MD5}` (with no
`@realm` in the name the realm is empty: MD5("user::password")).

The challenge lists auth_realms (or one empty realm), a nonce of 16 random bytes in base64,
qop="auth", charset="utf-8" and algorithm="md5-sess". The client's realm directive is not
checked against auth_realms; it only makes the username `user@realm` when the name has no '@'.
After a correct response the server's rspauth goes out with the success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Challenge, Event, PassdbReply, PassdbResult, Success
from .username import str_sanitize, to_bytes, to_text

QOP_NAMES = ("auth", "auth-int", "auth-conf")
QOP_AUTH = 1  # bit 0 of the qop set; integrity and confidentiality are not offered
_LWS = " \t"
_UINT_MAX = 2**32 - 1
_ULONG_MAX = 2**64 - 1


def _parse_unsigned(text: str, limit: int) -> int | None:
    """Dovecot's str_to_uint/str_to_ulong: decimal digits only, the whole string, no overflow."""
    if not text or not all("0" <= c <= "9" for c in text):
        return None
    value = int(text)
    return value if value <= limit else None


def _next_directive(text: str, pos: int) -> tuple[int, tuple[str, str] | None]:
    """One `key=value` from `pos`, with Dovecot's parse_next() quirks kept:
    an unquoted value keeps its leading blanks (only trailing ones go), a quoted value
    unescapes backslashes, and a key without '=' is skipped."""
    end = len(text)
    p = pos
    while p < end and text[p] in _LWS:
        p += 1
    key_start = p
    while p < end and text[p] not in "=,":
        p += 1
    if p >= end or text[p] != "=":
        return p, None
    key = text[key_start:p].rstrip(_LWS)
    value_start = p + 1
    p = value_start
    while p < end and text[p] in _LWS:
        p += 1
    if p < end and text[p] == '"':
        p += 1
        chars: list[str] = []
        while p < end and text[p] != '"':
            if text[p] == "\\" and p + 1 < end:
                p += 1
            chars.append(text[p])
            p += 1
        if p < end:
            p += 1  # the closing quote
        return p, (key, "".join(chars))
    while p < end and text[p] != ",":
        p += 1
    return p + 1, (key, text[value_start:p].rstrip(_LWS))


@dataclass
class _Response:
    """What the client's digest-response said."""

    username: str | None = None
    nonce_found: bool = False
    cnonce: str | None = None
    nonce_count: str | None = None
    qop: int = QOP_AUTH
    qop_value: str | None = None
    digest_uri: str | None = None
    maxbuf: int = 0
    response: str | None = None
    authzid: str | None = None


class DigestMd5Mechanism(Mechanism):
    info = MechanismInfo("DIGEST-MD5", SecurityFlag.DICTIONARY | SecurityFlag.ACTIVE | SecurityFlag.MUTUAL_AUTH,
                         PassdbNeed.LOOKUP_CREDENTIALS, credentials_scheme="DIGEST-MD5")

    nonce: str = ""
    parsed: _Response

    def _initial(self, data: bytes | None) -> Event:
        # Server speaks first; an initial response is ignored (no subsequent authentication).
        self.nonce = base64.b64encode(secrets.token_bytes(16)).decode()
        realms = "".join(f'realm="{realm}",' for realm in self.context.realms) or 'realm="",'
        qops = ",".join(name for bit, name in enumerate(QOP_NAMES) if QOP_AUTH & (1 << bit))
        return Challenge(f'{realms}nonce="{self.nonce}",qop="{qops}",charset="utf-8",'
                         'algorithm="md5-sess"'.encode())

    def _continue(self, data: bytes) -> Event:
        error = self._parse(data)
        if error is not None:
            return self._fail(error)
        assert self.parsed.username is not None
        username = self.parsed.username
        if self.fields.realm is not None and "@" not in username:
            username = username + "@" + self.fields.realm
            self.fields.domain_is_realm = True
        error = self.fields.set_username(username, self.context)
        if error is None and self.parsed.authzid is not None:
            error = self.fields.set_login_username(self.parsed.authzid, self.context)
        if error is not None:
            return self._fail(error)
        return self._lookup("DIGEST-MD5")

    def _parse(self, data: bytes) -> str | None:
        self.parsed = _Response()
        if not data:
            return "Client sent no input"
        text = to_text(data)
        pos = 0
        while pos < len(text):
            pos, directive = _next_directive(text, pos)
            if directive is not None:
                error = self._directive(directive[0].lower(), directive[1])
                if error is not None:
                    return error
            if pos < len(text) and text[pos] == ",":
                pos += 1
        if not self.parsed.nonce_found:
            return "Missing nonce parameter"
        if self.parsed.cnonce is None:
            return "Missing cnonce parameter"
        if self.parsed.username is None:
            return "Missing username parameter"
        if self.parsed.nonce_count is None:
            self.parsed.nonce_count = "00000001"
        if self.parsed.qop_value is None:
            self.parsed.qop_value = "auth"
        return None

    def _directive(self, key: str, value: str) -> str | None:  # noqa: C901 - one branch per directive
        parsed = self.parsed
        if key == "realm":
            if self.fields.realm is None and value != "":
                self.fields.realm = value
        elif key == "username":
            if parsed.username is not None:
                return "username must not exist more than once"
            if value == "":
                return "empty username"
            parsed.username = value
        elif key == "nonce":
            if value != self.nonce:
                return "Invalid nonce"
            parsed.nonce_found = True
        elif key == "cnonce":
            if parsed.cnonce is not None:
                return "cnonce must not exist more than once"
            if value == "":
                return "cnonce can't contain empty value"
            parsed.cnonce = value
        elif key == "nc":
            if parsed.nonce_count is not None:
                return "nonce-count must not exist more than once"
            count = _parse_unsigned(value, _UINT_MAX)  # decimal, although RFC 2831 says hex
            if count is None:
                return "nonce-count value invalid"
            if count != 1:
                return "re-auth not supported currently"
            parsed.nonce_count = value
        elif key == "qop":
            lowered = value.lower()
            if lowered not in QOP_NAMES:
                return "Unknown QoP value: " + str_sanitize(value, 32)
            parsed.qop &= 1 << QOP_NAMES.index(lowered)
            if parsed.qop == 0:
                return "Nonallowed QoP requested"
            parsed.qop_value = value
        elif key == "digest-uri":
            if len(value.split("/")) < 2:  # serv-type "/" host [ "/" serv-name ]
                return "Invalid digest-uri"
            parsed.digest_uri = value
        elif key == "maxbuf":
            if parsed.maxbuf != 0:
                return "maxbuf must not exist more than once"
            maxbuf = _parse_unsigned(value, _ULONG_MAX)
            if not maxbuf:
                return "Invalid maxbuf value"
            parsed.maxbuf = maxbuf
        elif key == "charset":
            if value.lower() != "utf-8":
                return "Only utf-8 charset is allowed"
        elif key == "response":
            if len(to_bytes(value)) != 32:
                return "Invalid response value"
            parsed.response = value
        elif key == "authzid":
            if parsed.authzid is not None:
                return "authzid must not exist more than once"
            if value == "":
                return "empty authzid"
            parsed.authzid = value
        # "cipher" and unknown directives are ignored.
        return None

    def _passdb(self, reply: PassdbReply) -> Event:
        if reply.result is not PassdbResult.OK:
            return self._passdb_failure(reply)
        credentials = reply.credentials or b""
        if len(credentials) != 16:
            return self._fail("invalid credentials length", "error")
        expected, rspauth = self._digests(credentials)
        # A missing response directive compares as empty: never equal.
        if not hmac.compare_digest(to_bytes(self.parsed.response or ""), expected):
            return self._fail("Password mismatch")
        return Success(self._success_user(), b"rspauth=" + rspauth)

    def _digests(self, credentials: bytes) -> tuple[bytes, bytes]:
        """(the response the client must have sent, the rspauth value) per RFC 2831 2.1.2.1."""
        parsed = self.parsed
        assert parsed.cnonce is not None and parsed.nonce_count is not None and parsed.qop_value is not None
        a1 = credentials + b":" + self.nonce.encode() + b":" + to_bytes(parsed.cnonce)
        if parsed.authzid is not None:
            a1 += b":" + to_bytes(parsed.authzid)
        a1_hex = hashlib.md5(a1).hexdigest().encode()
        uri = to_bytes(parsed.digest_uri or "")
        integrity = b":00000000000000000000000000000000" if parsed.qop != QOP_AUTH else b""
        tail = b":".join([self.nonce.encode(), to_bytes(parsed.nonce_count), to_bytes(parsed.cnonce),
                          to_bytes(parsed.qop_value)])

        def kd(a2: bytes) -> bytes:
            return hashlib.md5(a1_hex + b":" + tail + b":" + hashlib.md5(a2).hexdigest().encode()).hexdigest().encode()

        return kd(b"AUTHENTICATE:" + uri + integrity), kd(b":" + uri + integrity)
