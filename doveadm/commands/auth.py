"""`doveadm auth test` and `doveadm auth lookup`, answered as Dovecot 2.3.19 answers them.

Real doveadm asks the running auth process over its sockets (auth-client for `test`,
auth-userdb for `lookup`). Ours runs the same service in-process instead: the passdb/userdb
chain built from the configuration (`pydovecot.auth.backend`), with a client session of the
auth service driven without a socket, so the answer is what our auth daemon would send.
The -a socket path options are accepted and ignored for that reason.

`auth login` (real: auth-login, then a REQUEST on auth-master) authenticates the same way and
then runs the userdbs on the authenticated request, as the master REQUEST does. `auth cache
flush [USER...]` flushes the auth cache (pydovecot.auth.cache) of the in-process service; a
fresh process has not cached anything yet, so it reports what that cache held.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
from typing import Any

from pydovecot.auth.backend import ChainBackend, service_from_settings
from pydovecot.auth.lookup import split_master_login
from pydovecot.auth.mechanisms import PassdbResult, fix_username
from pydovecot.auth.service import AuthService, RequestInfo
from pydovecot.auth.userdb.interface import UserdbResult as ChainUserdbResult
from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape

from ..askpass import askpass
from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, Fatal, UsageExit

EX_NOUSER = 67
EX_NOPERM = 77


def auth_info(values: dict[str, Any]) -> RequestInfo:
    """-x key=value... (auth_user_info_parse): service, lip, rip, lport, rport; service "doveadm"."""
    info: dict[str, str] = {"service": "doveadm"}
    for item in values.get("auth-info", []):
        key, _, value = str(item).partition("=")
        info[key] = value
    return RequestInfo(service=info["service"], local_ip=info.get("lip"), remote_ip=info.get("rip"),
                       local_port=info.get("lport"), remote_port=info.get("rport"),
                       params=tuple((k, v) for k, v in info.items() if k != "service"))


def build_service(ctx: CommandContext) -> AuthService:
    """Our auth service for the configuration, failures answered at once (no one is waiting
    on the other end of a socket to be slowed down)."""
    node = ctx.settings.lookup(service="auth")
    try:
        service = service_from_settings(node)
    except Exception as error:  # noqa: BLE001 - config refusals are the auth process dying
        raise Fatal(f"auth: {error}") from None
    service.settings = dataclasses.replace(service.settings, failure_delay=0.0)
    return service


async def close_service(service: AuthService) -> None:
    backend = service.backend
    if isinstance(backend, ChainBackend):
        await backend.chain.close()


def _reply_args(line: str) -> list[str]:
    return [tab_unescape(arg) for arg in line.split("\t")[2:]]


async def plain_auth(service: AuthService, user: str, password: bytes, info: RequestInfo) -> tuple[bool, list[str]]:
    """One PLAIN authentication through an auth-client session: (succeeded, OK/FAIL args)."""
    session = service.new_client_session()
    params = "".join(f"\t{key}={value}" for key, value in info.params if value)
    resp = base64.b64encode(b"\0" + user.encode("utf-8", "surrogateescape") + b"\0" + password).decode()
    session.receive(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n"
                    f"AUTH\t1\tPLAIN\tservice={info.service}{params}\tresp={resp}\n".encode())
    while True:
        for line in bytes(session.sent).decode("utf-8", "surrogateescape").split("\n"):
            if line.startswith(("OK\t1\t", "FAIL\t1")):
                session.abort()
                return line.startswith("OK"), _reply_args(line)
        await asyncio.sleep(0.001)


def require_args(ctx: CommandContext, command: Command, name: str) -> None:
    """Dovecot prints the command's usage and exits 64 when its user argument is missing."""
    if name not in ctx.values:
        raise UsageExit(f"doveadm {command.name} {command.usage}\n")


def cmd_auth_test(ctx: CommandContext) -> int:
    require_args(ctx, AUTH_TEST, "user")
    values = ctx.values
    user = values["user"]
    password = (values["password"].encode("utf-8", "surrogateescape") if "password" in values
                else askpass("Password: ", ctx.stdin, ctx.stderr))
    service = build_service(ctx)

    async def run() -> tuple[bool, list[str]]:
        try:
            return await plain_auth(service, user, password, auth_info(values))
        finally:
            await close_service(service)

    succeeded, args = asyncio.run(run())
    ctx.out(f"passdb: {user} auth {'succeeded' if succeeded else 'failed'}\n")
    if args:
        ctx.out("extra fields:\n" + "".join(f"  {arg}\n" for arg in args))
    return 0 if succeeded else EX_NOPERM


