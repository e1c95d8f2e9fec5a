"""Fuzz the POP3 command parser: any input gives replies or a Pop3ProtocolError, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pop3_fixtures import Driver, golden_mailbox, golden_settings

from pydovecot.pop3 import Pop3Connection, Pop3ProtocolError

VERBS = [
    "USER",
    "PASS",
    "APOP",
    "AUTH",
    "CAPA",
    "STLS",
    "STAT",
    "LIST",
    "UIDL",
    "TOP",
    "RETR",
    "DELE",
    "RSET",
    "NOOP",
    "QUIT",
    "LAST",
    "*",
    "",
]
ARG = st.one_of(
    st.integers(-5, 2**33).map(str), st.text(max_size=12), st.just("PLAIN"), st.just("AHRlc3RlcgBzZWNyZXQ=")
)
LINE = st.builds(
    lambda v, a: (v + " " + " ".join(a)).rstrip(" ") if a else v,
    st.sampled_from(VERBS),
    st.lists(ARG, max_size=3),
)


def run(chunks: list[bytes], login: bool) -> None:
    conn = Pop3Connection(golden_settings())
    driver = Driver(conn, golden_mailbox(), "tester", "secret")
    if login:
        driver.send(b"USER tester\r\nPASS secret\r\n")
    try:
        for chunk in chunks:
            out = driver.send(chunk)
            # every reply line is a complete CRLF line
            assert out == b"" or out.endswith(b"\r\n")
    except Pop3ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=25), st.booleans())
def test_command_lines_never_raise(lines: list[str], login: bool) -> None:
    run([(line + "\r\n").encode("utf-8", "surrogatepass") for line in lines], login)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20), st.booleans())
def test_raw_bytes_never_raise(chunks: list[bytes], login: bool) -> None:
    run(chunks, login)


def _dot_stuff_by_lines(data: bytes) -> bytes:
    """The obvious line-by-line definition dot_stuff must agree with."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = bytearray()
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.startswith(b"."):
            out += b"."
        out += line + b"\r\n"
    return bytes(out)


@given(st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"..", b" "]), max_size=40).map(b"".join))
@settings(max_examples=300, deadline=None)
def test_dot_stuff_matches_the_line_by_line_definition(data: bytes) -> None:
    from pydovecot.pop3.protocol import dot_stuff

    assert dot_stuff(data) == _dot_stuff_by_lines(data)
