"""``doveconf --check``: every error of a configuration tree in one run.

Real doveconf stops at the first error, so fixing a tree takes one run per mistake.  This
reports them all, each with its file and line, and suggests the closest known name for
an unknown setting.
"""

from __future__ import annotations

import difflib
import re
import sys
from typing import TextIO

_UNKNOWN = re.compile(r"^Unknown setting: (?:.*\{ )?(?P<key>[^ {]+)$")


def _all_names() -> list[str]:
    import pydovecot.settings as registry

    names = {s.name for s in registry.ROOT.settings}
    for stype in registry.SECTION_TYPES.values():
        names.update(s.name for s in stype.settings)
    return sorted(names)


def suggestion(message: str) -> str | None:
    """The closest setting name for an "Unknown setting" message, if any is close."""
    match = _UNKNOWN.match(message)
    if match is None:
        return None
    close = difflib.get_close_matches(match.group("key"), _all_names(), n=1, cutoff=0.75)
    return close[0] if close else None


def run_check(path: str, out: TextIO) -> int:
    from pydovecot.config.build import check_all

    def warn(message: str) -> None:
        sys.stderr.write(f"doveconf: Warning: {message}\n")

    _, errors = check_all(path, warn=warn)
    for error in errors:
        where = path if error.path is None else error.path
        place = f"{where}:{error.line}" if error.line is not None else where
        hint = suggestion(error.message)
        extra = f" (did you mean {hint}?)" if hint else ""
        out.write(f"{place}: {error.message}{extra}\n")
    if errors:
        out.write(f"{len(errors)} error{'s' if len(errors) != 1 else ''} in {path}\n")
        return 89
    out.write(f"No errors in {path}\n")
    return 0
