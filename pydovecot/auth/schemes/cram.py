"""CRAM-MD5 / HMAC-MD5: the HMAC-MD5 key schedule, stored so the password itself is not.

HMAC-MD5(key, msg) = MD5(opad-block || MD5(ipad-block || msg)). Both pad blocks are
exactly one 64-byte MD5 block, so the MD5 state after each is a fixed function of the
password; CRAM-MD5 can be answered from those two states alone. Dovecot stores them as
32 bytes: the outer state's four words, then the inner state's, each little-endian.
No library exports MD5's intermediate state, hence the one-block compression below.
"""

from __future__ import annotations

import hashlib
import math
import struct

from .model import Encoding, GenerateParams, PasswordScheme

_MASK = 0xFFFFFFFF
_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
_SHIFTS = (7, 12, 17, 22) * 4 + (5, 9, 14, 20) * 4 + (4, 11, 16, 23) * 4 + (6, 10, 15, 21) * 4
_CONSTANTS = tuple(int(abs(math.sin(i + 1)) * 2**32) & _MASK for i in range(64))


def _rotate_left(value: int, count: int) -> int:
    return ((value << count) | (value >> (32 - count))) & _MASK


def md5_compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    """MD5's compression function on one 64-byte block (RFC 1321, section 3.4)."""
    words = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(64):
        if i < 16:
            mixed, index = (b & c) | (~b & _MASK & d), i
        elif i < 32:
            mixed, index = (d & b) | (~d & _MASK & c), (5 * i + 1) % 16
        elif i < 48:
            mixed, index = b ^ c ^ d, (3 * i + 5) % 16
        else:
            mixed, index = c ^ (b | (~d & _MASK)), (7 * i) % 16
        rotated = _rotate_left((a + mixed + _CONSTANTS[i] + words[index]) & _MASK, _SHIFTS[i])
        a, b, c, d = d, (b + rotated) & _MASK, b, c
    return tuple((x + y) & _MASK for x, y in zip(state, (a, b, c, d), strict=True))  # type: ignore[return-value]


def cram_md5_context(plaintext: bytes) -> bytes:
    key = hashlib.md5(plaintext).digest() if len(plaintext) > 64 else plaintext
    key = key.ljust(64, b"\0")
    inner = md5_compress(_IV, bytes(k ^ 0x36 for k in key))
    outer = md5_compress(_IV, bytes(k ^ 0x5C for k in key))
    return struct.pack("<8I", *outer, *inner)


def generate_cram_md5(plaintext: bytes, params: GenerateParams) -> bytes:
    return cram_md5_context(plaintext)


SCHEMES = (
    PasswordScheme("CRAM-MD5", generate_cram_md5, Encoding.HEX, raw_length=32),
    PasswordScheme("HMAC-MD5", generate_cram_md5, Encoding.HEX, raw_length=32),
)
