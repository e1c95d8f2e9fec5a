"""`doveadm help [<cmd>]`: the overview, or the command's manual page through man(1)."""

from __future__ import annotations

import os

from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import Fatal, UsageExit

MANDIR = "/usr/share/man"


def cmd_help(ctx: CommandContext) -> int:
    name = ctx.values.get("cmd")
    if name is None:
        from ..usage import overview  # noqa: PLC0415 - avoids a cycle with the command table

        raise UsageExit(overview())
    env = dict(os.environ, MANPATH=MANDIR)
    try:
        os.execvpe("man", ["man", f"doveadm-{name}"], env)
    except OSError as error:
        raise Fatal(f"execvp(man) failed: {error.strerror}") from None
    return 0  # not reached


HELP = Command(
    words=("help",),
    run=cmd_help,
    help="Show the list of commands, or a command's manual page",
    params=(Param("cmd", ParamKind.STR, positional=True, metavar="cmd", help="Command name"),),
    usage_text="[<cmd>]",
)

COMMANDS = (HELP,)
