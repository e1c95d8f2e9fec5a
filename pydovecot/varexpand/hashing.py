"""Hash methods behind %{md5:user}, %{sha256;rounds=..,truncate=..:field} and %{pkcs5:..}."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable


def _md4(data: bytes) -> bytes:
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it through hashlib."""

    def rotl(x: int, s: int) -> int:
        x &= 0xFFFFFFFF
        return ((x << s) | (x >> (32 - s))) & 0xFFFFFFFF

    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", (len(data) * 8) & (2**64 - 1))
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for chunk in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[chunk : chunk + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in (0, 4, 8, 12):
            a = rotl(a + ((b & c) | (~b & d)) + x[i], 3)
            d = rotl(d + ((a & b) | (~a & c)) + x[i + 1], 7)
            c = rotl(c + ((d & a) | (~d & b)) + x[i + 2], 11)
            b = rotl(b + ((c & d) | (~c & a)) + x[i + 3], 19)
        for i in (0, 1, 2, 3):
            a = rotl(a + ((b & c) | (b & d) | (c & d)) + x[i] + 0x5A827999, 3)
            d = rotl(d + ((a & b) | (a & c) | (b & c)) + x[i + 4] + 0x5A827999, 5)
            c = rotl(c + ((d & a) | (d & b) | (a & b)) + x[i + 8] + 0x5A827999, 9)
            b = rotl(b + ((c & d) | (c & a) | (d & a)) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = rotl(a + (b ^ c ^ d) + x[i] + 0x6ED9EBA1, 3)
            d = rotl(d + (a ^ b ^ c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = rotl(c + (d ^ a ^ b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = rotl(b + (c ^ d ^ a) + x[i + 12] + 0x6ED9EBA1, 15)
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def _size_digest(data: bytes) -> bytes:
    # Dovecot's "size" hash method just counts bytes, as a 64-bit big-endian number.
    return struct.pack(">Q", len(data))


# name -> (digest function, digest size); the names Dovecot 2.3.19 registers, matched exactly.
HASH_METHODS: dict[str, tuple[Callable[[bytes], bytes], int]] = {
    "md4": (_md4, 16),
    "md5": (lambda d: hashlib.md5(d).digest(), 16),
    "sha1": (lambda d: hashlib.sha1(d).digest(), 20),
    "sha256": (lambda d: hashlib.sha256(d).digest(), 32),
    "sha384": (lambda d: hashlib.sha384(d).digest(), 48),
    "sha512": (lambda d: hashlib.sha512(d).digest(), 64),
    "sha3-256": (lambda d: hashlib.sha3_256(d).digest(), 32),
    "sha3-512": (lambda d: hashlib.sha3_512(d).digest(), 64),
    "size": (_size_digest, 8),
}
# PBKDF2 output length Dovecot asks for (its HMAC context size on 64-bit builds).
PKCS5_LENGTH = 336
PKCS5_ROUNDS = 2048


def truncate_bits(digest: bytes, bits: int) -> bytes:
    """Keep the first ``bits`` bits, right-aligned in the fewest bytes (buffer_truncate_rshift_bits)."""
    nbytes = (bits + 7) // 8
    value = int.from_bytes(digest[:nbytes], "big") >> (nbytes * 8 - bits)
    return value.to_bytes(nbytes, "big")


def parse_uint(text: bytes) -> int | None:
    if not text or not text.isdigit():
        return None
    value = int(text)
    return value if value <= 0xFFFFFFFF else None
