"""An in-memory AuthBackend for the wire tests: the users of the recorded goldens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pydovecot.auth.mechanisms import PassdbResult
from pydovecot.auth.schemes.cram import cram_md5_context
from pydovecot.auth.service import PassdbAnswer, RequestInfo, UserdbAnswer, UserdbResult
from pydovecot.auth.wire.fields import AuthFields


@dataclass
class MemoryUser:
    password: bytes
    userdb: list[tuple[str, str]]
    # passdb extra fields with a userdb_ prefix: hidden from the client, as in passwd-file
    prefetch: list[tuple[str, str]] = field(default_factory=list)


def golden_users() -> dict[str, MemoryUser]:
    """The passwd-file users of tests/auth/wire/goldens/README.md."""
    return {
        "alice": MemoryUser(b"secret1", [("uid", "1000"), ("gid", "1000"), ("home", "/home/alice"),
                                         ("mail", "maildir:~/Maildir"), ("quota_rule", "*:storage=1G")],
                            prefetch=[("userdb_mail", "maildir:~/Maildir"), ("userdb_quota_rule", "*:storage=1G")]),
        "bob": MemoryUser(b"secret1", [("uid", "1001"), ("gid", "1001"), ("home", "/home/bob")]),
    }


class MemoryBackend:
    """Answers from a dict; `lookup_delay` makes every lookup yield to the loop for that long."""

    def __init__(self, users: dict[str, MemoryUser] | None = None, *, lookup_delay: float = 0.0,
                 broken_users: frozenset[str] = frozenset()) -> None:
        self.users = golden_users() if users is None else users
        self.lookup_delay = lookup_delay
        self.broken_users = broken_users  # lookups for these raise (an internal failure)
        self.lookups = 0

    async def _pause(self, user: str) -> MemoryUser | None:
        self.lookups += 1
        if self.lookup_delay:
            await asyncio.sleep(self.lookup_delay)
        if user in self.broken_users:
            raise OSError(f"backend for {user} is down")
        return self.users.get(user)

    async def verify_plain(self, user: str, password: bytes, request: RequestInfo) -> PassdbAnswer:
        entry = await self._pause(user)
        if entry is None:
            return PassdbAnswer(PassdbResult.USER_UNKNOWN)
        if entry.password != password:
            return PassdbAnswer(PassdbResult.PASSWORD_MISMATCH)
        return PassdbAnswer(PassdbResult.OK, fields=AuthFields.of(hidden=entry.prefetch))

    async def lookup_credentials(self, user: str, scheme: str, request: RequestInfo) -> PassdbAnswer:
        entry = await self._pause(user)
        if entry is None:
            return PassdbAnswer(PassdbResult.USER_UNKNOWN)
        if scheme == "":
            credentials = entry.password
        elif scheme == "CRAM-MD5":
            credentials = cram_md5_context(entry.password)
        else:
            return PassdbAnswer(PassdbResult.SCHEME_NOT_AVAILABLE)
        return PassdbAnswer(PassdbResult.OK, credentials=credentials, fields=AuthFields.of(hidden=entry.prefetch))

    async def lookup_user(self, user: str, request: RequestInfo) -> UserdbAnswer:
        entry = await self._pause(user)
        if entry is None:
            return UserdbAnswer(UserdbResult.USER_UNKNOWN)
        return UserdbAnswer(UserdbResult.OK, user, AuthFields.of(entry.userdb))

    async def iterate_users(self, request: RequestInfo) -> AsyncIterator[str]:
        for name in list(self.users):
            await asyncio.sleep(0)
            yield name
