"""Session ids of LMTP and LDA deliveries: Dovecot's guid_128 in base64 without padding.

Unlike the login processes' ids (login/session_id.py) these come from guid_128_generate():
nanoseconds (4 bytes LE), seconds (4 bytes LE), pid (4 bytes LE) and 4 bytes of a hash of
the host name, e.g. ``G654NIMmB2ttPAAAg+zDdQ``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time


def _host_hash() -> bytes:
    return hashlib.sha1(socket.gethostname().encode()).digest()[:4]


_HOST = _host_hash()


def new_delivery_session_id(now_ns: int | None = None) -> str:
    ns = time.time_ns() if now_ns is None else now_ns
    sec, nsec = divmod(ns, 1_000_000_000)
    raw = (nsec.to_bytes(4, "little") + (sec & 0xFFFFFFFF).to_bytes(4, "little")
           + (os.getpid() & 0xFFFFFFFF).to_bytes(4, "little") + _HOST)
    return base64.b64encode(raw).decode("ascii").rstrip("=")