async def login_userdb_args(service: AuthService, user: str, password: bytes, info: RequestInfo) -> list[str] | None:
    """The userdb reply of a master REQUEST after a successful login: the user, the userdb
    fields (those the passdb prefetched first), auth_mech, and auth_user when the name the
    client logged in with differs. None when the userdb lookup fails."""
    backend = service.backend
    assert isinstance(backend, ChainBackend)
    rules = service.settings.username_rules
    # "login*master": the username rules apply to each name, not to the separator.
    name, login_user = split_master_login(user, rules.master_user_separator)
    fixed, _ = fix_username(name, rules)
    login = fix_username(login_user, rules)[0] if login_user is not None else None
    if fixed is None or (login_user is not None and login is None):
        return None
    request = backend.chain.new_request(fixed, login_user=login, service=info.service, local_ip=info.local_ip,
                                        remote_ip=info.remote_ip, local_port=info.local_port,
                                        remote_port=info.remote_port, mechanism="PLAIN")
    outcome, result = await backend.chain.authenticate(request, password)
    if not outcome.authenticated or result is not ChainUserdbResult.OK:
        return None
    reply = request.userdb_reply.items() if request.userdb_reply is not None else []
    args = [request.user] + [name + ("=" + value if value else "") for name, value in reply]
    if request.master_user is not None and not any(key == "master_user" for key, _ in reply):
        args.append(f"master_user={request.master_user}")
    args.append("auth_mech=PLAIN")
    auth_user = request.master_user if request.master_user is not None else user
    if auth_user != request.user:
        args.append(f"auth_user={auth_user}")
    return args


def cmd_auth_login(ctx: CommandContext) -> int:
    require_args(ctx, AUTH_LOGIN, "user")
    values = ctx.values
    user = values["user"]
    password = (values["password"].encode("utf-8", "surrogateescape") if "password" in values
                else askpass("Password: ", ctx.stdin, ctx.stderr))
    service = build_service(ctx)
    info = auth_info(values)

    async def run() -> tuple[bool, list[str], list[str] | None]:
        try:
            succeeded, args = await plain_auth(service, user, password, info)
            userdb = await login_userdb_args(service, user, password, info) if succeeded else None
            return succeeded, args, userdb
        finally:
            await close_service(service)

    succeeded, args, userdb = asyncio.run(run())
    ctx.out(f"passdb: {user} auth {'succeeded' if succeeded else 'failed'}\n")
    if args:
        ctx.out("extra fields:\n" + "".join(f"  {arg}\n" for arg in args))
    if not succeeded:
        return EX_NOPERM
    if userdb is None:
        ctx.error("userdb lookup failed: Internal error")
        return EX_NOPERM
    ctx.out("userdb extra fields:\n" + "".join(f"  {arg}\n" for arg in userdb))
    return 0


def flush_auth_cache(service: AuthService, users: list[str]) -> int:
    """CACHE-FLUSH: drops the cache entries of ``users`` (all when empty); how many went."""
    backend = service.backend
    cache = backend.chain.cache if isinstance(backend, ChainBackend) else None
    return 0 if cache is None else cache.flush(users)


def cmd_auth_cache_flush(ctx: CommandContext) -> int:
    service = build_service(ctx)
    try:
        count = flush_auth_cache(service, [str(user) for user in ctx.values.get("user") or []])
    finally:
        asyncio.run(close_service(service))
    ctx.out(f"{count} cache entries flushed\n")
    return 0


def print_lookup_fields(ctx: CommandContext, kind: str, user: str, fields: list[str], show_field: str | None) -> None:
    """cmd_user_input's output: one field's value with -f, else "<kind>: user" and the fields."""
    if show_field is not None:
        for item in fields:
            key, sep, value = item.partition("=")
            if sep and key == show_field:
                ctx.out(value + "\n")
        return
    ctx.out(f"{kind}: {user}\n")
    for item in fields:
        key, sep, value = item.partition("=")
        ctx.out(f"  {key:<10}: {value}\n" if sep else f"  {item:<10}\n")


