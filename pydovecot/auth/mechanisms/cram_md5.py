"""CRAM-MD5 (RFC 2195): the client returns HMAC-MD5(password, challenge) in hex.

Credentials consumed (scheme "CRAM-MD5", what `doveadm pw -s CRAM-MD5` prints after the
`{CRAM-MD5}` prefix, hex-decoded to 32 raw bytes): Dovecot's "HMAC-MD5 context", the MD5 chaining
state after the outer key block (key XOR 0x5c, 64 bytes) followed by the state after the inner
key block (key XOR 0x36), each as the four 32-bit words A, B, C, D in little-endian order.
Resuming MD5 from those states gives the HMAC without knowing the password, which is why the
stored value is password-equivalent for CRAM-MD5 but not a plaintext.
"""

from __future__ import annotations

import hmac
import math
import secrets
import struct
import time

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Challenge, Event, PassdbReply, PassdbResult, Success
from .username import to_text

CRAM_MD5_CONTEXT_LEN = 32

# MD5 (RFC 1321): per-round shift amounts and the sine-derived constants.
_SHIFTS = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
_CONSTANTS = [int(abs(math.sin(i + 1)) * 2**32) & 0xFFFFFFFF for i in range(64)]


def _rotate_left(x: int, amount: int) -> int:
    x &= 0xFFFFFFFF
    return ((x << amount) | (x >> (32 - amount))) & 0xFFFFFFFF


def _md5_compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    words = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | ~d), (7 * i) % 16
        f = (f + a + _CONSTANTS[i] + words[g]) & 0xFFFFFFFF
        a, d, c = d, c, b
        b = (b + _rotate_left(f, _SHIFTS[i])) & 0xFFFFFFFF
    return ((state[0] + a) & 0xFFFFFFFF, (state[1] + b) & 0xFFFFFFFF,
            (state[2] + c) & 0xFFFFFFFF, (state[3] + d) & 0xFFFFFFFF)


def md5_resume(state: tuple[int, int, int, int], data: bytes, already_hashed: int) -> bytes:
    """MD5 digest of (`already_hashed` bytes that led to `state`) + `data`."""
    total = already_hashed + len(data)
    message = data + b"\x80" + b"\0" * ((55 - total) % 64) + struct.pack("<Q", (total * 8) & (2**64 - 1))
    for offset in range(0, len(message), 64):
        state = _md5_compress(state, message[offset:offset + 64])
    return struct.pack("<4I", *state)


def hmac_md5_from_context(context: bytes, message: bytes) -> bytes:
    """HMAC-MD5 of `message` with the key whose Dovecot CRAM-MD5 context this is."""
    if len(context) != CRAM_MD5_CONTEXT_LEN:
        raise ValueError("a CRAM-MD5 context is 32 bytes")
    outer = struct.unpack("<4I", context[:16])
    inner = struct.unpack("<4I", context[16:])
    return md5_resume(outer, md5_resume(inner, message, 64), 64)


def make_challenge(hostname: str) -> bytes:
    """`<16 random digits.unix time@hostname>`, the shape Dovecot sends (RFC 2195 suggests it)."""
    digits = "".join(secrets.choice("0123456789") for _ in range(16))
    return f"<{digits}.{int(time.time())}@{hostname}>".encode()


class CramMd5Mechanism(Mechanism):
    info = MechanismInfo("CRAM-MD5", SecurityFlag.DICTIONARY | SecurityFlag.ACTIVE, PassdbNeed.VERIFY_RESPONSE,
                         credentials_scheme="CRAM-MD5")

    challenge: bytes = b""
    response: bytes = b""

    def _initial(self, data: bytes | None) -> Event:
        # The server speaks first; an initial response is ignored.
        self.challenge = make_challenge(self.context.hostname)
        return Challenge(self.challenge)

    def _continue(self, data: bytes) -> Event:
        # "<user> <digest>": the user may contain spaces, so the last space separates. A space
        # only at the very start counts as no separator at all.
        space = data.rfind(b" ")
        if space <= 0:
            return self._fail("missing digest")
        self.response = data[space + 1:]
        error = self.fields.set_username(to_text(data[:space]), self.context)
        if error is not None:
            return self._fail(error)
        return self._lookup("CRAM-MD5")

    def _passdb(self, reply: PassdbReply) -> Event:
        if reply.result is not PassdbResult.OK:
            return self._passdb_failure(reply)
        credentials = reply.credentials or b""
        if len(credentials) != CRAM_MD5_CONTEXT_LEN:
            return self._fail("invalid credentials length", "error")
        expected = hmac_md5_from_context(credentials, self.challenge).hex().encode()
        # Dovecot compares the first 32 characters only (case-sensitively): trailing garbage
        # after a correct digest passes, an upper-case digest does not.
        if not hmac.compare_digest(self.response[:32], expected):
            return self._fail("Password mismatch")
        return Success(self._success_user())
