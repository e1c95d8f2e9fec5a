"""What a protocol handler knows about the client connection it was given."""

from __future__ import annotations

from dataclasses import dataclass

from .session_id import new_session_id

_LOOPBACK = ("127.0.0.1", "::1")


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
    session_id: str = ""
    """Dovecot's session id; made from the time and the client's address when not given."""
    kind: str = "inet"
    """``inet``, ``unix`` or ``fifo``."""
    proxied: bool = False
    """The addresses came from a HAProxy PROXY header (``inet_listener { haproxy = yes }``)."""
    proxied_ssl: bool = False
    """The PROXY v2 header's PP2_TYPE_SSL said the client spoke TLS to the proxy."""
    local_name: str = ""
    """The name the client asked the proxy for (PP2_TYPE_AUTHORITY)."""
    cert_common_name: str = ""
    """The client certificate's CN as the proxy saw it (PP2_SUBTYPE_SSL_CN)."""

    def __post_init__(self) -> None:
        if not self.session_id:
            object.__setattr__(self, "session_id", new_session_id(self.remote_ip, self.remote_port))

    @property
    def secured(self) -> bool:
        """Dovecot's rule: TLS, a local socket, or a client on loopback or on the server's own address;
        behind a proxy (login-common's client_alloc) only TLS, the proxy's or ours."""
        if self.proxied:
            return self.tls or self.proxied_ssl
        return (self.tls or self.kind != "inet" or self.remote_ip in _LOOPBACK
                or (self.remote_ip is not None and self.remote_ip == self.local_ip))
