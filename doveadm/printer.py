"""The -f output formatters (doveadm-print): selection, and what each writes around a command.

Commands that only print plain text (pw, mailbox mutf7) still get the formatter's frame
at the end of a successful run: "tab" writes its (empty) title line, "json" its "[]".
Row output (headers + values) for the formatters is not implemented yet; commands that
need it will add it here.
"""

from __future__ import annotations

FORMATTERS = ("flow", "tab", "table", "pager", "json", "formatted")


def frame_text(formatter: str | None, *, hide_titles: bool) -> str:
    """What ``formatter`` writes at the end of a run that printed no rows."""
    if formatter == "tab":
        return "" if hide_titles else "\n"
    if formatter == "json":
        return "[]"
    return ""
