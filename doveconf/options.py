"""Command-line options the way GNU getopt reads them (options may follow operands), with
getopt's own messages.  Small on purpose: doveconf starts often and the standard getopt
module pulls in gettext."""

from __future__ import annotations


class OptionError(Exception):
    """``message`` is the text getopt prints after the program name."""


def gnu_getopt(args: list[str], shortopts: str, longopts: tuple[str, ...] = ()) -> tuple[
        list[tuple[str, str]], list[str]]:
    takes_value = {c for i, c in enumerate(shortopts) if i + 1 < len(shortopts) and shortopts[i + 1] == ":"}
    known = set(shortopts.replace(":", ""))
    opts: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands.extend(args[i:])
            break
        if arg.startswith("--"):
            if arg[2:] not in longopts:
                raise OptionError(f"unrecognized option '{arg}'")
            opts.append((arg, ""))
            continue
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            continue
        pos = 1
        while pos < len(arg):
            letter = arg[pos]
            pos += 1
            if letter not in known:
                raise OptionError(f"invalid option -- '{letter}'")
            if letter not in takes_value:
                opts.append(("-" + letter, ""))
                continue
            if pos < len(arg):
                value = arg[pos:]
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise OptionError(f"option requires an argument -- '{letter}'")
            opts.append(("-" + letter, value))
            break
    return opts, operands
