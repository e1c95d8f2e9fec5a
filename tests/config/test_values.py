"""Value types: Dovecot's accepted spellings, its error texts and doveconf's output form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.config import values as v


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("10", 10), ("1k", 1024), ("1 K", 1024), ("1kB", 1024), ("1kiB", 1024), ("3M", 3 << 20),
     ("2G", 2 << 30), ("1T", 1 << 40), ("7B", 7), ("5 b", 5)],
)
def test_sizes(text: str, expected: int) -> None:
    assert v.parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("10X", "Invalid size: 10X"), ("k", "Invalid size: k"),
     ("99999999999T", "Size is too large: 99999999999T")],
)
def test_bad_sizes(text: str, message: str) -> None:
    with pytest.raises(v.ValueError_, match=f"^{message}$"):
        v.parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("30s", 30), ("30 secs", 30), ("2 mins", 120), ("2m", 120), ("1 hour", 3600), ("1h", 3600),
     ("2 days", 172800), ("1 weeks", 604800), ("2000 ms", 2), ("3000 milliseconds", 3)],
)
def test_times(text: str, expected: int) -> None:
    assert v.parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("3600", "Time interval '3600' is missing units (add e.g. 's' for seconds)"),
     ("1500ms", "Milliseconds not supported for this setting: 1500ms"),
     ("5 fortnights", "Invalid time interval: 5 fortnights"),
     ("x", "Invalid time interval: x"),
     ("99999999999 weeks", "Time interval is too large: 99999999999 weeks")],
)
def test_bad_times(text: str, message: str) -> None:
    with pytest.raises(v.ValueError_) as excinfo:
        v.parse_time(text)
    assert str(excinfo.value) == message


def test_milliseconds_kind_keeps_milliseconds() -> None:
    assert v.parse_time("1500ms", milliseconds=True) == 1500
    assert v.parse_time("2s", milliseconds=True) == 2000
    assert v.format_time_msecs(1500) == "1500 ms"


@pytest.mark.parametrize(("text", "expected"), [("yes", True), ("Y", True), ("1", True), ("NO", False)])
def test_booleans(text: str, expected: bool) -> None:
    assert v.parse_bool(text) is expected


@pytest.mark.parametrize("text", ["n", "0", "true", ""])
def test_bad_booleans(text: str) -> None:
    with pytest.raises(v.ValueError_) as excinfo:
        v.parse_bool(text)
    assert str(excinfo.value) == f"Invalid boolean value: {text} (use yes or no)"


@pytest.mark.parametrize(
    ("text", "message"),
    [("-1", "Invalid number -1: Number too small"), ("abc", "Invalid number abc: Not a valid number"),
     ("+5", "Invalid number +5: Not a valid number"),
     ("99999999999", "Invalid number 99999999999: Number too large")],
)
def test_bad_numbers(text: str, message: str) -> None:
    with pytest.raises(v.ValueError_) as excinfo:
        v.parse_uint(text)
    assert str(excinfo.value) == message


def test_modes_read_octal_only_with_a_leading_zero() -> None:
    assert v.parse_octal("0600") == 0o600
    assert v.parse_octal("600") == 600  # decimal, as Dovecot reads it
    with pytest.raises(v.ValueError_, match="^Invalid number: 0689$"):
        v.parse_octal("0689")


def test_ports() -> None:
    assert v.parse_port("143") == 143
    with pytest.raises(v.ValueError_, match="^Invalid port number 99999$"):
        v.parse_port("99999")


@given(st.integers(min_value=0, max_value=2**40))
def test_size_formatting_round_trips(size: int) -> None:
    assert v.parse_size(v.format_size(size).replace(" ", "")) == size


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_time_formatting_round_trips(secs: int) -> None:
    text = v.format_time(secs)
    assert v.parse_time(text) == secs


def test_formatting_picks_the_largest_whole_unit() -> None:
    assert v.format_size(0) == "0"
    assert v.format_size(1024) == "1 k"
    assert v.format_size(1025) == "1025 B"
    assert v.format_size(2**64 - 1) == "18446744073709551615 B"
    assert v.format_time(90) == "90 secs"
    assert v.format_time(3600) == "1 hours"
    assert v.format_time(14 * 86400) == "2 weeks"
