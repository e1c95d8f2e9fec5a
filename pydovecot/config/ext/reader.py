"""The driver-file reader: dovecot.lark's statements, with lib-settings' semantics.

Differences from dovecot.conf that Dovecot's older reader has and we keep: no ``$name``
or ``<file`` values (the text is taken as written), a malformed line is "Expecting '='",
and each driver decides which keys and sections exist (``Schema`` below).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydovecot.config import parser as p
from pydovecot.config.errors import ConfigError

STR, BOOL, UINT = "str", "bool", "uint"


@dataclass(frozen=True, slots=True)
class ExtSetting:
    name: str
    kind: str = STR


def convert(setting: ExtSetting, value: str) -> object:
    """A value as lib-settings converts it (its own, older error texts)."""
    if setting.kind == BOOL:
        lowered = value.lower()
        if lowered in ("yes", "no"):
            return lowered == "yes"
        raise ValueError(f"Invalid boolean: {value}")
    if setting.kind == UINT:
        try:
            number = int(value, 0)
        except ValueError:
            raise ValueError(f"Invalid number: {value}") from None
        if number < 0:
            raise ValueError(f"Invalid number: {value}")
        return number
    return value


def statements(path: str, warn: Callable[[str], None] | None = None) -> Iterator[p.Statement]:
    """The statements of a driver file, values as written; raises ConfigError."""
    if not os.path.exists(path):
        raise ConfigError(f"Can't open configuration file {path}: No such file or directory")
    depth = 0
    try:
        for st in p.read_statements(path, warn or (lambda message: None)):
            if st.kind == p.ASSIGN_FILE:
                st = p.Statement(p.ASSIGN, st.key, "<" + st.value, st.path, st.line)
            elif st.kind == p.ASSIGN_VARIABLE:
                st = p.Statement(p.ASSIGN, st.key, st.value, st.path, st.line)
            elif st.kind == p.SECTION_OPEN:
                depth += 1
            elif st.kind == p.SECTION_CLOSE:
                if depth == 0:
                    raise ConfigError("Unexpected '}'", st.path, st.line)
                depth -= 1
            yield st
    except ConfigError as e:
        if e.message == "Expecting '{'":
            raise ConfigError("Expecting '='", e.path, e.line) from None
        raise
