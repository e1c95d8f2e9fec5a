"""What a running command gets: its parsed parameters, output streams and (lazily) settings."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO, Any

from .config_source import ConfigSource


@dataclass
class GlobalOptions:
    """doveadm's own options, before the command name."""

    debug: bool = False  # -D
    verbose: bool = False  # -v (and -D)
    formatter: str | None = None  # -f
    hide_titles: bool = False  # -h
    config: ConfigSource = field(default_factory=ConfigSource)


@dataclass
class CommandContext:
    """``values`` maps parameter names to parsed values (absent = not given).

    ``out`` is the command's plain-text output. Like C stdio it is flushed at exit, after
    the formatter's own frame, unless stdout is a terminal (then each line goes at once):
    this keeps `doveadm -f json pw -l` byte-identical to real ("[]" then the list).
    """

    values: dict[str, Any]
    options: GlobalOptions
    stdin: IO[bytes] = field(default_factory=lambda: sys.stdin.buffer)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    out_buffer: list[str] = field(default_factory=list)
    # Set by commands that printed rows: the formatter already wrote its own frame.
    frame_done: bool = False

    def out(self, text: str) -> None:
        self.out_buffer.append(text)

    def error(self, text: str) -> None:
        """i_error(): "Error: <text>" on stderr; the command continues."""
        self.stderr.write(f"Error: {text}\n")
        self.stderr.flush()

    @property
    def settings(self) -> Any:
        return self.options.config.settings()
