"""Where doveadm's configuration comes from, checked the way doveadm checks it at start-up.

Real doveadm reads the whole configuration before running any command (except
`help <cmd>`). We check the same things cheaply up front (the -o syntax, that the file
exists) so errors match, and parse the configuration only when a command asks for
``ctx.settings`` - the config engine is ``pydovecot.config``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .errors import Fatal

DEFAULT_CONFIG_PATH = "/etc/dovecot/dovecot.conf"


@dataclass
class ConfigSource:
    path: str = DEFAULT_CONFIG_PATH
    overrides: list[str] = field(default_factory=list)  # -o key=value, in order
    disabled: bool = False  # -O: run without reading any configuration
    _settings: Any = None

    def preflight(self) -> None:
        """Fail like doveadm does when the configuration cannot even be opened."""
        if self.disabled:
            return
        try:
            os.stat(self.path)
        except OSError as error:
            raise Fatal(f"Error reading configuration: stat({self.path}) failed: {error.strerror}") from None
        for override in self.overrides:
            if "=" not in override:
                raise Fatal(f"Error reading configuration: Invalid -o parameter {override}: Missing '='")

    def settings(self) -> Any:
        """The parsed configuration, loaded on first use."""
        if self._settings is None:
            try:
                from pydovecot import config  # noqa: PLC0415 - only commands that need it pay for it
                load = config.load_for_doveadm  # type: ignore[attr-defined]
            except (ImportError, AttributeError):
                raise Fatal("Error reading configuration: the pydovecot.config engine is not available") from None
            self._settings = load(self.path, [tuple(o.split("=", 1)) for o in self.overrides])
        return self._settings
