"""`doveadm user`: a user's userdb fields as the mail processes see them, as Dovecot 2.3.19 shows them.

    doveadm user [-a path] [-x key=value] [-f field] [-e value] [-u] USER|MASK...

Real doveadm asks the running auth process over auth-userdb; ours runs the userdb chain
in-process (`pydovecot.auth.backend`), so -a is accepted and ignored. Masks with ``*``/``?``
list the matching users of the iterable userdbs (auth-master LIST); -u prints the raw userdb
reply; otherwise the fields are shown the way the mail storage service merges them with the
settings (mail_uid, mail_gid, mail_home, mail_location) through the "tab" formatter.

Output order matters and follows doveadm's two output paths: formatter rows go straight to
standard output, while plain text (`ctx.out`, C stdio) is flushed at exit; so "userdb lookup:
user X doesn't exist" comes after every row even when X was named first. Only the default
"tab" formatter is reproduced; doveadm's global -f with another formatter is not honoured here.
"""

from __future__ import annotations

import asyncio
import fnmatch
import sys
from typing import Any

from pydovecot.auth.mechanisms import fix_username
from pydovecot.auth.service import AuthService, RequestInfo, UserdbAnswer, UserdbResult
from pydovecot.auth.wire.tabescape import tab_escape, tab_unescape
from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import MAIL_USER

from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, EX_USAGE
from .auth import EX_NOUSER, auth_info, build_service, close_service, print_lookup_fields, require_args

# The fields the mail storage service prints from its settings rather than from the reply.
_MERGED = ("uid", "gid", "home", "mail")


def _has_wildcards(masks: list[str]) -> bool:
    return any("*" in mask or "?" in mask for mask in masks)


def _fields(answer: UserdbAnswer) -> list[tuple[str, str]]:
    return [(f.key, f.value) for f in answer.fields.items if not f.hidden]


async def _lookup(service: AuthService, name: str, info: RequestInfo) -> tuple[str | None, UserdbAnswer]:
    """The auth-userdb USER lookup: username rules first, as the auth process applies them."""
    user, _ = fix_username(name, service.settings.username_rules)
    if user is None:
        return None, UserdbAnswer(UserdbResult.USER_UNKNOWN)
    answer = await service.backend.lookup_user(user, info)
    return answer.user or user, answer


def _mail_user_fields(ctx: CommandContext, name: str, user: str, answer: UserdbAnswer) -> list[tuple[str, str]]:
    """cmd_user_mail_print_fields: user (if renamed), uid, gid, home, mail, then the rest."""
    node = ctx.settings.lookup(service="doveadm")
    reply = dict(_fields(answer))
    settings = {"uid": "mail_uid", "gid": "mail_gid", "home": "mail_home", "mail": "mail_location"}
    rows = [("user", user)] if user != name else []
    rows += [(key, reply[key] if key in reply else str(node.get(settings[key]))) for key in _MERGED]
    rows += [(key, value) for key, value in _fields(answer) if key not in _MERGED]
    return rows


def _expand(template: str, user: str, rows: list[tuple[str, str]], info: RequestInfo) -> tuple[str, str | None]:
    values = dict(rows)
    username, _, domain = user.partition("@")
    table = MAIL_USER.table({
        "user": user, "username": username, "domain": domain or None, "service": info.service,
        "home": values.get("home") or None, "local_ip": info.local_ip, "remote_ip": info.remote_ip,
        "uid": values.get("uid"), "gid": values.get("gid"), "auth_user": user, "auth_username": username,
        "auth_domain": domain or None,
    })
    result = expand(template, table, context=MAIL_USER)
    return result.text, result.error


def _list_users(ctx: CommandContext, service: AuthService, masks: list[str], info: RequestInfo) -> int:
    async def run() -> None:
        async for user in service.backend.iterate_users(info):
            if any(fnmatch.fnmatchcase(user, mask.replace("[", "[[]")) for mask in masks):
                ctx.out(user + "\n")

    asyncio.run(run())
    return 0


