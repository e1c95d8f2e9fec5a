"""The sans-I/O core, the state table and the response writer."""

from __future__ import annotations

from pydovecot.imap.protocol import commands as c
from pydovecot.imap.protocol import responses as r
from pydovecot.imap.protocol.core import (
    CommandReceived,
    CommandRejected,
    ConnectionClosing,
    Event,
    IdleDone,
    ImapServerProtocol,
)
from pydovecot.imap.protocol.state import COMMAND_STATES, ConnectionState, check_command_state

NA, AU, SE = ConnectionState.NOT_AUTHENTICATED, ConnectionState.AUTHENTICATED, ConnectionState.SELECTED


def _events(core: ImapServerProtocol, data: bytes) -> list[Event]:
    core.receive_data(data)
    return list(iter(core.next_event, None))


def test_pipelined_commands_are_checked_against_the_state_left_by_the_previous_one() -> None:
    core = ImapServerProtocol(AU)
    core.receive_data(b"a SELECT INBOX\r\nb FETCH 1 FLAGS\r\n")
    first = core.next_event()
    assert first == CommandReceived(c.Select(b"a", "INBOX"))
    core.state = SE  # the server executed SELECT
    second = core.next_event()
    assert isinstance(second, CommandReceived) and isinstance(second.command, c.Fetch)
    assert core.data_to_send() == b""


def test_wrong_state_replies() -> None:
    core = ImapServerProtocol(AU)
    events = _events(core, b"a FETCH 1 FLAGS\r\nb UID STORE 1 FLAGS ()\r\nc LOGIN u p\r\n")
    assert all(isinstance(e, CommandRejected) for e in events)
    assert core.data_to_send() == (
        b"a BAD No mailbox selected.\r\n"
        b"b BAD No mailbox selected.\r\n"
        b"c BAD Error in IMAP command LOGIN: Unknown command.\r\n"
    )
    pre = ImapServerProtocol(NA)
    _events(pre, b"a SELECT INBOX\r\nb IDLE\r\n")
    assert pre.data_to_send() == b"a BAD Error in IMAP command received by server.\r\n" * 1 + (
        b"b BAD Error in IMAP command received by server.\r\n"
    )


def test_state_table_is_complete_and_consistent() -> None:
    assert check_command_state("NOOP", NA) is None
    assert check_command_state("UID FETCH", SE) is None
    for name, states in COMMAND_STATES.items():
        for state in (NA, AU, SE):
            assert (check_command_state(name, state) is None) == (state in states)
    logout = check_command_state("NOOP", ConnectionState.LOGOUT)
    assert logout is not None


def test_synchronising_literal_gets_continuation_before_the_command() -> None:
    core = ImapServerProtocol(NA)
    assert _events(core, b"a LOGIN {5}\r\n") == []
    assert core.data_to_send() == b"+ OK\r\n"
    assert _events(core, b"alice secret\r\n") == [CommandReceived(c.Login(b"a", b"alice", b"secret"))]


def test_idle_waits_for_done() -> None:
    core = ImapServerProtocol(SE)
    (event,) = _events(core, b"t IDLE\r\n")
    assert event == CommandReceived(c.Idle(b"t"))
    core.start_idle(b"t")
    assert core.data_to_send() == b"+ idling\r\n"
    assert _events(core, b"done\r\n") == [IdleDone(b"t")]
    core.start_idle(b"u")
    _events(core, b"x NOOP\r\n")
    assert core.data_to_send() == b"+ idling\r\nu BAD Expected DONE.\r\n"


def test_fatal_input_closes() -> None:
    core = ImapServerProtocol(NA, max_line_length=100)
    assert _events(core, b"a LOGIN " + b"x" * 200 + b"\r\nb NOOP\r\n") == [
        ConnectionClosing(r.INPUT_BUFFER_FULL)
    ]
    assert core.data_to_send() == b"* BYE Input buffer full, aborting\r\n"
    huge = ImapServerProtocol(AU, max_literal_size=10)
    assert _events(huge, b"a SELECT {11}\r\n") == [ConnectionClosing(r.LITERAL_TOO_LARGE)]
    assert huge.data_to_send() == b"* BYE Literal size too large\r\n"


def test_post_login_too_long_argument_names_the_command() -> None:
    core = ImapServerProtocol(AU, max_line_length=100)
    _events(core, b"a SELECT " + b"x" * 200 + b"\r\n")
    assert core.data_to_send() == b"a BAD Error in IMAP command SELECT: Too long argument.\r\n"


def test_string_serialisation() -> None:
    assert r.string(b'say "hi" \\o/') == b'"say \\"hi\\" \\\\o/"'
    assert r.string(b"two\r\nlines") == b"{10}\r\ntwo\r\nlines"
    assert r.string("caf\u00e9".encode()) == b"{5}\r\ncaf\xc3\xa9"
    assert r.nstring(None) == b"NIL"
    assert r.astring(b"INBOX") == b"INBOX"
    assert r.astring(b"NIL") == b'"NIL"'
    assert r.literal(b"\x00", binary=True) == b"~{1}\r\n\x00"


def test_response_lines() -> None:
    assert r.tagged(b"a", "OK", "Logged in", r.response_code("CAPABILITY", b"IMAP4rev1")) == (
        b"a OK [CAPABILITY IMAP4rev1] Logged in\r\n"
    )
    assert r.untagged("3 EXISTS") == b"* 3 EXISTS\r\n"
    assert r.untagged_status("OK", "First unseen.", r.response_code("UNSEEN", b"1")) == (
        b"* OK [UNSEEN 1] First unseen.\r\n"
    )
    assert r.continuation() == b"+ OK\r\n"
    assert r.with_timing("Fetch completed.", "0.001 + 0.000 secs") == "Fetch completed (0.001 + 0.000 secs)."
