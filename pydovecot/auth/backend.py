"""The passdb/userdb chain behind the auth service: `AuthChain` as an `AuthBackend`.

    node = load(conf).lookup(service="auth")
    service = service_from_settings(node)          # AuthService over a ChainBackend
    await service.start(client_path=..., master_path=..., userdb_path=...)

`ChainBackend` turns each service call into one `AuthRequest` walked through the chain and maps
the chain's answer back: the passdb's extra fields (hidden ones stay hidden, as Dovecot only
counts them), a user renamed by a lookup (its `user` field), credentials, and the userdb reply.

Master user logins: the mechanism splits ``login*master`` (auth_master_user_separator) or
takes PLAIN's authzid, and the service passes the login user in `RequestInfo.login_user`; the
chain checks the master's password in the master passdbs, then becomes the login user (running
the normal passdbs for him with ``pass = yes``). The answer names both: `user` the login user,
`master_user` the master (Dovecot's auth_user=).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from pydovecot.auth.fields import AuthFields as RequestFields
from pydovecot.auth.fields import AuthRequest, LogCallback
from pydovecot.auth.lookup import AuthChain
from pydovecot.auth.mechanisms import PassdbCapabilities, PassdbResult, UsernameRules, ascii_lower
from pydovecot.auth.penalty import AuthPenalty, parse_networks
from pydovecot.auth.service import (
    AuthService,
    AuthServiceSettings,
    PassdbAnswer,
    RequestInfo,
    UserdbAnswer,
    UserdbResult,
)
from pydovecot.auth.userdb.interface import UserdbResult as ChainUserdbResult
from pydovecot.auth.wire.fields import AuthFields

_USERDB_RESULTS = {
    ChainUserdbResult.OK: UserdbResult.OK,
    ChainUserdbResult.USER_UNKNOWN: UserdbResult.USER_UNKNOWN,
    ChainUserdbResult.INTERNAL_FAILURE: UserdbResult.INTERNAL_FAILURE,
}


def wire_fields(fields: RequestFields, extra: list[tuple[str, str]] | None = None) -> AuthFields:
    """A request's field list as the wire layer writes it, hidden fields kept hidden."""
    visible = fields.visible()
    pairs = [(name, value) for name, value in fields.items() if name in visible]
    pairs += [pair for pair in extra or [] if pair[0] not in visible]
    hidden = [(name, value) for name, value in fields.items() if name not in visible]
    return AuthFields.of(pairs, hidden=hidden)


class ChainBackend:
    """`AuthBackend` over an `AuthChain`: one chain request per service call."""

    def __init__(self, chain: AuthChain) -> None:
        self.chain = chain

    def flush_cache(self, users: list[str]) -> int:
        """CACHE-FLUSH on the master socket: the number of auth cache entries dropped."""
        return self.chain.cache.flush(users or None) if self.chain.cache is not None else 0

    def _request(self, user: str, info: RequestInfo) -> AuthRequest:
        params = dict(info.params)
        return self.chain.new_request(
            user, service=info.service, local_ip=info.local_ip, remote_ip=info.remote_ip,
            local_port=info.local_port, remote_port=info.remote_port, secured=info.secured,
            mechanism=info.mechanism, session=params.get("session"), login_user=info.login_user)

    @staticmethod
    def _renamed(request: AuthRequest, asked: str) -> str | None:
        return request.user if request.user != asked else None

    @staticmethod
    def _passdb_fields(request: AuthRequest) -> AuthFields:
        return wire_fields(request.extra_fields)

    async def verify_plain(self, user: str, password: bytes, info: RequestInfo) -> PassdbAnswer:
        request = self._request(user, info)
        outcome = await self.chain.verify_plain(request, password)
        result = outcome.result
        if result is PassdbResult.OK and not outcome.authenticated:
            # The chain ended on OK without any rule saying so ("return"): not authenticated.
            result = PassdbResult.PASSWORD_MISMATCH
        renamed, master = self._renamed(request, user), request.master_user
        if result is not PassdbResult.OK:
            return PassdbAnswer(result, user=renamed, master_user=master)
        return PassdbAnswer(result, user=renamed, fields=self._passdb_fields(request), master_user=master)

    async def lookup_credentials(self, user: str, scheme: str, info: RequestInfo) -> PassdbAnswer:
        request = self._request(user, info)
        outcome = await self.chain.lookup_credentials(request, scheme)
        result = outcome.result
        renamed, master = self._renamed(request, user), request.master_user
        if result is not PassdbResult.OK:
            return PassdbAnswer(result, user=renamed, master_user=master)
        return PassdbAnswer(result, user=renamed, fields=self._passdb_fields(request),
                            credentials=outcome.credentials, master_user=master)

    async def lookup_user(self, user: str, info: RequestInfo) -> UserdbAnswer:
        request = self._request(user, info)
        result = _USERDB_RESULTS[await self.chain.lookup_user(request)]
        if result is not UserdbResult.OK:
            return UserdbAnswer(result)
        reply = request.userdb_reply or RequestFields()
        return UserdbAnswer(result, user=request.user, fields=wire_fields(reply))

    async def iterate_users(self, info: RequestInfo) -> AsyncIterator[str]:
        async for user in self.chain.iterate_users():
            yield user


