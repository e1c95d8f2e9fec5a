"""Date header parsing as Dovecot's message_date_parse() does it, and the day arithmetic
SEARCH uses (a search date is midnight UTC of that day; what is compared against it is the
message's time shifted into the relevant time zone).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

__all__ = ["parse_date_header", "day_start", "DAY"]

DAY = 86400
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ZONES = {
    "ut": 0,
    "gmt": 0,
    "z": 0,
    "edt": -4 * 60,
    "est": -5 * 60,
    "cdt": -5 * 60,
    "cst": -6 * 60,
    "mdt": -6 * 60,
    "mst": -7 * 60,
    "pdt": -7 * 60,
    "pst": -8 * 60,
}
_DATE = re.compile(
    r"\s*(?:[A-Za-z]+\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2,4})\s+"
    r"(\d{2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*([+-]\d{4}|[A-Za-z]+)?"
)


def parse_date_header(value: str | None) -> tuple[int, int] | None:
    """(UTC epoch seconds, zone offset in minutes), or None when the value is not a date."""
    if value is None:
        return None
    text = re.sub(r"\([^()]*\)", " ", value)
    match = _DATE.match(text)
    if match is None:
        return None
    day_s, month_s, year_s, hour, minute, second, zone = match.groups()
    try:
        month = _MONTHS.index(month_s.lower()) + 1
    except ValueError:
        return None
    year = int(year_s)
    if len(year_s) == 2:
        year += 2000 if year < 70 else 1900
    elif len(year_s) == 3:
        year += 1900
    try:
        local = calendar.timegm((year, month, int(day_s), int(hour), int(minute), int(second or 0), 0, 0, 0))
        date(year, month, int(day_s))
    except ValueError:
        return None
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 60:
        return None
    offset = _zone_minutes(zone)
    return local - offset * 60, offset


def _zone_minutes(zone: str | None) -> int:
    if not zone:
        return 0
    if zone[0] in "+-":
        minutes = int(zone[1:3]) * 60 + int(zone[3:5])
        return -minutes if zone[0] == "-" else minutes
    return _ZONES.get(zone.lower(), 0)


def day_start(day: date) -> int:
    """Midnight UTC at the start of day, as epoch seconds."""
    return calendar.timegm((day.year, day.month, day.day, 0, 0, 0, 0, 0, 0))