def cmd_auth_lookup(ctx: CommandContext) -> int:
    require_args(ctx, AUTH_LOOKUP, "user")
    values = ctx.values
    service = build_service(ctx)
    info = auth_info(values)
    show_field = values.get("field")
    exit_code = 0

    async def run() -> None:
        nonlocal exit_code
        try:
            for position, name in enumerate(values["user"]):
                if position > 0:
                    ctx.out("\n")
                user, _ = fix_username(name, service.settings.username_rules)
                if user is None:
                    answer_result = PassdbResult.USER_UNKNOWN
                else:
                    answer = await service.backend.lookup_credentials(user, "", info)
                    answer_result = answer.result
                if answer_result is PassdbResult.OK:
                    # As the PASS line carries them: hidden fields leave an empty one behind.
                    line = answer.fields.append_to(f"user={tab_escape(answer.user or user)}")
                    fields = [tab_unescape(arg) for arg in line.split("\t")]
                    print_lookup_fields(ctx, "passdb", name, fields, show_field)
                elif answer_result in (PassdbResult.USER_UNKNOWN, PassdbResult.USER_DISABLED,
                                       PassdbResult.PASS_EXPIRED):
                    ctx.out(f"passdb lookup: user {name} doesn't exist\n")
                    exit_code = EX_NOUSER
                else:
                    ctx.error(f"passdb lookup failed for {name}")
                    exit_code = EX_TEMPFAIL
        finally:
            await close_service(service)

    asyncio.run(run())
    return exit_code


_AUTH_INFO = Param("auth-info", ParamKind.ARRAY, short="x", metavar="<auth info>", help="key=value request info")

AUTH_TEST = Command(
    words=("auth", "test"),
    run=cmd_auth_test,
    help="Test authentication of a user (in-process, through our auth service)",
    needs_settings=True,
    params=(
        Param("socket-path", ParamKind.STR, short="a", metavar="<auth socket path>"),
        _AUTH_INFO,
        Param("master-user", ParamKind.STR, short="M", metavar="<master user>"),
        Param("user", ParamKind.STR, positional=True, metavar="user"),
        Param("password", ParamKind.STR, positional=True, metavar="password"),
    ),
    usage_text="[-a <auth socket path>] [-x <auth info>] [-M <master user>] <user> [<password>]",
)

AUTH_LOOKUP = Command(
    words=("auth", "lookup"),
    run=cmd_auth_lookup,
    help="Look up a user's passdb fields (in-process, through our passdb chain)",
    needs_settings=True,
    params=(
        Param("socket-path", ParamKind.STR, short="a", metavar="<userdb socket path>"),
        _AUTH_INFO,
        Param("field", ParamKind.STR, short="f", metavar="field"),
        Param("user", ParamKind.ARRAY, positional=True, metavar="user"),
    ),
    usage_text="[-a <userdb socket path>] [-x <auth info>] [-f field] <user> [<user> [...]]",
)

AUTH_LOGIN = Command(
    words=("auth", "login"),
    run=cmd_auth_login,
    help="Test a full login of a user: authentication, then the userdb (in-process)",
    needs_settings=True,
    params=(
        Param("auth-login-socket-path", ParamKind.STR, short="a", metavar="<auth-login socket path>"),
        Param("auth-master-socket-path", ParamKind.STR, short="m", metavar="<auth-master socket path>"),
        _AUTH_INFO,
        Param("master-user", ParamKind.STR, short="M", metavar="<master user>"),
        Param("user", ParamKind.STR, positional=True, metavar="user"),
        Param("password", ParamKind.STR, positional=True, metavar="password"),
    ),
    usage_text="[-a <auth-login socket path>] [-m <auth-master socket path>] [-x <auth info>] "
               "[-M <master user>] <user> [<password>]",
)

AUTH_CACHE_FLUSH = Command(
    words=("auth", "cache", "flush"),
    run=cmd_auth_cache_flush,
    help="Flush the auth cache: all entries, or those of the given users",
    needs_settings=True,
    params=(
        Param("socket-path", ParamKind.STR, short="a", metavar="<master socket path>"),
        Param("user", ParamKind.ARRAY, positional=True, metavar="user"),
    ),
    usage_text="[-a <master socket path>] [<user> [...]]",
)

COMMANDS = (AUTH_TEST, AUTH_LOGIN, AUTH_LOOKUP, AUTH_CACHE_FLUSH)
