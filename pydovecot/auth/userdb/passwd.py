"""passwd userdb: uid, gid and home of a system account (getpwnam on a worker thread)."""

from __future__ import annotations

import asyncio
import pwd
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


def _getpwnam(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


async def _iterate_accounts() -> AsyncIterator[str]:
    for entry in await asyncio.to_thread(pwd.getpwall):
        yield entry.pw_name


class PasswdUserdb:
    driver = "passwd"

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        entry = await asyncio.to_thread(_getpwnam, request.user)
        if entry is None:
            request.log("info", "unknown user")
            return UserdbResult.USER_UNKNOWN
        request.set_userdb_field("system_groups_user", entry.pw_name)
        request.set_userdb_field("uid", str(entry.pw_uid))
        request.set_userdb_field("gid", str(entry.pw_gid))
        request.set_userdb_field("home", entry.pw_dir)
        return UserdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return _iterate_accounts()

    async def close(self) -> None:
        return None
