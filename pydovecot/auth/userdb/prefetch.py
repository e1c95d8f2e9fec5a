"""prefetch userdb: returns the ``userdb_*`` fields the passdb already gave (no lookup)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class PrefetchUserdb:
    driver = "prefetch"
    # Set by the chain: whether other userdbs follow (changes what is logged, as in Dovecot).
    is_only_userdb = True

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        if request.userdb_prefetch_set:
            return UserdbResult.OK
        if self.is_only_userdb:
            # Nothing else could know the user: Dovecot answers a temporary failure here
            # (doveadm user exits 75), not "unknown user".
            if not request.successful:
                request.log("error", "userdb lookup not possible with only userdb prefetch")
            else:
                request.log("error", "passdb didn't return userdb entries")
            return UserdbResult.INTERNAL_FAILURE
        request.log("debug", "passdb didn't return userdb entries, trying the next userdb")
        return UserdbResult.USER_UNKNOWN

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None
