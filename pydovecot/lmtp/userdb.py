"""The userdb lookup of a delivery's recipient, as Dovecot's auth-master USER request does it.

The auth process first normalises the name (auth_username_chars, _translation, default realm,
auth_username_format — by default lowercasing: ``Bob@EXAMPLE.test`` is ``bob@example.test``),
then asks the userdbs. We call the auth service in-process, so the normalising is done here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydovecot.auth.mechanisms.context import UsernameRules, ascii_lower
from pydovecot.auth.mechanisms.username import fix_username
from pydovecot.auth.service import RequestInfo, UserdbAnswer, UserdbResult


class UserdbBackend(Protocol):
    async def lookup_user(self, user: str, info: RequestInfo) -> UserdbAnswer: ...


class AuthServiceLike(Protocol):
    """What deliveries need of pydovecot.auth's AuthService (tests pass a stub)."""

    @property
    def backend(self) -> UserdbBackend: ...


@dataclass(frozen=True)
class RecipientUser:
    result: UserdbResult
    user: str
    fields: dict[str, str] = field(default_factory=dict)


# Recipients' names as normalised: a delivery server sees the same few addresses over and over,
# and the normalising walks the name byte by byte. Only with the rules' own username formats
# (none, or the default lowercasing), which depend on nothing but the name; bounded.
_FIXED_CACHE_SIZE = 4096
_fixed: dict[str, str | None] = {}
_fixed_rules: list[UsernameRules] = []


def _fix(name: str, rules: UsernameRules) -> str | None:
    if rules.username_format is not None and rules.username_format is not ascii_lower:
        return fix_username(name, rules)[0]
    if not _fixed_rules or _fixed_rules[0] is not rules or len(_fixed) >= _FIXED_CACHE_SIZE:
        _fixed.clear()
        _fixed_rules[:] = [rules]
    try:
        return _fixed[name]
    except KeyError:
        fixed = _fixed[name] = fix_username(name, rules)[0]
        return fixed


async def lookup_user(auth: AuthServiceLike, name: str, info: RequestInfo) -> RecipientUser:
    rules = getattr(getattr(auth, "settings", None), "username_rules", None)
    if rules is not None:
        fixed = _fix(name, rules)
        if fixed is None:
            return RecipientUser(UserdbResult.USER_UNKNOWN, name)
        name = fixed
    answer = await auth.backend.lookup_user(name, info)
    fields = {f.key: f.value for f in answer.fields.items} if answer.fields is not None else {}
    return RecipientUser(answer.result, answer.user or name, fields)
