"""GNU getopt_long, as doveadm uses it: same parsing rules and the same error texts.

Rules reproduced: short options cluster ("-lp x", "-pfoo"); long options may be
abbreviated to any unique prefix and take "--name=value" or "--name value"; "--" ends
options; a lone "-" is an argument. Without ``stop_at_first_argument`` (getopt's "+"),
arguments and options may be mixed, as GNU permutes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OptionSpec:
    key: str
    short: str | None = None
    long: str | None = None
    takes_value: bool = False


class GetoptError(Exception):
    """``str(error)`` is glibc's complete message line (with the program name, no newline)."""


class _Found(list):
    """Options found so far; ``on_option`` sees each one as it is parsed, as a getopt loop
    does, so an error in an earlier option wins over a later malformed one."""

    def __init__(self, on_option: Callable[[OptionSpec, str | None], None] | None) -> None:
        super().__init__()
        self.on_option = on_option

    def append(self, item: tuple[OptionSpec, str | None]) -> None:
        super().append(item)
        if self.on_option is not None:
            self.on_option(*item)


def parse(prog: str, args: list[str], specs: list[OptionSpec], *, stop_at_first_argument: bool = False,
          on_option: Callable[[OptionSpec, str | None], None] | None = None,
          ) -> tuple[list[tuple[OptionSpec, str | None]], list[str]]:
    """Returns ([(option, value)...] in command-line order, [arguments...])."""
    shorts = {spec.short: spec for spec in specs if spec.short}
    longs = [spec for spec in specs if spec.long]
    found: list[tuple[OptionSpec, str | None]] = _Found(on_option)
    arguments: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            arguments.extend(args[index:])
            break
        if arg.startswith("--"):
            spec, value, index = _long_option(prog, arg, args, index, longs)
            found.append((spec, value))
        elif arg.startswith("-") and arg != "-":
            index = _short_cluster(prog, arg, args, index, shorts, found)
        elif stop_at_first_argument:
            arguments.extend(args[index - 1 :])
            break
        else:
            arguments.append(arg)
    return found, arguments


def _long_option(prog: str, arg: str, args: list[str], index: int,
                 longs: list[OptionSpec]) -> tuple[OptionSpec, str | None, int]:
    name, has_value, value = arg[2:].partition("=")
    exact = [spec for spec in longs if spec.long == name]
    matches = exact or [spec for spec in longs if spec.long and spec.long.startswith(name)]
    if not matches:
        raise GetoptError(f"{prog}: unrecognized option '{arg}'")
    if len(matches) > 1:
        choices = " ".join(f"'--{spec.long}'" for spec in matches)
        raise GetoptError(f"{prog}: option '{arg}' is ambiguous; possibilities: {choices}")
    spec = matches[0]
    if not spec.takes_value:
        if has_value:
            raise GetoptError(f"{prog}: option '--{spec.long}' doesn't allow an argument")
        return spec, None, index
    if has_value:
        return spec, value, index
    if index < len(args):
        return spec, args[index], index + 1
    raise GetoptError(f"{prog}: option '--{spec.long}' requires an argument")


def _short_cluster(prog: str, arg: str, args: list[str], index: int, shorts: dict[str | None, OptionSpec],
                   found: list[tuple[OptionSpec, str | None]]) -> int:
    position = 1
    while position < len(arg):
        char = arg[position]
        position += 1
        spec = shorts.get(char)
        if spec is None:
            raise GetoptError(f"{prog}: invalid option -- '{char}'")
        if not spec.takes_value:
            found.append((spec, None))
            continue
        if position < len(arg):
            found.append((spec, arg[position:]))
        elif index < len(args):
            found.append((spec, args[index]))
            index += 1
        else:
            raise GetoptError(f"{prog}: option requires an argument -- '{char}'")
        break
    return index
