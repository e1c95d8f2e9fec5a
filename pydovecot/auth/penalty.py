"""Auth failure penalty per remote IP, as Dovecot's auth_penalty with anvil's penalty table.

Each failed authentication raises the penalty of the client's IP by one (at most 4); the next
request from that IP waits ``2 << penalty`` seconds (4, 8, then 15 at most) before the
mechanism even starts, on top of auth_failure_delay. A success resets the penalty to 0.
Retrying the same user and password does not raise it (anvil remembers a checksum of the
last few pairs), and a penalty left alone for 15 seconds is gone. IPv6 addresses count per
/48. Requests without a remote IP, with the ``no-penalty`` flag (a login process's trusted
client) or from login_trusted_networks are never delayed.

The clock is injectable so that tests need no real sleeping.
"""

from __future__ import annotations

import ipaddress
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

INIT_SECS = 2  # AUTH_PENALTY_INIT_SECS
MAX_SECS = 15  # AUTH_PENALTY_MAX_SECS
MAX_PENALTY = 4  # AUTH_PENALTY_MAX_PENALTY
EXPIRE_SECS = 2 + 4 + 8 + 15  # AUTH_PENALTY_TIMEOUT: anvil forgets an IP after this long
IPV6_MASK_BITS = 48  # so that one IPv6 host cannot flood the table with addresses
CHECKSUMS_KEPT = 3  # anvil's PENALTY_CHECKSUM_SAVE_COUNT


def penalty_to_secs(penalty: int) -> int:
    """auth_penalty_to_secs: 2 doubled ``penalty`` times, at most 15."""
    return min(INIT_SECS << penalty, MAX_SECS)


def userpass_checksum(user: str, password: bytes | None) -> int:
    """Which user+password pair failed (0 when the mechanism had no plaintext password)."""
    if password is None:
        return 0
    return zlib.crc32(user.encode("utf-8", "surrogateescape"), zlib.crc32(password)) or 1


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """login_trusted_networks: addresses or networks separated by spaces or commas."""
    nets = []
    for word in text.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue  # a host name: the login process resolves those, we cannot
    return tuple(nets)


@dataclass
class _Record:
    penalty: int = 0
    last_penalty: float = 0.0  # when the penalty last went up (or was set)
    last_update: float = 0.0
    checksums: deque[int] = field(default_factory=lambda: deque(maxlen=CHECKSUMS_KEPT))


@dataclass
class AuthPenalty:
    clock: Callable[[], float] = time.monotonic
    trusted_networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()
    records: dict[str, _Record] = field(default_factory=dict)
    _next_expire: float = 0.0

    def ident(self, remote_ip: str | None, *, no_penalty: bool = False) -> str | None:
        """The table key for a request, or None when the request is exempt."""
        if not remote_ip or no_penalty:
            return None
        try:
            address = ipaddress.ip_address(remote_ip)
        except ValueError:
            return None
        if any(address in net for net in self.trusted_networks):
            return None
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/{IPV6_MASK_BITS}", strict=False).network_address)
        return str(address)

    def lookup(self, ident: str | None) -> int:
        """The current penalty (PENALTY-GET and the auth process's decay of it)."""
        if ident is None:
            return 0
        self._expire()
        record = self.records.get(ident)
        if record is None:
            return 0
        now = self.clock()
        penalty = record.penalty
        elapsed = now - min(record.last_penalty, now)  # the clock going backwards counts as now
        drop = MAX_PENALTY
        while penalty > 0 and elapsed >= penalty_to_secs(drop):
            drop -= 1
            penalty -= 1
        return penalty

    def delay(self, ident: str | None) -> tuple[int, float]:
        """(penalty, seconds to wait before the request starts)."""
        penalty = self.lookup(ident)
        return penalty, float(penalty_to_secs(penalty)) if penalty > 0 else 0.0

    def update(self, ident: str | None, value: int, checksum: int = 0) -> None:
        """PENALTY-INC: ``value`` is the looked-up penalty + 1 after a failure, 0 after a success."""
        if ident is None:
            return
        now = self.clock()
        value = min(value, MAX_PENALTY)
        record = self.records.setdefault(ident, _Record())
        if value == 0 or checksum == 0:
            record.penalty = value
            record.last_penalty = now
        elif checksum in record.checksums:
            # The same user and password again: a retry, not a new guess.
            record.penalty = value - 1
        else:
            record.checksums.append(checksum)
            record.penalty = value
            record.last_penalty = now
        record.last_update = now

    def _expire(self) -> None:
        # At most once a second: a full scan per lookup would cost O(IPs) under a flood.
        now = self.clock()
        if now < self._next_expire:
            return
        self._next_expire = now + 1
        for ident in [i for i, r in self.records.items() if now - r.last_update >= EXPIRE_SECS]:
            del self.records[ident]
