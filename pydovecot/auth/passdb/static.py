"""static passdb: every user exists, with the password (and fields) given in args.

``args = password=secret`` or ``args = nopassword=y allow_nets=10.0.0.0/8``; values are
%-expanded per request. Without a password and without ``nopassword``, logins fail with
"No password returned (and no nopassword)" as in Dovecot. The default scheme is PLAIN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydovecot.auth.fields import FieldTemplate
from pydovecot.auth.mechanisms.events import PassdbResult

from .password import credentials_for, verify_password

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest


class StaticPassdb:
    driver = "static"
    default_pass_scheme = "PLAIN"

    def __init__(self, template: FieldTemplate) -> None:
        self.template = template

    @classmethod
    def from_args(cls, args: str) -> StaticPassdb:
        return cls(FieldTemplate.parse(args))

    def _apply(self, request: AuthRequest) -> PassdbResult:
        request.log("debug", "lookup")
        error = self.template.export_passdb(request, self.default_pass_scheme)
        if error is not None:
            request.log("error", f"Failed to expand args: {error}")
            return PassdbResult.INTERNAL_FAILURE
        return PassdbResult.OK

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbResult:
        result = self._apply(request)
        if result is not PassdbResult.OK:
            return result
        return await verify_password(request, password, request.passdb_password, self.default_pass_scheme)

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> tuple[PassdbResult, bytes | None]:
        result = self._apply(request)
        if result is not PassdbResult.OK:
            return result, None
        return await credentials_for(request, request.passdb_password, scheme, self.default_pass_scheme)

    def iterate(self) -> AsyncIterator[str] | None:
        return None

    async def close(self) -> None:
        return None
