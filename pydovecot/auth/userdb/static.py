"""static userdb: the same fields for everyone (``uid=vmail gid=vmail home=/srv/vmail/%d/%n``).

Without ``allow_all_users=yes``, a lookup that does not follow an authentication (LMTP
delivery, ``doveadm user``) first asks the passdbs whether the user exists, as Dovecot does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.fields import FieldTemplate, parse_gid, parse_uid
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.interface import PassdbConfigError

from .interface import UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest

_TRUE = ("yes", "y", "1", "")


class StaticUserdb:
    driver = "static"

    def __init__(self, template: FieldTemplate, *, allow_all_users: bool = False) -> None:
        self.template = template
        self.allow_all_users = allow_all_users

    @classmethod
    def from_args(cls, args: str) -> StaticUserdb:
        template = FieldTemplate.parse(args)
        allow = False
        kept = []
        for name, value in template.pairs:
            if name == "allow_all_users":
                allow = value.lower() in _TRUE
                continue
            # Dovecot resolves constant uid/gid names when it starts, and refuses to start
            # when they do not exist.
            if name in ("uid", "gid") and "%" not in value:
                number = parse_uid(value) if name == "uid" else parse_gid(value)
                if number is None:
                    raise PassdbConfigError(f"static userdb: Invalid {name}: {value}")
                value = str(number)
            kept.append((name, value))
        return cls(FieldTemplate(tuple(kept)), allow_all_users=allow)

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        if not request.successful and not self.allow_all_users:
            check = request.passdb_existence_check
            if check is None:
                request.log("error", "passdb doesn't support lookups, can't verify user's existence")
                return UserdbResult.INTERNAL_FAILURE
            result = await check()
            if result in (PassdbResult.USER_UNKNOWN, PassdbResult.USER_DISABLED, PassdbResult.PASS_EXPIRED):
                return UserdbResult.USER_UNKNOWN
            if result is PassdbResult.SCHEME_NOT_AVAILABLE:
                request.log("error", "passdb doesn't support lookups, can't verify user's existence")
                return UserdbResult.INTERNAL_FAILURE
            if result is not PassdbResult.OK:
                return UserdbResult.INTERNAL_FAILURE
        error = self.template.export_userdb(request)
        if error is not None:
            request.log("error", f"Failed to expand template: {error}")
            return UserdbResult.INTERNAL_FAILURE
        return UserdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None