# --- settings -> service ----------------------------------------------------------------------

def username_format_function(template: str) -> Callable[[str], str] | None:
    """auth_username_format as a function of the username (None when the setting is empty)."""
    if template == "":
        return None
    if template == "%Lu":
        return ascii_lower  # the default, without a %-expansion per login

    def expand(user: str) -> str:
        return AuthRequest(user=user).expand(template)[0]

    return expand


def _words(value: object) -> tuple[str, ...]:
    return tuple(w for w in str(value).replace(",", " ").split() if w)


def service_settings(node: object, chain: AuthChain | None = None) -> AuthServiceSettings:
    """AuthServiceSettings from the auth_* settings of ``tree.lookup(service="auth")``."""
    get = node.get  # type: ignore[attr-defined]
    rules = UsernameRules(
        username_chars=str(get("auth_username_chars")),
        username_translation=str(get("auth_username_translation")),
        default_realm=str(get("auth_default_realm")),
        username_format=username_format_function(str(get("auth_username_format"))),
        master_user_separator=str(get("auth_master_user_separator")),
    )
    passdb_count = len(chain.passdbs) if chain is not None else 1
    return AuthServiceSettings(
        mechanisms=str(get("auth_mechanisms")),
        failure_delay=float(get("auth_failure_delay")),  # type: ignore[arg-type]
        username_rules=rules,
        anonymous_username=str(get("auth_anonymous_username")),
        realms=_words(get("auth_realms")),
        hostname=str(get("hostname")) or AuthServiceSettings().hostname,
        passdbs=PassdbCapabilities(count=max(passdb_count, 1)),
        has_master_passdbs=bool(chain.masterdbs) if chain is not None else False,
        ssl_require_client_cert=bool(get("auth_ssl_require_client_cert")),
        ssl_username_from_cert=bool(get("auth_ssl_username_from_cert")),
    )


def service_from_settings(node: object, *, log_callback: LogCallback | None = None,
                          penalty: bool = False) -> AuthService:
    """The auth service the settings describe, over its passdb/userdb chain.

    ``penalty``: keep Dovecot's per-IP auth failure penalty (anvil's), exempting
    login_trusted_networks. Off by default for embedders and test harnesses that log in from
    127.0.0.1 over and over; the auth daemon (``python -m pydovecot.auth``) turns it on.

    Raises PassdbConfigError / MechanismConfigError for what Dovecot's auth refuses to start with."""
    chain = AuthChain.from_settings(node, log_callback=log_callback)
    table = None
    if penalty:
        trusted = node.get("login_trusted_networks")  # type: ignore[attr-defined]
        table = AuthPenalty(trusted_networks=parse_networks(str(trusted or "")))
    return AuthService(ChainBackend(chain), service_settings(node, chain), penalty=table)
