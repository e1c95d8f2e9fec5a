"""Setting values: text as an admin writes it -> Python value -> text as doveconf prints it.

Each kind owns its parsing and its canonical form.  Parsing accepts what Dovecot 2.3's
settings parser accepts and fails with the same message text; formatting produces what
``doveconf`` prints (sizes in the largest whole unit: "10 M"; times in the largest whole
unit: "2 mins"; modes as "0%o").  A default declared as doveconf prints it therefore
parses back to the same value.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, Setting

UINT_MAX = 2**32 - 1
UOFF_MAX = 2**64 - 1


class ValueError_(Exception):
    """A value that does not fit its setting's kind.  The message is Dovecot's text."""


def _num_error(text: str) -> str:
    if text.startswith("-"):
        return "Number too small"
    if text.isdigit() and text.isascii():
        return "Number too large"
    return "Not a valid number"


def parse_uint(text: str, limit: int = UINT_MAX) -> int:
    if text.isascii() and text.isdigit() and int(text) <= limit:
        return int(text)
    raise ValueError_(f"Invalid number {text}: {_num_error(text)}")


def _leading_number(text: str) -> tuple[int, str] | None:
    """Digits at the start of ``text`` and what follows, as strtoumax-style parsing sees it."""
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    if end == 0:
        return None
    return int(text[:end]), text[end:]


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "y") or text == "1":
        return True
    if lowered == "no":
        return False
    raise ValueError_(f"Invalid boolean value: {text} (use yes or no)")


def parse_octal(text: str) -> int:
    if not text.startswith("0"):
        return parse_uint(text)
    digits = text[1:]
    if digits and not all(c in "01234567" for c in digits):
        raise ValueError_(f"Invalid number: {text}")
    value = int(digits, 8) if digits else 0
    if value > UOFF_MAX:
        raise ValueError_(f"Invalid number: {text}")
    return value & UINT_MAX


def parse_size(text: str) -> int:
    parsed = _leading_number(text)
    if parsed is None or parsed[0] > UOFF_MAX:
        raise ValueError_(f"Invalid size: {text}")
    number, rest = parsed
    rest = rest.lstrip(" ")
    multiply = 1
    if rest:
        unit = rest[0].upper()
        multiply = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(unit, 0)
        if multiply:
            rest = rest[1:]
            if multiply > 1:
                # "k", "ki" and "kiB" all mean kibibytes.
                if rest[:1].upper() == "I":
                    rest = rest[1:]
                if rest[:1].upper() == "B":
                    rest = rest[1:]
        else:
            multiply = 1
    if rest:
        raise ValueError_(f"Invalid size: {text}")
    if number > UOFF_MAX // multiply:
        raise ValueError_(f"Size is too large: {text}")
    return number * multiply


def _unit_matches(rest: str, *words: str) -> bool:
    lowered = rest.lower()
    return any(word.startswith(lowered) for word in words)


def parse_time(text: str, *, milliseconds: bool = False) -> int:
    """Seconds (or milliseconds when ``milliseconds``) for a time interval."""
    parsed = _leading_number(text)
    if parsed is None:
        raise ValueError_(f"Invalid time interval: {text}")
    number, rest = parsed
    rest = rest.lstrip(" ")
    if not rest and number != 0:
        raise ValueError_(f"Time interval '{text}' is missing units (add e.g. 's' for seconds)")
    multiply = 1000 if milliseconds else 1
    if rest:
        unit = rest[0].upper()
        if unit == "S":
            if _unit_matches(rest, "secs", "seconds"):
                rest = ""
        elif unit == "M":
            multiply *= 60
            if _unit_matches(rest, "mins", "minutes"):
                rest = ""
            elif _unit_matches(rest, "msecs", "mseconds", "millisecs", "milliseconds"):
                if not milliseconds and number % 1000 != 0:
                    raise ValueError_(f"Milliseconds not supported for this setting: {text}")
                if not milliseconds:
                    number //= 1000
                multiply = 1
                rest = ""
        elif unit == "H":
            multiply *= 3600
            if _unit_matches(rest, "hours"):
                rest = ""
        elif unit == "D":
            multiply *= 86400
            if _unit_matches(rest, "days"):
                rest = ""
        elif unit == "W":
            multiply *= 604800
            if _unit_matches(rest, "weeks"):
                rest = ""
    if rest:
        raise ValueError_(f"Invalid time interval: {text}")
    if number > UINT_MAX // multiply:
        raise ValueError_(f"Time interval is too large: {text}")
    return number * multiply


def parse_port(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise ValueError_(f"Invalid port number {text}")


def parse_enum(text: str, allowed: tuple[str, ...]) -> str:
    if text in allowed:
        return text
    raise ValueError_(f"Invalid value: {text}")


def parse(setting: Setting, text: str) -> object:
    """The Python value of ``text`` for ``setting``; raises ValueError_ with Dovecot's text."""
    kind = setting.kind
    if kind is Kind.STR or kind is Kind.STR_VARS:
        return text
    if kind is Kind.BOOL:
        return parse_bool(text)
    if kind is Kind.UINT:
        return parse_uint(text)
    if kind is Kind.SIZE:
        return parse_size(text)
    if kind is Kind.TIME:
        return parse_time(text)
    if kind is Kind.TIME_MSECS:
        return parse_time(text, milliseconds=True)
    if kind is Kind.OCTAL:
        return parse_octal(text)
    if kind is Kind.PORT:
        return parse_port(text)
    if kind is Kind.ENUM:
        return parse_enum(text, setting.values)
    return text


def format_size(size: int) -> str:
    if size == 0:
        return "0"
    suffix = "B"
    for unit in "kMGT":
        if size % 1024:
            break
        size //= 1024
        suffix = unit
    return f"{size} {suffix}"


def format_time(secs: int) -> str:
    if secs == 0:
        return "0"
    value, suffix = secs, "secs"
    for divisor, name in ((60, "mins"), (60, "hours"), (24, "days"), (7, "weeks")):
        if value % divisor:
            break
        value //= divisor
        suffix = name
    return f"{value} {suffix}"


def format_time_msecs(msecs: int) -> str:
    if msecs % 1000 == 0:
        return format_time(msecs // 1000)
    return f"{msecs} ms"


def format_value(setting: Setting, value: object) -> str:
    """The text doveconf prints for ``value``."""
    kind = setting.kind
    if kind is Kind.BOOL:
        return "yes" if value else "no"
    if kind is Kind.SIZE:
        return format_size(value)  # type: ignore[arg-type]
    if kind is Kind.TIME:
        return format_time(value)  # type: ignore[arg-type]
    if kind is Kind.TIME_MSECS:
        return format_time_msecs(value)  # type: ignore[arg-type]
    if kind is Kind.OCTAL:
        return f"0{value:o}"
    return str(value)


def canonical(setting: Setting, text: str) -> str:
    """``text`` as doveconf would print it once parsed (raises ValueError_ when invalid)."""
    return format_value(setting, parse(setting, text))
