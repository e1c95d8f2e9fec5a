"""The per-request facts a mechanism needs: who connects, how, and the auth settings it reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# auth_username_chars default in Dovecot 2.3 (note the doubled 0: it is in Dovecot's default too).
DEFAULT_USERNAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"


def ascii_lower(name: str) -> str:
    """`auth_username_format = %Lu` (the default): Dovecot lowercases ASCII letters only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


@dataclass(frozen=True)
class UsernameRules:
    """The settings auth_request_set_username applies to every username a mechanism sets.

    `username_format` stands for auth_username_format: a function from the username to its
    expansion (the service builds it with varexpand); None means the setting is empty."""

    username_chars: str = DEFAULT_USERNAME_CHARS  # "" allows every byte
    username_translation: str = ""  # auth_username_translation: pairs "from to from to..."
    default_realm: str = ""  # auth_default_realm
    master_user_separator: str = ""  # auth_master_user_separator
    username_format: Callable[[str], str] | None = ascii_lower


@dataclass(frozen=True)
class AuthRequestContext:
    """What the AUTH command and the settings say about one authentication request."""

    service: str = "imap"
    local_ip: str | None = None
    remote_ip: str | None = None
    secured: bool = False  # TLS or a trusted local connection
    valid_client_cert: bool = False
    # The username from the client certificate, set by the service only when
    # auth_ssl_username_from_cert = yes (Dovecot ignores cert_username otherwise).
    cert_username: str | None = None
    realms: tuple[str, ...] = ()  # auth_realms, advertised by DIGEST-MD5
    anonymous_username: str = "anonymous"  # auth_anonymous_username
    has_master_passdbs: bool = False  # any `passdb { master = yes }`: authzid needs one
    username_rules: UsernameRules = field(default_factory=UsernameRules)
    # The host name CRAM-MD5 puts in its challenge (Dovecot's my_hostname).
    hostname: str = "localhost"
