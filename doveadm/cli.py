"""doveadm's command line: global options, configuration check, command dispatch.

Entry point of the `doveadm` console script and of `python -m doveadm`.
"""

from __future__ import annotations

import os
import sys

from . import commands, getopt, printer
from .cmd import parse_arguments
from .context import CommandContext, GlobalOptions
from .errors import FATAL_DEFAULT, DoveadmExit, Fatal, UsageExit
from .usage import overview

# doveadm's own options (Dovecot's master-service options c:i:ko:OL, then +Df:hv).
_GLOBAL_OPTIONS = [
    getopt.OptionSpec("c", "c", takes_value=True), getopt.OptionSpec("i", "i", takes_value=True),
    getopt.OptionSpec("k", "k"), getopt.OptionSpec("o", "o", takes_value=True), getopt.OptionSpec("O", "O"),
    getopt.OptionSpec("L", "L"), getopt.OptionSpec("D", "D"), getopt.OptionSpec("f", "f", takes_value=True),
    getopt.OptionSpec("h", "h"), getopt.OptionSpec("v", "v"),
]


def _program_name(argv0: str) -> str:
    # getopt names the program by argv[0]; `python -m doveadm` has __main__.py there.
    return "doveadm" if argv0.endswith("__main__.py") or not argv0 else argv0


def _apply_global_option(options: GlobalOptions, spec: getopt.OptionSpec, value: str | None) -> None:
    key = spec.key
    if key == "c":
        options.config.path = value or ""
    elif key == "o":
        options.config.overrides.append(value or "")
    elif key == "O":
        options.config.disabled = True
    elif key == "i":
        # No instance registry (/var/lib/dovecot/instances) is kept by pydovecot.
        raise Fatal(f"Unknown instance name: {value}", prefix="doveadm: ")
    elif key == "D":
        options.debug = options.verbose = True
    elif key == "v":
        options.verbose = True
    elif key == "h":
        options.hide_titles = True
    elif key == "f" and options.formatter is None:  # the first -f wins, as in doveadm
        if value not in printer.FORMATTERS:
            raise Fatal(f"Unknown print formatter: {value}", prefix="doveadm: ")
        options.formatter = value


def _run(argv: list[str]) -> tuple[int, CommandContext | None]:
    prog = _program_name(argv[0] if argv else "")
    options = GlobalOptions()
    try:
        _, rest = getopt.parse(prog, argv[1:], _GLOBAL_OPTIONS, stop_at_first_argument=True,
                               on_option=lambda spec, value: _apply_global_option(options, spec, value))
    except getopt.GetoptError as error:
        raise DoveadmExit(FATAL_DEFAULT, f"{error}\n") from None
    # "help <cmd>" is the one command that runs without looking at the configuration.
    if not (rest[:1] == ["help"] and len(rest) > 1):
        options.config.preflight()
    if not rest:
        raise UsageExit(overview())
    located = commands.find(rest)
    if located is None:
        raise UsageExit(overview(rest[0] if commands.has_subcommands(rest[0]) else ""))
    command, args = located
    ctx = CommandContext(values=parse_arguments(command, args), options=options)
    code = command.run(ctx)
    return (code or 0), ctx


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    ctx: CommandContext | None = None
    try:
        code, ctx = _run(argv)
    except DoveadmExit as stop:
        sys.stdout.flush()
        if stop.message:
            sys.stderr.write(stop.message)
            sys.stderr.flush()
        return stop.code
    assert ctx is not None
    frame = "" if ctx.frame_done else printer.frame_text(ctx.options.formatter, hide_titles=ctx.options.hide_titles)
    text = "".join(ctx.out_buffer)
    # C stdio is line-buffered on a terminal but flushed only at exit otherwise, while the
    # formatter writes straight to fd 1 when it finishes: reproduce the resulting order.
    ordered = text + frame if os.isatty(sys.stdout.fileno()) else frame + text
    sys.stdout.write(ordered)
    sys.stdout.flush()
    return code
