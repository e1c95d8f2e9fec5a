"""MAIL FROM / RCPT TO arguments, with Dovecot's error texts (smtp-server's path parser).

The texts after ``Invalid FROM:`` / ``Invalid TO:`` are the ones Dovecot 2.3 sends, so a
client's logs read the same against both servers.
"""

from __future__ import annotations

from dataclasses import dataclass

# MAIL parameters Dovecot's LMTP accepts (it advertises 8BITMIME only; SIZE, AUTH... are refused).
MAIL_PARAMS = frozenset({"BODY"})
BODY_VALUES = frozenset({"7BIT", "8BITMIME"})
# RCPT parameters: ORCPT (RFC 3461) is accepted even though DSN is not advertised.
RCPT_PARAMS = frozenset({"ORCPT"})


class PathError(ValueError):
    """The path is malformed; the message follows ``Invalid FROM: `` / ``Invalid TO: ``."""


@dataclass(frozen=True)
class Path:
    address: str
    """Without the angle brackets; empty for the null path ``<>``."""
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


def parse_path(arg: str, keyword: str, *, allow_null: bool) -> Path:
    """``FROM:<a@b> BODY=8BITMIME`` -> Path; raise ValueError("params") when the keyword is missing."""
    if arg[: len(keyword) + 1].upper() != keyword + ":":
        raise ValueError("params")
    rest = arg[len(keyword) + 1:]
    if rest[:1] in (" ", "\t"):
        raise PathError("Unexpected whitespace before path")
    if not rest.startswith("<"):
        raise PathError("Missing '<' at beginning of path")
    end = _path_end(rest)
    if end < 0:
        raise PathError("Missing '>' at end of path")
    address = rest[1:end]
    if not address and not allow_null:
        raise PathError("Null path not allowed")
    tail = rest[end + 1:]
    if tail and not tail.startswith(" "):
        raise PathError("Invalid character in path")
    params = tuple(_param(word) for word in tail.split())
    return Path(address, params)


def _path_end(text: str) -> int:
    """Index of the closing '>' (a quoted local part may hold one)."""
    quoted = False
    for pos, char in enumerate(text[1:], start=1):
        if char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return pos
    return -1


def _param(word: str) -> tuple[str, str]:
    name, _, value = word.partition("=")
    return name.upper(), value


def mail_params_ok(path: Path) -> bool:
    for name, value in path.params:
        if name not in MAIL_PARAMS or (name == "BODY" and value.upper() not in BODY_VALUES):
            return False
    return True


def rcpt_params_ok(path: Path) -> bool:
    return all(name in RCPT_PARAMS for name, _ in path.params)


def orcpt_error(path: Path) -> str | None:
    """Dovecot's complaint about a malformed ORCPT= value, or None."""
    value = path.param("ORCPT")
    if value is None:
        return None
    _, _, addr = value.partition(";")
    pos = addr.find("+")
    while pos >= 0:
        if not _is_hex(addr[pos + 1: pos + 3]):
            return "Invalid ORCPT= parameter: Invalid hexchar after '+' in xtext"
        pos = addr.find("+", pos + 3)
    return None


def orcpt_address(value: str | None) -> str | None:
    """``rfc822;user@domain`` -> ``user@domain`` (xtext decoded)."""
    if not value:
        return None
    kind, _, addr = value.partition(";")
    if kind.lower() != "rfc822" or not addr:
        return None
    return _xtext_decode(addr)


def _xtext_decode(text: str) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "+" and _is_hex(text[pos + 1: pos + 3]):
            out.append(chr(int(text[pos + 1: pos + 3], 16)))
            pos += 3
        else:
            out.append(text[pos])
            pos += 1
    return "".join(out)


def _is_hex(pair: str) -> bool:
    """Two xtext hex digits (RFC 3461: upper case only)."""
    return len(pair) == 2 and all(c in "0123456789ABCDEF" for c in pair)


def split_detail(address: str, delimiters: str) -> tuple[str, str]:
    """``bob+work@example.test`` -> (``bob@example.test``, ``work``); any delimiter char splits."""
    if not delimiters:
        return address, ""
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    for pos, char in enumerate(local):
        if char in delimiters:
            user = local[:pos] + (at + domain if at else "")
            return user, local[pos + 1:]
    return address, ""
