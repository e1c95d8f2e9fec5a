"""passwd and shadow passdbs: the system's user database.

``passwd`` takes the password from getpwnam() (rarely useful: it is "x" when shadow passwords
are in use); ``shadow`` reads ``/etc/shadow`` itself (no spwd module, which Python 3.13 drops).
The default scheme of both is CRYPT. Lookups run on a worker thread (NSS may block).
"""

from __future__ import annotations

import asyncio
import pwd
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from pydovecot.auth.mechanisms.events import PassdbResult

from .password import StoredPasswordPassdb

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest

SHADOW_PATH = "/etc/shadow"

# Under privilege separation the auth process runs as default_internal_user, which may not read
# /etc/shadow: there, the system's shadow file is read by the root auth-worker
# (master/auth_process.py), which installs its client here.  None: read it ourselves.
ShadowReader = Callable[[str], Awaitable[str | None]]
_shadow_reader: ShadowReader | None = None


def set_shadow_reader(reader: ShadowReader | None) -> None:
    global _shadow_reader
    _shadow_reader = reader


def _getpwnam(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def read_shadow_entry(path: str, name: str) -> str | None:
    """The encrypted password of ``name`` in a shadow file, None when absent."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(":")
            if len(parts) >= 2 and parts[0] == name:
                return parts[1]
    return None


class _SystemPassdb(StoredPasswordPassdb):
    driver = ""
    default_pass_scheme = "CRYPT"

    @abstractmethod
    async def _password(self, request: AuthRequest) -> tuple[PassdbResult, str | None]:
        """The user's stored password from the system database (passwd or shadow)."""

    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        result, stored = await self._password(request)
        if result is not PassdbResult.OK:
            return result
        if stored is None:
            request.log("info", "unknown user")
            return PassdbResult.USER_UNKNOWN
        if stored in ("", "*", "!", "!!") or stored.startswith("!"):
            request.log("info", "Password disabled" if stored else "No password")
            return PassdbResult.USER_DISABLED
        request.set_field("password", stored, self.default_pass_scheme)
        return PassdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None


class PasswdPassdb(_SystemPassdb):
    driver = "passwd"

    @classmethod
    def from_args(cls, args: str) -> PasswdPassdb:
        return cls()

    async def _password(self, request: AuthRequest) -> tuple[PassdbResult, str | None]:
        entry = await asyncio.to_thread(_getpwnam, request.user)
        return PassdbResult.OK, (None if entry is None else entry.pw_passwd)


class ShadowPassdb(_SystemPassdb):
    driver = "shadow"

    def __init__(self, path: str = SHADOW_PATH) -> None:
        self.path = path

    @classmethod
    def from_args(cls, args: str) -> ShadowPassdb:
        return cls()

    async def _password(self, request: AuthRequest) -> tuple[PassdbResult, str | None]:
        try:
            if _shadow_reader is not None and self.path == SHADOW_PATH:
                return PassdbResult.OK, await _shadow_reader(request.user)
            return PassdbResult.OK, await asyncio.to_thread(read_shadow_entry, self.path, request.user)
        except OSError as exc:
            request.log("error", f"open({self.path}) failed: {exc.strerror}")
            return PassdbResult.INTERNAL_FAILURE, None
