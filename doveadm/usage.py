"""The command overview doveadm prints for no/unknown commands, generated from the table.

Format as Dovecot builds it: "name<TAB>usage" lines sorted bytewise, then one line per
command ("  %-12s %s"); commands with sub-commands collapse to "  group        a|b|c".
The sort includes the empty string after the last newline, which is why real doveadm
prints a line of 15 spaces first; we keep that.
"""

from __future__ import annotations

from .commands import COMMANDS


def _line(name: str, text: str) -> str:
    return f"  {name:<12} {text}"


def overview(prefix: str = "") -> str:
    head = "usage: doveadm [-Dv] [-f <formatter>] " + (f"{prefix} " if prefix else "") + "<command> [<args>]\n"
    entries = sorted(
        [f"{cmd.name}\t{cmd.usage}".encode() for cmd in COMMANDS if prefix or not cmd.partial_group] + [b""]
    )
    lines: list[str] = []
    group = ""
    last_sub = ""
    for entry in entries:
        name, _, text = entry.decode().partition("\t")
        if prefix:
            if not name.startswith(prefix + " "):
                continue
            name = name[len(prefix) + 1 :]
        first, space, rest = name.partition(" ")
        if not space:
            group = ""
            lines.append(_line(name, text))
            continue
        sub = rest.split(" ", 1)[0]
        if first != group:
            group, last_sub = first, sub
            lines.append(_line(first, sub))
        elif sub != last_sub:
            lines[-1] += f"|{sub}"
            last_sub = sub
    return head + "".join(line + "\n" for line in lines)
