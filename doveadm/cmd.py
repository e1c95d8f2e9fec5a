"""How a doveadm command is declared: once, as data.

    Command(
        words=("pw",),
        params=(Param("list", ParamKind.BOOL, short="l", help="List the schemes"), ...),
        run=cmd_pw,
        help="Generate and verify password hashes",
    )

From a declaration come the option parser (``parse_arguments``), its usage text
(``Command.usage``) and the overview `doveadm` prints. Mail commands (``mail=True``) get
Dovecot's common -A/-S/-u/-F parameters. A command's ``run(ctx)`` returns the exit code
(None = 0) or raises errors.DoveadmExit.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import getopt
from .errors import UsageExit

if TYPE_CHECKING:
    from .context import CommandContext


class ParamKind(enum.Enum):
    """Dovecot's CMD_PARAM_* value types."""

    BOOL = "bool"
    STR = "str"
    INT64 = "int64"
    IP = "ip"
    ARRAY = "array"  # repeatable option, or all remaining positional arguments
    ISTREAM = "istream"  # a file name, "-" for stdin


@dataclass(frozen=True)
class Param:
    """One parameter: an option (``short`` and/or the long ``--name``) or, with
    ``positional``, an argument. ``metavar`` is its value's name in the usage text;
    ``hidden`` keeps it out of the usage (Dovecot's CMD_PARAM_FLAG_DO_NOT_EXPOSE)."""

    name: str
    kind: ParamKind
    short: str | None = None
    positional: bool = False
    metavar: str = ""
    help: str = ""
    hidden: bool = False

    def usage(self) -> str:
        if self.positional:
            return f"<{self.metavar or self.name}>"
        flag = f"-{self.short}" if self.short else f"--{self.name}"
        if self.kind is ParamKind.BOOL:
            return f"[{flag}]"
        return f"[{flag} {self.metavar or self.name}]"


# The common parameters of every mail command, in Dovecot's order.
MAIL_PARAMS = (
    Param("all-users", ParamKind.BOOL, short="A", hidden=True, help="Run for all users"),
    Param("socket-path", ParamKind.STR, short="S", metavar="<socket_path>", help="doveadm-server socket"),
    Param("user", ParamKind.STR, short="u", metavar="<user>", help="User (mask) to run for"),
    Param("trans-flags", ParamKind.INT64, hidden=True, help="Mailbox transaction flags"),
    Param("user-file", ParamKind.ISTREAM, short="F", metavar="<file>", hidden=True,
          help="Read user names from a file"),
)
MAIL_USAGE_PREFIX = "[-u <user>|-A] [-S <socket_path>]"


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    run: Callable[[CommandContext], int | None]
    params: tuple[Param, ...] = ()
    help: str = ""
    mail: bool = False
    # Set only where Dovecot's usage text cannot be derived from the parameters.
    usage_text: str | None = None
    # Whether run() reads ctx.settings; the config is parsed only for those.
    needs_settings: bool = False
    # The group has only some of Dovecot's sub-commands: its one-line summary ("mailbox a|b|c")
    # in the top-level overview would differ from real doveadm's, so it is left out there.
    partial_group: bool = False
    all_params: tuple[Param, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "all_params", (MAIL_PARAMS + self.params) if self.mail else self.params)

    @property
    def name(self) -> str:
        return " ".join(self.words)

    @property
    def usage(self) -> str:
        if self.usage_text is not None:
            own = self.usage_text
        else:
            own = " ".join(param.usage() for param in self.params if not param.hidden)
        return f"{MAIL_USAGE_PREFIX} {own}" if self.mail else own


_INT64 = re.compile(r"-?[0-9]+")


def _fill(kind: ParamKind, values: dict[str, Any], param: Param, text: str | None) -> None:
    """Dovecot's doveadm_fill_param: a value that does not parse is silently left unset."""
    if kind is ParamKind.BOOL:
        values[param.name] = True
    elif kind is ParamKind.INT64:
        if text is not None and _INT64.fullmatch(text) and -(2**63) <= int(text) < 2**63:
            values[param.name] = int(text)
    elif kind is ParamKind.IP:
        try:
            values[param.name] = ipaddress.ip_address(text or "")
        except ValueError:
            pass
    elif kind is ParamKind.ARRAY:
        values.setdefault(param.name, []).append(text)
    elif kind is ParamKind.ISTREAM:
        values[param.name] = sys.stdin.buffer if text == "-" else open(text or "", "rb")  # noqa: SIM115
    else:
        values[param.name] = text


def parse_arguments(command: Command, args: list[str]) -> dict[str, Any]:
    """Options and arguments after the command words -> {param name: value}.

    Unset parameters are absent. Errors exit 64 with getopt's message, or
    "Error: Extraneous arguments found: ..." for arguments no parameter takes.
    """
    options = [p for p in command.all_params if not p.positional]
    specs = [getopt.OptionSpec(p.name, p.short, p.name, p.kind is not ParamKind.BOOL) for p in options]
    by_key = {p.name: p for p in options}
    try:
        found, arguments = getopt.parse(command.words[-1], args, specs)
    except getopt.GetoptError as error:
        raise UsageExit(f"{error}\n") from None
    values: dict[str, Any] = {}
    for spec, text in found:
        _fill(by_key[spec.key].kind, values, by_key[spec.key], text)
    positionals = [p for p in command.all_params if p.positional]
    for position, text in enumerate(arguments):
        target = next((p for p in positionals if p.name not in values or p.kind is ParamKind.ARRAY), None)
        if target is None:
            raise UsageExit(f"Error: Extraneous arguments found: {' '.join(arguments[position:])}\n")
        _fill(target.kind, values, target, text)
    return values
