"""The command table: every doveadm command, collected from one module per group.

To add commands: write ``doveadm/commands/<group>.py`` declaring ``Command`` objects
(see doveadm/cmd.py) and a ``COMMANDS`` tuple, then add the module to ``_GROUPS`` below.
"""

from __future__ import annotations

from ..cmd import Command
from . import admin, auth, fts, mail, mailbox, pw, quota, user
from . import help as help_group

_GROUPS = (help_group, pw, auth, user, mailbox, mail, quota, fts, admin)

COMMANDS: tuple[Command, ...] = tuple(cmd for group in _GROUPS for cmd in group.COMMANDS)


def find(args: list[str]) -> tuple[Command, list[str]] | None:
    """The command named by the leading words of ``args`` and the arguments after them."""
    best: Command | None = None
    for command in COMMANDS:
        count = len(command.words)
        # on a tie the later declaration wins (a test or plugin may override a command)
        if tuple(args[:count]) == command.words and (best is None or count >= len(best.words)):
            best = command
    return (best, args[len(best.words):]) if best is not None else None


def has_subcommands(name: str) -> bool:
    return any(len(cmd.words) > 1 and cmd.words[0] == name for cmd in COMMANDS)
