"""What a protocol handler knows about the client connection it was given."""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field


def new_session_id() -> str:
    """A session id like Dovecot's: 12 bytes (time, pid, random) in base64 without padding."""
    raw = int(time.time() * 1_000_000).to_bytes(8, "big")[-6:] + os.getpid().to_bytes(4, "big")[-2:] + os.urandom(4)
    return base64.b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class ConnectionInfo:
    local_ip: str | None
    local_port: int | None
    remote_ip: str | None
    remote_port: int | None
    listener: str = ""
    """The listener's name (``imap``, ``imaps``, ``lmtp``) or unix socket path."""
    tls: bool = False
    """The connection is already TLS (an ``ssl = yes`` listener)."""
    session_id: str = field(default_factory=new_session_id)

    @property
    def secured(self) -> bool:
        """TLS, a unix socket, or a client on the server's own address (Dovecot's rule)."""
        return self.tls or self.remote_ip is None or self.remote_ip == self.local_ip