def cmd_user(ctx: CommandContext) -> int:
    values: dict[str, Any] = ctx.values
    show_field: str | None = values.get("field")
    expand_field: str | None = values.get("expand-field")
    userdb_only = bool(values.get("userdb-only"))
    if expand_field is not None and userdb_only:
        ctx.error("-e can't be used with -u")
        return EX_USAGE
    if expand_field is not None and show_field is not None:
        ctx.error("-e can't be used with -f")
        return EX_USAGE
    require_args(ctx, USER, "user-mask")
    masks: list[str] = values["user-mask"]
    info = auth_info(values)
    service = build_service(ctx)
    try:
        if _has_wildcards(masks):
            return _list_users(ctx, service, masks, info)
        return _show_users(ctx, service, masks, info, show_field, expand_field, userdb_only)
    finally:
        asyncio.run(close_service(service))


def _show_users(ctx: CommandContext, service: AuthService, masks: list[str], info: RequestInfo,
                show_field: str | None, expand_field: str | None, userdb_only: bool) -> int:
    table = not userdb_only and show_field is None and expand_field is None
    rows_out: list[str] = []
    if table and not ctx.options.hide_titles:
        rows_out.append("field\tvalue\n")
    exit_code = 0

    async def run() -> None:
        nonlocal exit_code
        for position, name in enumerate(masks):
            if position > 0:
                ctx.out("\n")
            user, answer = await _lookup(service, name, info)
            if answer.result is UserdbResult.INTERNAL_FAILURE:
                ctx.error(f"userdb lookup failed for {name}" + (f": {answer.reason}" if answer.reason else ""))
                exit_code = EX_TEMPFAIL
                continue
            if answer.result is not UserdbResult.OK or user is None:
                text = f"userdb lookup: user {name} doesn't exist\n"
                if not userdb_only:
                    text = "\n" + text
                if show_field is None and expand_field is None:
                    ctx.out(text)
                else:
                    ctx.stderr.write(text)
                exit_code = EX_NOUSER
                continue
            if userdb_only:
                line = answer.fields.append_to(f"user={tab_escape(user)}")
                fields = [tab_unescape(arg) for arg in line.split("\t")]
                print_lookup_fields(ctx, "userdb", name, fields, show_field)
                continue
            rows = _mail_user_fields(ctx, name, user, answer)
            if expand_field is not None:
                text, error = _expand(expand_field, user, rows, info)
                if error is not None:
                    ctx.error(f"Failed to expand {expand_field}: {error}")
                else:
                    ctx.out(text + "\n")
            elif show_field is not None:
                ctx.out("".join(f"{value}\n" for key, value in rows if key == show_field))
            else:
                rows_out.extend(f"{key}\t{value}\n" for key, value in rows)

    asyncio.run(run())
    # The formatter writes to the descriptor directly, ahead of stdio's buffer (see above).
    sys.stdout.write("".join(rows_out))
    sys.stdout.flush()
    return exit_code


USER = Command(
    words=("user",),
    run=cmd_user,
    help="Show a user's userdb fields, or list users matching a mask (in-process)",
    needs_settings=True,
    params=(
        Param("socket-path", ParamKind.STR, short="a", metavar="<userdb socket path>"),
        Param("auth-info", ParamKind.ARRAY, short="x", metavar="<auth info>"),
        Param("field", ParamKind.STR, short="f", metavar="field"),
        Param("expand-field", ParamKind.STR, short="e", metavar="<value>"),
        Param("userdb-only", ParamKind.BOOL, short="u"),
        Param("user-mask", ParamKind.ARRAY, positional=True, metavar="user mask"),
    ),
    usage_text="[-a <userdb socket path>] [-x <auth info>] [-f field] [-e <value>] [-u] "
               "<user mask> [<user mask> [...]]",
)

COMMANDS = (USER,)
