"""Serialising IMAP responses: tagged, untagged, continuations, strings, and Dovecot's error texts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ImapProtocolError, Severity

CRLF = b"\r\n"
# Strings that can go out quoted: 7-bit, no CR/LF/NUL, short enough to read at a glance.
_QUOTABLE = re.compile(rb"[\x01-\x09\x0b\x0c\x0e-\x7f]{0,1024}")
_ATOM_SAFE = re.compile(rb"[^(){ \x00-\x1f\x7f%*\"\\\]\x80-\xff]+")

# The texts Dovecot 2.3.19 sends for malformed input.
PRE_LOGIN_GENERIC_ERROR = "Error in IMAP command received by server."
LITERAL_TOO_LARGE = "Literal size too large"
INPUT_BUFFER_FULL = "Input buffer full, aborting"
CONTINUE_LITERAL = "OK"
CONTINUE_IDLE = "idling"
EXPECTED_DONE = "Expected DONE."


def quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(value: bytes, binary: bool = False) -> bytes:
    return (b"~" if binary else b"") + b"{%d}\r\n" % len(value) + value


def string(value: bytes) -> bytes:
    """A string as quoted when it can be, else as a literal."""
    return quoted(value) if _QUOTABLE.fullmatch(value) else literal(value)


def nstring(value: bytes | None) -> bytes:
    return b"NIL" if value is None else string(value)


def astring(value: bytes) -> bytes:
    return value if _ATOM_SAFE.fullmatch(value) and value.upper() != b"NIL" else string(value)


def paren_list(items: Iterable[bytes]) -> bytes:
    return b"(" + b" ".join(items) + b")"


def response_code(name: str, argument: bytes | None = None) -> bytes:
    return b"[" + name.encode("ascii") + (b" " + argument if argument is not None else b"") + b"]"


def tagged(tag: bytes, status: str, text: str, code: bytes | None = None) -> bytes:
    """`a OK [CODE ...] text`; `status` is OK, NO or BAD."""
    middle = b" " + code if code is not None else b""
    return tag + b" " + status.encode("ascii") + middle + b" " + text.encode("utf-8") + CRLF


def untagged(data: bytes | str) -> bytes:
    """`* 3 EXISTS`, `* FLAGS (...)`: untagged data."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    return b"* " + body + CRLF


def untagged_status(status: str, text: str, code: bytes | None = None) -> bytes:
    """`* OK [UNSEEN 1] First unseen.`: an untagged OK/NO/BAD/BYE/PREAUTH."""
    return tagged(b"*", status, text, code)


def continuation(text: str = CONTINUE_LITERAL) -> bytes:
    return b"+ " + text.encode("utf-8") + CRLF


def bye(text: str) -> bytes:
    return untagged("BYE " + text)


def with_timing(text: str, timing: str) -> str:
    """Insert Dovecot's "(0.001 + 0.000 secs)" before the final period of a tagged reply text."""
    if text.endswith("."):
        return f"{text[:-1]} ({timing})."
    return f"{text} ({timing})."


def error_text(error: ImapProtocolError, logged_in: bool) -> str:
    """The human part of Dovecot's reply to a malformed command, without tag and status."""
    if not logged_in:
        return error.reason if error.lexical else PRE_LOGIN_GENERIC_ERROR
    if not error.prefixed:
        return error.reason + "."
    if error.tag is None:
        return "Error in IMAP tag: Invalid tag."
    if error.command is None:
        return f"Error in IMAP command: {error.reason}."
    return f"Error in IMAP command {error.command}: {error.reason}."


def error_reply(error: ImapProtocolError, logged_in: bool) -> bytes:
    """The full reply line for a malformed command, as Dovecot 2.3.19 sends it (without timing)."""
    tag = error.tag if error.tag is not None else b"*"
    if error.severity is Severity.BYE:
        return bye(error.reason)
    return tagged(tag, error.severity.value, error_text(error, logged_in))
