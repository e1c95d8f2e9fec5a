"""Bad GETMETADATA / SETMETADATA input: a tagged BAD or NO, never a crash or a lost session."""

from __future__ import annotations

import random
import re

import pytest

from pydovecot.imap.commands.metadata import parse_args, verify_entry_name
from pydovecot.imap.protocol.errors import ImapProtocolError

from .cases import LOGIN, USERS, run_case
from .harness import running_server
from .metadata_cases import ON

_PIECES = [b"(", b")", b" ", b'"', b"\\", b"NIL", b"/private", b"/shared", b"/", b"*", b"%", b"INBOX", b'""',
           b"DEPTH", b"MAXSIZE", b"infinity", b"1", b"-1", b"\x00", b"\x01", b"\xc3\xa9", b"~", b"{", b"}", b"a"]


def garbage(rng: random.Random) -> bytes:
    return b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14)))


def test_parser_only_raises_protocol_errors() -> None:
    rng = random.Random(5464)
    for _ in range(5000):
        raw = b" " + garbage(rng)
        try:
            for arg in parse_args(raw):
                if arg.astring is not None:
                    verify_entry_name(arg.astring)
        except ImapProtocolError:
            pass


@pytest.mark.parametrize("seed", range(5))
def test_server_answers_every_garbage_command_and_keeps_serving(seed: int) -> None:
    rng = random.Random(seed)
    lines = [LOGIN, 'b SETMETADATA INBOX (/private/a "1" /private/a/b "2")']
    for i in range(15):  # 20 BADs in a row end the session, as in Dovecot
        command = rng.choice(["GETMETADATA", "SETMETADATA"])
        text = garbage(rng).replace(b"\x00", b"").replace(b"{", b"").decode("utf-8", "replace")
        lines.append(f"g{i} {command} {text}".rstrip())
    lines.append("z NOOP")
    with running_server(ON) as server:
        pairs = run_case("127.0.0.1", server.port, lines)
    assert len(pairs) == len(lines) + 1
    for line, reply in pairs[3:-1]:
        tag = line.split(" ", 1)[0]
        assert re.search(rf"^{tag} (OK|NO|BAD) ", reply, re.M), (line, reply)
    assert pairs[-1][1].startswith("z OK NOOP completed")


def test_unreadable_dict_is_a_no_and_the_session_goes_on() -> None:
    with running_server(ON) as server:
        home = server.tmp / "home" / USERS[0]
        run_case("127.0.0.1", server.port, [LOGIN, "b NOOP"])  # the home exists from now on
        (home / "dovecot-attributes").mkdir()  # reading or replacing the dict fails
        pairs = run_case("127.0.0.1", server.port, [LOGIN, 'b SETMETADATA INBOX (/private/a "1")',
                                                    "c GETMETADATA INBOX /private/a", "d NOOP"])
    assert pairs[2][1].startswith("b NO "), pairs[2]
    assert pairs[3][1].startswith("c NO "), pairs[3]
    assert pairs[4][1].startswith("d OK NOOP completed")
