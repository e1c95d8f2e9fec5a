"""Session ids as Dovecot's login processes make them (client_get_session_id() in login-common).

12 bytes for IPv4 (24 for IPv6), base64: the time in microseconds (6 bytes, little endian),
the remote port (2 bytes, little endian) and the remote address.  ``WlAJzx1hpst/AAAB`` ends in
``/AAAB`` because 127.0.0.1 is 7f 00 00 01.
"""

from __future__ import annotations

import base64
import ipaddress
import time


def new_session_id(remote_ip: str | None, remote_port: int | None, now_usecs: int | None = None) -> str:
    usecs = time.time_ns() // 1000 if now_usecs is None else now_usecs
    data = bytearray((usecs & 0xFFFFFFFFFFFF).to_bytes(6, "little"))
    data += ((remote_port or 0) & 0xFFFF).to_bytes(2, "little")
    if remote_ip:
        try:
            address = ipaddress.ip_address(remote_ip.split("%", 1)[0])
        except ValueError:
            address = None
        if address is not None:
            data += address.packed
    return base64.b64encode(bytes(data)).decode("ascii")


def decode_session_id(session: str) -> tuple[int, int, str | None]:
    """(microseconds, remote port, remote ip) from a session id (for tests and debugging)."""
    data = base64.b64decode(session)
    usecs = int.from_bytes(data[:6], "little")
    port = int.from_bytes(data[6:8], "little")
    ip = str(ipaddress.ip_address(data[8:])) if len(data) in (12, 24) else None
    return usecs, port, ip
