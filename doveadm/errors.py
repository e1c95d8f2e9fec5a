"""How a doveadm run ends early: the exit codes and messages real doveadm uses."""

from __future__ import annotations

# sysexits.h values doveadm uses, and lib-dovecot's default fatal status
EX_USAGE = 64
EX_TEMPFAIL = 75
FATAL_DEFAULT = 89


class DoveadmExit(Exception):
    """Stop now: write ``message`` (if any) to stderr, exit with ``code``."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fatal(DoveadmExit):
    """i_fatal(): "Fatal: <text>" on stderr, exit 75 (doveadm maps fatal exits to EX_TEMPFAIL)."""

    def __init__(self, text: str, *, prefix: str = "") -> None:
        super().__init__(EX_TEMPFAIL, f"{prefix}Fatal: {text}\n")


class UsageExit(DoveadmExit):
    """A command-line mistake that prints ``message`` (already formatted) and exits 64."""

    def __init__(self, message: str) -> None:
        super().__init__(EX_USAGE, message)
