"""The outcome of an expansion: text, Dovecot's status and the problems met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class VarExpandFailure(Exception):
    """Raised by a VarFunction to fail the expansion (Dovecot's -1 return)."""


@dataclass(frozen=True)
class ExpansionError:
    """One problem met while expanding: an unknown variable or a failed function."""

    kind: Literal["unknown", "failed"]
    message: str


@dataclass(frozen=True)
class Expansion:
    """The expanded text and what went wrong on the way (Dovecot keeps going after errors)."""

    text: str
    # Dovecot's return code: 1 success, 0 unknown variable(s), -1 failure.  Problems inside a
    # salt= expansion are listed in ``errors`` but, as in Dovecot, do not lower the status.
    status: int = 1
    errors: tuple[ExpansionError, ...] = ()
    # The one message Dovecot 2.3.19 would report, by its rules: an unknown letter does not
    # replace an earlier message, an unknown %{name} or a failure does, and the nested
    # expansions of %{if;...} and salt= start over (so Dovecot may report nothing, "(null)").
    reported_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 1

    @property
    def error(self) -> str | None:
        """The message for "Failed to expand ...: <error>" log lines, as Dovecot words it."""
        if self.status == 1:
            return None
        return self.reported_error if self.reported_error is not None else "(null)"

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(e.message for e in self.errors if e.kind == "unknown")
