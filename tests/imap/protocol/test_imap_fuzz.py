"""Property tests: arbitrary input never raises anything but our protocol errors, and the parser
inverts the serialiser."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydovecot.imap.protocol import commands as c
from pydovecot.imap.protocol import serialize
from pydovecot.imap.protocol.buffer import CommandLine, ReceiveBuffer
from pydovecot.imap.protocol.core import CommandReceived, CommandRejected, ImapServerProtocol
from pydovecot.imap.protocol.errors import ImapProtocolError
from pydovecot.imap.protocol.parser import parse_command
from pydovecot.imap.protocol.state import ConnectionState

# Fragments that steer random input into the interesting corners of the grammar.
_TOKENS = st.sampled_from(
    [
        b"a ",
        b"UID ",
        b"FETCH ",
        b"SEARCH ",
        b"STORE ",
        b"APPEND ",
        b"SELECT ",
        b"LIST ",
        b"STATUS ",
        b"LOGIN ",
        b"ID ",
        b"ENABLE ",
        b"COPY ",
        b"MOVE ",
        b"EXPUNGE ",
        b"CREATE ",
        b"(",
        b")",
        b" ",
        b'"',
        b"\\",
        b"{",
        b"}",
        b"{3}\r\n",
        b"{2+}\r\n",
        b"~{1}\r\n",
        b"{5000-}\r\n",
        b"[",
        b"]",
        b"<",
        b">",
        b"1:*",
        b"$",
        b"*",
        b",",
        b"NOT ",
        b"OR ",
        b"ALL",
        b"BODY[",
        b"HEADER.FIELDS (",
        b"&",
        b"-",
        b"&Jjo-",
        b"NIL",
        b"\\Seen",
        b"+FLAGS",
        b"(UNCHANGEDSINCE 5)",
        b"CHANGEDSINCE",
        b"RETURN (",
        b"CATENATE (",
        b"TEXT ",
        b"URL ",
        b"1-Jan-2024",
        b"\r\n",
        b"\n",
        b"\x00",
        b"\xff",
        b"4294967295",
    ]
)
_INPUT = st.lists(st.one_of(_TOKENS, st.binary(max_size=8)), max_size=40).map(b"".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_INPUT)
def test_parser_raises_only_protocol_errors(raw: bytes) -> None:
    try:
        parse_command(raw)
    except ImapProtocolError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_INPUT, st.sampled_from(list(ConnectionState)[:3]), st.integers(1, 7))
def test_core_survives_anything_fed_in_any_chunks(data: bytes, state: ConnectionState, step: int) -> None:
    core = ImapServerProtocol(state, max_line_length=200, max_literal_size=10_000)
    for i in range(0, len(data), step):
        core.receive_data(data[i : i + step])
        while (event := core.next_event()) is not None:
            if isinstance(event, CommandRejected):
                assert event.reply.endswith(b"\r\n")
            if isinstance(event, CommandReceived):
                assert isinstance(event.command.tag, bytes)
        core.data_to_send()


@settings(max_examples=200)
@given(st.binary(max_size=300), st.integers(1, 5))
def test_buffer_framing_does_not_depend_on_chunking(data: bytes, step: int) -> None:
    whole = ReceiveBuffer(max_line_length=64)
    whole.feed(data)
    expected = list(iter(whole.next_event, None))
    chunked = ReceiveBuffer(max_line_length=64)
    got = []
    for i in range(0, len(data), step):
        chunked.feed(data[i : i + step])
        got.extend(iter(chunked.next_event, None))
    # Framed commands are the same; a too-long line may be noticed earlier when fed in pieces.
    assert [e for e in got if isinstance(e, CommandLine)] == [
        e for e in expected if isinstance(e, CommandLine)
    ]
    assert chunked.bytes_scanned <= len(data)


# ---------------------------------------------------------------- round trips

_TAG = st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True).map(str.encode)
_MAILBOX = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
_NUM = st.integers(1, 0xFFFFFFFE)
_SEQNUM = st.one_of(_NUM, st.just(c.STAR))
_SEQSET = st.one_of(
    st.just(c.SequenceSet(saved_result=True)),
    st.lists(st.tuples(_SEQNUM, _SEQNUM), min_size=1, max_size=4).map(lambda r: c.SequenceSet(tuple(r))),
)
_FLAGS = st.lists(
    st.one_of(
        st.sampled_from(["\\Seen", "\\Deleted", "\\Flagged"]),
        st.from_regex(r"\$?[A-Za-z]{1,6}", fullmatch=True),
    ),
    max_size=3,
).map(lambda names: tuple(c.Flag(n) for n in names))
_SECTION = st.one_of(
    st.just(c.Section()),
    st.builds(
        c.Section,
        st.lists(st.integers(1, 20), min_size=1, max_size=3).map(tuple),
        st.sampled_from([None, "MIME"]),
    ),
    st.builds(
        lambda h: c.Section((), "HEADER.FIELDS", h),
        st.lists(st.sampled_from(["FROM", "TO", "SUBJECT"]), min_size=1, max_size=3).map(tuple),
    ),
)
_FETCH_ATTR = st.one_of(
    st.sampled_from(["FLAGS", "ENVELOPE", "MODSEQ", "SAVEDATE", "SNIPPET", "RFC822.SIZE"]).map(
        c.FetchAttribute
    ),
    st.builds(
        lambda s, p, peek: c.FetchAttribute("BODY", s, p, peek),
        _SECTION,
        st.one_of(st.none(), st.tuples(st.integers(0, 1000), st.integers(1, 1000))),
        st.booleans(),
    ),
)
_LEAF = st.one_of(
    st.sampled_from(["SEEN", "ALL", "FLAGGED", "NEW"]).map(c.SearchKey),
    st.builds(
        c.SearchKey,
        st.sampled_from(["FROM", "SUBJECT", "BODY"]),
        st.text('abc xyz"\\', min_size=1, max_size=6),
    ),
    st.builds(c.SearchKey, st.just("LARGER"), st.integers(0, 10**9)),
    st.builds(c.SearchKey, st.just("UID"), _SEQSET),
)
_CRITERION = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.builds(c.SearchNot, inner.filter(lambda k: not isinstance(k, c.SearchNot))),
        st.builds(c.SearchOr, inner, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda keys: c.SearchAnd(tuple(keys))),
    ),
    max_leaves=8,
)
_COMMANDS = st.one_of(
    st.builds(c.Login, _TAG, st.binary(min_size=1, max_size=10), st.binary(min_size=1, max_size=10)),
    st.builds(c.Select, _TAG, _MAILBOX, st.booleans(), st.booleans()),
    st.builds(
        c.Status,
        _TAG,
        _MAILBOX,
        st.lists(st.sampled_from(["MESSAGES", "UNSEEN", "SIZE"]), min_size=1).map(tuple),
    ),
    st.builds(
        c.Fetch,
        _TAG,
        _SEQSET,
        st.lists(_FETCH_ATTR, min_size=1, max_size=4).map(tuple),
        st.just(False),
        st.one_of(st.none(), st.integers(1, 10**12)),
    ),
    st.builds(
        c.Store,
        _TAG,
        _SEQSET,
        st.sampled_from(list(c.StoreAction)),
        _FLAGS,
        st.booleans(),
        st.booleans(),
        st.one_of(st.none(), st.integers(0, 10**12)),
    ),
    st.builds(c.Copy, _TAG, _SEQSET, _MAILBOX, st.booleans(), st.booleans()),
    st.builds(
        c.Search,
        _TAG,
        st.lists(_CRITERION, min_size=1, max_size=3).map(lambda k: c.SearchAnd(tuple(k))),
        st.booleans(),
    ),
    st.builds(
        c.Enable,
        _TAG,
        st.lists(st.sampled_from(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"]), max_size=3).map(tuple),
    ),
    st.builds(c.Expunge, _TAG, st.one_of(st.none(), _SEQSET)),
)


def _normal_mailbox(cmd: c.Command) -> c.Command:
    """The parser names INBOX canonically in upper case."""
    name = getattr(cmd, "mailbox", None)
    if isinstance(name, str) and name.upper() == "INBOX":
        import dataclasses

        return dataclasses.replace(cmd, mailbox="INBOX")  # type: ignore[type-var]
    return cmd


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_COMMANDS)
def test_parse_inverts_serialise(cmd: c.Command) -> None:
    assert parse_command(serialize.command(cmd)) == _normal_mailbox(cmd)
