"""Our protocol core against Dovecot 2.3.19's recorded replies to the same malformed input.

`goldens/imap_errors.json` holds, per case of `imap_golden_cases.CASES`, what a live Dovecot
sent back after each chunk. Replies that are protocol-level (BAD, BYE, a continuation request,
the mUTF-7 NO) must come out of our core byte for byte, timing suffix aside; replies that come
from executing a well-formed command mean our core must hand that command to the server layer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from imap_golden_cases import CASES, GoldenCase

from pydovecot.imap.protocol.commands import Idle
from pydovecot.imap.protocol.core import CommandReceived, IdleDone, ImapServerProtocol
from pydovecot.imap.protocol.state import ConnectionState

GOLDEN = json.loads((Path(__file__).parent / "goldens" / "imap_errors.json").read_text())["cases"]
_TIMING = re.compile(r" \([0-9.]+(?: \+ [0-9.]+)* secs\)")
_PROTOCOL_LINE = re.compile(r"^(\S+ BAD |\* BYE |\+ |\S+ NO Mailbox name is not valid mUTF-7)")

# Where Dovecot's own recovery after an error differs from ours, only the first line is compared.
FIRST_LINE_ONLY = {
    # Dovecot stops at the bad flag or date and then reads the literal's contents as a new
    # command ("x BAD ..."); our buffer frames the whole command, literal included, first.
    "append_bad_flags": "the literal body is not re-read as a command",
    "append_bad_date": "the literal body is not re-read as a command",
    # Dovecot reads "5000-}" as the next command's tag; we drop the rest of the line.
    "literal_minus_too_big": "the rest of the announcing line is dropped",
}
# Decided by the session's state, not by the grammar: the server layer owns these replies.
SERVER_LAYER = {
    "select_condstore_qresync_bad": "QRESYNC must have been ENABLEd: session state",
    "append_huge_literal": "Dovecot streams APPEND literals of any size to storage",
    "fetch_max_uint32": "2^32-1 parses; a sequence number beyond the mailbox is the session's BAD",
}


def _normalise(reply: str) -> list[str]:
    reply = reply.replace("<connection reset>", "").replace("<connection closed>", "")
    return [_TIMING.sub("", line) for line in reply.split("\r\n") if line]


def _protocol_lines(reply: str) -> list[str]:
    return [line for line in _normalise(reply) if _PROTOCOL_LINE.match(line)]


def _replay(case: GoldenCase) -> list[tuple[str, int]]:
    """Feed the chunks; per chunk, what the core queued and how many commands it handed on."""
    core = ImapServerProtocol(ConnectionState(case.state.replace("_", " ")))
    results = []
    for chunk in case.chunks:
        core.receive_data(chunk)
        accepted = 0
        while (event := core.next_event()) is not None:
            if isinstance(event, IdleDone):
                accepted += 1
            if isinstance(event, CommandReceived):
                accepted += 1
                if isinstance(event.command, Idle):
                    core.start_idle(event.command.tag)
        results.append((core.data_to_send().decode("latin-1"), accepted))
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_core_replies_as_dovecot_does(case: GoldenCase) -> None:
    if case.name in SERVER_LAYER:
        pytest.skip(SERVER_LAYER[case.name])
    golden = GOLDEN[case.name]
    ours = _replay(case)
    for golden_reply, (our_reply, accepted) in zip(golden, ours, strict=False):
        if golden_reply.startswith("<send failed"):
            break  # Dovecot had closed the connection after the previous reply
        expected = _protocol_lines(golden_reply)
        got = _normalise(our_reply)
        if case.name in FIRST_LINE_ONLY:
            expected, got = expected[:1], got[:1]
        assert got == expected, f"chunk reply differs: golden {golden_reply!r}"
        if not expected and _normalise(golden_reply):
            # Dovecot executed something: our core must have handed a command on.
            assert accepted >= 1, f"Dovecot executed this, our core did not accept it: {golden_reply!r}"


def test_every_case_has_a_golden() -> None:
    assert {c.name for c in CASES} == set(GOLDEN)
