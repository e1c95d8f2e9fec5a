"""The IMAP command grammar: one framed command line in, one typed command (or an error) out.

RFC 3501 plus the extensions Dovecot 2.3 advertises (LITERAL+, SASL-IR, ID, ENABLE, IDLE,
MULTIAPPEND, CATENATE, UNSELECT, UIDPLUS, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CONDSTORE,
QRESYNC, ESEARCH, SEARCHRES, WITHIN, BINARY, MOVE, SNIPPET/PREVIEW, SAVEDATE, STATUS=SIZE).
Error reasons are worded as Dovecot 2.3.19 words them; `responses.py` adds the prefix.
The parser is state-free: which command is allowed when is `state.py`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from . import commands as c
from .errors import ImapProtocolError, Severity
from .lexer import Lexer
from .mutf7 import InvalidMutf7, decode_mutf7

# Tags: astring characters except '+'; '*' alone is not a tag either.
_TAG = re.compile(rb"[^(){ \x00-\x1f\x7f%*\"\\+]+")
_COMMAND_NAME = re.compile(rb"[A-Za-z0-9._-]+")
# 2^32-1 parses (UID FETCH 1:4294967295 works in Dovecot); for sequence numbers it is beyond any
# mailbox, which the server layer reports as "Invalid messageset".
_UINT32_MAX_SEQ = 0xFFFFFFFF
_NUMBER = re.compile(rb"[0-9]+")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_SYSTEM_FLAGS = {f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")}
# Depth of the SEARCH program tree we build. Redundant nesting ("((ALL))", "NOT NOT") is folded
# away while parsing, so only real OR/NOT/AND structure counts. Dovecot has no limit other than
# the line length; we refuse deeper trees so that code walking them recursively stays safe.
MAX_SEARCH_DEPTH = 100


def split_tag(raw: bytes) -> tuple[bytes | None, bytes | None, int]:
    """The tag and upper-cased command name of a raw line, and where the arguments start.

    Either may be None when missing or invalid; used for error replies as well as parsing.
    """
    tag_match = _TAG.match(raw)
    if tag_match is None or (tag_match.end() < len(raw) and raw[tag_match.end()] != 0x20):
        return None, None, 0
    tag = tag_match.group()
    pos = tag_match.end() + 1
    name_match = _COMMAND_NAME.match(raw, pos)
    if name_match is None:
        return tag, None, pos
    end = name_match.end()
    if end < len(raw) and raw[end] != 0x20:
        return tag, None, pos
    return tag, name_match.group().upper(), end


def parse_command(raw: bytes) -> c.Command:
    """Parse one framed command line (as `ReceiveBuffer` gives it)."""
    tag, name, pos = split_tag(raw)
    if tag is None:
        raise ImapProtocolError("Invalid tag", tag=None, command=None)
    if name is None:
        raise ImapProtocolError("Invalid command name", tag=tag, command=None)
    display = name.decode("ascii")
    lexer = Lexer(raw, pos)
    uid = False
    if name == b"UID":
        sub = lexer.read_atom() if lexer.skip_space() else None
        if sub is None:
            raise ImapProtocolError("Invalid command name", tag=tag, command=None)
        display = "UID " + sub.decode("ascii", "replace").upper()
        name = sub.upper()
        uid = True
        if name not in _UID_COMMANDS:
            raise ImapProtocolError("Unknown command", tag=tag, command=display)
    handler = _HANDLERS.get(name)
    if handler is None:
        raise ImapProtocolError("Unknown command", tag=tag, command=display)
    try:
        return handler(tag, lexer, uid)
    except ImapProtocolError as exc:
        raise exc.with_context(tag, display) from None


# ------------------------------------------------------------------ shared argument readers


def _arg(lexer: Lexer, reason: str = "Missing arguments") -> None:
    """The single space that must separate arguments."""
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError(reason)


def _mailbox(lexer: Lexer, missing: str = "Missing arguments") -> str:
    if lexer.at_end():
        raise ImapProtocolError(missing)
    raw = lexer.read_astring()
    if raw is None:
        if lexer.peek_is(b"("):
            _raise_list_error(lexer)
        raise ImapProtocolError("Invalid arguments")
    return mailbox_name(raw)


def mailbox_name(raw: bytes) -> str:
    """Decode a wire mailbox name; INBOX is case-insensitive (RFC 3501 5.1)."""
    try:
        name = decode_mutf7(raw)
    except InvalidMutf7:
        raise ImapProtocolError(
            "Mailbox name is not valid mUTF-7", severity=Severity.NO, prefixed=False
        ) from None
    return "INBOX" if name.upper() == "INBOX" else name


def _raise_list_error(lexer: Lexer) -> None:
    """A list where a string was expected: report a missing ')' first, as Dovecot does."""
    depth = 0
    raw, i = lexer.raw, lexer.pos
    while i < len(raw):
        if raw[i] == 0x28:
            depth += 1
        elif raw[i] == 0x29:
            depth -= 1
        i += 1
    if depth > 0:
        raise ImapProtocolError("Missing ')'")
    raise ImapProtocolError("Invalid arguments")


def _number(word: bytes | None, reason: str, limit: int = 2**63 - 1) -> int:
    if word is None or _NUMBER.fullmatch(word) is None:
        raise ImapProtocolError(reason)
    value = int(word)
    if value > limit:
        raise ImapProtocolError(reason)
    return value


def parse_sequence_set(word: bytes | None) -> c.SequenceSet:
    """`1:3,5,*:7` or `$`; numbers 1..2^32-1. A trailing comma is tolerated, as Dovecot does."""
    if word == b"$":
        return c.SequenceSet(saved_result=True)
    if not word:
        raise ImapProtocolError("Invalid messageset")
    ranges: list[tuple[c.SeqNumber, c.SeqNumber]] = []
    items = word.split(b",")
    if items[-1] == b"" and len(items) > 1:
        items.pop()
    for item in items:
        bounds = item.split(b":")
        if len(bounds) > 2:
            raise ImapProtocolError("Invalid messageset")
        numbers = [_seq_number(b) for b in bounds]
        ranges.append((numbers[0], numbers[-1]))
    return c.SequenceSet(tuple(ranges))


def _seq_number(text: bytes) -> c.SeqNumber:
    if text == b"*":
        return c.STAR
    if _NUMBER.fullmatch(text) is None:
        raise ImapProtocolError("Invalid messageset")
    value = int(text)
    if value == 0 or value > _UINT32_MAX_SEQ:
        raise ImapProtocolError("Invalid messageset")
    return value


def _flag(word: bytes, allow_recent: bool = False) -> c.Flag:
    text = word.decode("utf-8", "replace")
    if text == "\\*":
        raise ImapProtocolError("Invalid system flag \\*")
    if text.startswith("\\"):
        canonical = _SYSTEM_FLAGS.get(text.upper())
        if canonical is None and not (allow_recent and text.upper() == "\\RECENT"):
            raise ImapProtocolError(f"Invalid system flag {text.upper()}")
        return c.Flag(canonical or "\\Recent")
    if not re.fullmatch(rb"[^(){ \x00-\x1f\x7f%*\"\\\]]+", word):
        raise ImapProtocolError("Invalid keyword")
    return c.Flag(text)


def _flag_list(lexer: Lexer) -> tuple[c.Flag, ...]:
    return tuple(_flag(w) for w in lexer.read_word_list())


def parse_date(text: bytes) -> date:
    """date-text `1-Feb-2024` (RFC 3501 date); raises ValueError."""
    parts = text.split(b"-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit() or len(parts[2]) != 4:
        raise ValueError(text)
    month = _MONTHS.index(parts[1].decode("ascii", "replace").upper()) + 1
    return date(int(parts[2]), month, int(parts[0]))


def parse_datetime(text: bytes) -> datetime:
    """date-time `" 1-Feb-2024 10:11:12 +0100"`; raises ValueError."""
    match = re.fullmatch(
        rb" ?([0-9]{1,2}-[A-Za-z]{3}-[0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})",
        text,
    )
    if match is None:
        raise ValueError(text)
    day_text, month_text, year_text = match.group(1).split(b"-")
    month = _MONTHS.index(month_text.decode("ascii").upper()) + 1
    offset = timedelta(hours=int(match.group(6)), minutes=int(match.group(7)))
    if match.group(5) == b"-":
        offset = -offset
    # Dovecot normalises the day like mktime() does: APPEND's "32-Jan-2020" is 1 Feb 2020.
    start = datetime(int(year_text), month, 1, int(match.group(2)), int(match.group(3)), int(match.group(4)),
                     tzinfo=timezone(offset))
    return start + timedelta(days=int(day_text) - 1)


def _no_more(lexer: Lexer) -> None:
    """Dovecot ignores nothing: trailing arguments are an error for commands that take a fixed count."""
    if not lexer.at_end():
        raise ImapProtocolError("Invalid arguments")


# ------------------------------------------------------------------ any state / not authenticated


def _capability(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Capability(tag)


def _noop(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Noop(tag)  # Dovecot ignores any arguments given to NOOP


def _logout(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Logout(tag)


def _id(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    if not lexer.open_paren():
        # Dovecot answers ID with anything that is not a list as if it were NIL.
        return c.Id(tag, None)
    fields: list[tuple[str, str | None]] = []
    values: list[bytes | None] = []
    while not lexer.close_paren():
        if values and not lexer.skip_space():
            raise ImapProtocolError("Missing ')'")
        if lexer.at_end():
            raise ImapProtocolError("Missing ')'")
        values.append(lexer.read_nstring())
    for key, value in zip(values[::2], values[1::2], strict=False):
        if key is None:
            raise ImapProtocolError("Invalid ID parameters")
        fields.append(
            (key.decode("utf-8", "replace"), None if value is None else value.decode("utf-8", "replace"))
        )
    return c.Id(tag, tuple(fields))


def _login(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    user = lexer.read_astring()
    _arg(lexer)
    password = lexer.read_astring()
    if user is None or password is None:
        raise ImapProtocolError("Invalid arguments")
    _no_more(lexer)
    return c.Login(tag, user, password)


def _authenticate(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mechanism = lexer.read_atom()
    if mechanism is None:
        raise ImapProtocolError("Invalid arguments")
    initial = None
    if lexer.skip_space():
        initial = lexer.read_atom()
        if initial is None:
            raise ImapProtocolError("Invalid arguments")
    _no_more(lexer)
    return c.Authenticate(tag, mechanism.decode("ascii").upper(), initial)


def _starttls(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.StartTls(tag)


# ------------------------------------------------------------------ authenticated


def _select(tag: bytes, lexer: Lexer, uid: bool, read_only: bool = False) -> c.Command:
    _arg(lexer, "Invalid arguments")
    mailbox = _mailbox(lexer, "Invalid arguments")
    condstore = False
    qresync = None
    if lexer.skip_space():
        if not lexer.open_paren():
            raise ImapProtocolError("Invalid arguments")
        while not lexer.close_paren():
            if (condstore or qresync) and not lexer.skip_space():
                raise ImapProtocolError("Missing ')'")
            word = lexer.read_atom()
            if word is None:
                raise ImapProtocolError("Missing ')'" if lexer.at_end() else "Invalid arguments")
            param = word.upper()
            if param == b"CONDSTORE":
                condstore = True
            elif param == b"QRESYNC":
                qresync = _qresync_params(lexer)
            else:
                raise ImapProtocolError("Unknown FETCH modifier")
    _no_more(lexer)
    return c.Select(tag, mailbox, read_only, condstore, qresync)


def _qresync_params(lexer: Lexer) -> c.QresyncParams:
    if not lexer.skip_space() or not lexer.open_paren():
        raise ImapProtocolError("Invalid QRESYNC parameters")
    uidvalidity = _number(lexer.read_atom(), "Invalid QRESYNC parameters", 0xFFFFFFFF)
    if not lexer.skip_space():
        raise ImapProtocolError("Invalid QRESYNC parameters")
    modseq = _number(lexer.read_atom(), "Invalid QRESYNC parameters")
    known = None
    seq_match = None
    if lexer.skip_space() and not lexer.peek_is(b"("):
        known = parse_sequence_set(lexer.read_word())
        lexer.skip_space()
    if lexer.open_paren():
        seqs = parse_sequence_set(lexer.read_word())
        if not lexer.skip_space():
            raise ImapProtocolError("Invalid QRESYNC parameters")
        uids = parse_sequence_set(lexer.read_word())
        if not lexer.close_paren():
            raise ImapProtocolError("Invalid QRESYNC parameters")
        seq_match = (seqs, uids)
    if not lexer.close_paren():
        raise ImapProtocolError("Invalid QRESYNC parameters")
    return c.QresyncParams(uidvalidity, modseq, known, seq_match)


def _examine(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return _select(tag, lexer, uid, read_only=True)


def _create(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    special: tuple[str, ...] = ()
    if lexer.skip_space():
        if not lexer.open_paren():
            raise ImapProtocolError("Invalid arguments")
        word = lexer.read_atom()
        if word is None or word.upper() != b"USE" or not lexer.skip_space() or not lexer.open_paren():
            raise ImapProtocolError("Unknown CREATE parameter")
        special = tuple(w.decode("ascii", "replace") for w in lexer.read_word_list())
        if not lexer.close_paren():
            raise ImapProtocolError("Missing ')'")
    _no_more(lexer)
    return c.Create(tag, mailbox, special)


def _delete(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    _no_more(lexer)
    return c.Delete(tag, mailbox)


def _rename(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    old = _mailbox(lexer)
    _arg(lexer)
    new = _mailbox(lexer)
    _no_more(lexer)
    return c.Rename(tag, old, new)


def _subscribe(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    _no_more(lexer)
    return c.Subscribe(tag, mailbox)


def _unsubscribe(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    _no_more(lexer)
    return c.Subscribe(tag, mailbox, unsubscribe=True)


_LIST_SELECT = {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"}
_LIST_RETURN = {"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", "MYRIGHTS"}


def _list(tag: bytes, lexer: Lexer, uid: bool, lsub: bool = False) -> c.Command:
    selection: tuple[str, ...] = ()
    extended = False
    if not lexer.skip_space():
        raise ImapProtocolError("Invalid reference")
    if not lsub and lexer.open_paren():
        extended = True
        selection = tuple(w.decode("ascii", "replace").upper() for w in lexer.read_word_list())
        if any(option not in _LIST_SELECT for option in selection):
            raise ImapProtocolError("Unknown select options")
        if not lexer.skip_space():
            raise ImapProtocolError("Invalid reference")
    reference = lexer.read_astring()
    if reference is None:
        raise ImapProtocolError("Invalid reference")
    if not lexer.skip_space():
        raise ImapProtocolError("Invalid pattern")
    patterns: list[bytes] = []
    if not lsub and lexer.open_paren():
        extended = True
        while not lexer.close_paren():
            if patterns and not lexer.skip_space():
                raise ImapProtocolError("Missing ')'")
            pattern = lexer.read_mailbox_pattern()
            if pattern is None:
                raise ImapProtocolError("Missing ')'" if lexer.at_end() else "Invalid pattern")
            patterns.append(pattern)
    else:
        pattern = lexer.read_mailbox_pattern()
        if pattern is None:
            raise ImapProtocolError("Invalid pattern")
        patterns.append(pattern)
    return_options: list[str] = []
    status: tuple[str, ...] = ()
    if lexer.skip_space():
        word = lexer.read_atom()
        if (
            lsub
            or word is None
            or word.upper() != b"RETURN"
            or not lexer.skip_space()
            or not lexer.open_paren()
        ):
            raise ImapProtocolError("Invalid arguments")
        extended = True
        while not lexer.close_paren():
            if return_options and not lexer.skip_space():
                raise ImapProtocolError("Missing ')'")
            option_word = lexer.read_atom()
            if option_word is None:
                raise ImapProtocolError("Missing ')'" if lexer.at_end() else "Unknown return options")
            option = option_word.decode("ascii", "replace").upper()
            if option not in _LIST_RETURN:
                raise ImapProtocolError("Unknown return options")
            if option == "STATUS":
                if not lexer.skip_space() or not lexer.open_paren():
                    raise ImapProtocolError("Unknown return options")
                status = _status_items(lexer)
            return_options.append(option)
    _no_more(lexer)
    return c.ListMailboxes(
        tag,
        mailbox_name(reference) if reference else "",
        tuple(mailbox_name(p) for p in patterns),
        selection,
        tuple(return_options),
        status,
        lsub,
        extended,
    )


def _lsub(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return _list(tag, lexer, uid, lsub=True)


def _namespace(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Namespace(tag)


_STATUS_ITEMS = {
    "MESSAGES",
    "RECENT",
    "UIDNEXT",
    "UIDVALIDITY",
    "UNSEEN",
    "HIGHESTMODSEQ",
    "SIZE",
    "X-SIZE",
    "X-GUID",
    "APPENDLIMIT",
}


def _status_items(lexer: Lexer) -> tuple[str, ...]:
    words = lexer.read_word_list()
    if not words:
        raise ImapProtocolError("Empty status list")
    items = []
    for word in words:
        item = word.decode("ascii", "replace").upper()
        if item not in _STATUS_ITEMS:
            raise ImapProtocolError(f"Invalid status item {item}")
        items.append(item)
    return tuple(items)


def _status(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    _arg(lexer)
    if not lexer.open_paren():
        raise ImapProtocolError("Invalid arguments")
    items = _status_items(lexer)
    _no_more(lexer)
    return c.Status(tag, mailbox, items)


def _append(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    mailbox = _mailbox(lexer)
    messages: list[c.AppendMessage] = []
    while True:
        if not lexer.skip_space() or lexer.at_end():
            if messages:
                break
            raise ImapProtocolError("Missing message size")
        messages.append(_append_message(lexer))
        if lexer.at_end():
            break
    return c.Append(tag, mailbox, tuple(messages))


def _append_message(lexer: Lexer) -> c.AppendMessage:
    flags: tuple[c.Flag, ...] = ()
    internal_date = None
    if lexer.open_paren():
        flags = _flag_list(lexer)
        if not lexer.skip_space():
            raise ImapProtocolError("Missing message size")
    if lexer.peek_is(b'"'):
        date_text = lexer.read_quoted()
        if lexer.at_end():
            raise ImapProtocolError("Invalid arguments")  # a string where the message should be
        try:
            internal_date = parse_datetime(date_text)
        except ValueError:
            raise ImapProtocolError("Invalid internal date") from None
        if not lexer.skip_space():
            raise ImapProtocolError("Missing message size")
    if lexer.raw[lexer.pos : lexer.pos + 10].upper() == b"CATENATE (":
        lexer.pos += 10
        return c.AppendMessage(flags, internal_date, _catenate_parts(lexer), catenate=True)
    literal = lexer.read_literal()
    if literal is None:
        raise ImapProtocolError("Invalid arguments")
    return c.AppendMessage(flags, internal_date, (literal[0],), binary=literal[1])


def _catenate_parts(lexer: Lexer) -> tuple[bytes | c.CatenateUrl, ...]:
    parts: list[bytes | c.CatenateUrl] = []
    while not lexer.close_paren():
        if parts and not lexer.skip_space():
            raise ImapProtocolError("Missing ')'")
        kind = lexer.read_atom()
        if kind is None or not lexer.skip_space():
            raise ImapProtocolError("Missing ')'" if lexer.at_end() else "Invalid arguments")
        if kind.upper() == b"URL":
            url = lexer.read_astring()
            if url is None:
                raise ImapProtocolError("Invalid arguments")
            parts.append(c.CatenateUrl(url))
        elif kind.upper() == b"TEXT":
            literal = lexer.read_literal()
            if literal is None:
                raise ImapProtocolError("Invalid arguments")
            parts.append(literal[0])
        else:
            raise ImapProtocolError("Unknown CATENATE parameter")
    if not parts:
        raise ImapProtocolError("Empty CATENATE list")
    return tuple(parts)


def _enable(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    caps: list[str] = []
    while lexer.skip_space():
        word = lexer.read_atom()
        if word is None:
            raise ImapProtocolError("Invalid arguments")
        caps.append(word.decode("ascii", "replace").upper())
    _no_more(lexer)
    return c.Enable(tag, tuple(caps))


def _idle(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Idle(tag)


# ------------------------------------------------------------------ selected


def _check(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Check(tag)


def _close(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Close(tag)


def _unselect(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return c.Unselect(tag)


def _expunge(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    if not uid:
        return c.Expunge(tag)  # Dovecot ignores arguments to a plain EXPUNGE
    _arg(lexer)
    return c.Expunge(tag, parse_sequence_set(lexer.read_word()))


def _copy(tag: bytes, lexer: Lexer, uid: bool, move: bool = False) -> c.Command:
    _arg(lexer)
    seqset = parse_sequence_set(lexer.read_word())
    _arg(lexer)
    mailbox = _mailbox(lexer)
    _no_more(lexer)
    return c.Copy(tag, seqset, mailbox, uid, move)


def _move(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    return _copy(tag, lexer, uid, move=True)


def _store(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    _arg(lexer)
    seqset = parse_sequence_set(lexer.read_word())
    _arg(lexer, "Invalid arguments")
    unchanged_since = None
    if lexer.open_paren():
        for word_pair in _pairs(lexer.read_word_list()):
            if word_pair[0].upper() != b"UNCHANGEDSINCE":
                raise ImapProtocolError("Unknown STORE modifier")
            unchanged_since = _number(word_pair[1], "Invalid modseq")
        _arg(lexer, "Invalid arguments")
    item = (lexer.read_atom() or b"").upper()
    silent = item.endswith(b".SILENT")
    item = item.removesuffix(b".SILENT")
    try:
        action = c.StoreAction(item.decode("ascii"))
    except ValueError:
        raise ImapProtocolError("Invalid arguments") from None
    flags: list[c.Flag] = []
    if lexer.skip_space():
        if lexer.open_paren():
            flags = list(_flag_list(lexer))
        else:
            while True:
                word = lexer.read_word()
                if word is None:
                    raise ImapProtocolError("Invalid arguments")
                flags.append(_flag(word))
                if not lexer.skip_space():
                    break
    _no_more(lexer)
    return c.Store(tag, seqset, action, tuple(flags), silent, uid, unchanged_since)


def _pairs(words: list[bytes]) -> list[tuple[bytes, bytes | None]]:
    return [(words[i], words[i + 1] if i + 1 < len(words) else None) for i in range(0, len(words), 2)]


# -- FETCH

_FETCH_MACROS = {
    b"ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    b"FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    b"FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}
_FETCH_SIMPLE = {
    "FLAGS",
    "INTERNALDATE",
    "RFC822.SIZE",
    "ENVELOPE",
    "BODY",
    "BODYSTRUCTURE",
    "UID",
    "RFC822",
    "RFC822.HEADER",
    "RFC822.TEXT",
    "MODSEQ",
    "SAVEDATE",
    "SNIPPET",
    "PREVIEW",
    "X-GUID",
    "X-MAILBOX",
    "X-REAL-UID",
    "X-SAVEDATE",
    "EMAILID",
    "THREADID",
}
_FETCH_ITEM = re.compile(rb"([A-Za-z0-9.\-]+)(\[[^\]]*\]?)?(<[^>]*>?)?")
_SECTION_TEXT = re.compile(rb"(HEADER\.FIELDS(?:\.NOT)?) \((.*)\)")


def _fetch(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Invalid arguments")
    seqset = parse_sequence_set(lexer.read_word())
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Invalid arguments")
    attributes: list[c.FetchAttribute] = []
    if lexer.open_paren():
        while not lexer.close_paren():
            if attributes and not lexer.skip_space():
                raise ImapProtocolError("Missing ')'")
            if lexer.at_end():
                raise ImapProtocolError("Missing ')'")
            attributes.extend(_fetch_item(lexer, in_list=True))
    else:
        attributes.extend(_fetch_item(lexer, in_list=False))
    changed_since = None
    vanished = False
    if lexer.skip_space():
        if not lexer.open_paren():
            raise ImapProtocolError("Invalid arguments")
        words = lexer.read_word_list()
        i = 0
        while i < len(words):
            modifier = words[i].upper()
            if modifier == b"CHANGEDSINCE" and i + 1 < len(words):
                changed_since = _number(words[i + 1], "Invalid CHANGEDSINCE modseq")
                i += 2
            elif modifier == b"VANISHED":
                vanished = True
                i += 1
            else:
                raise ImapProtocolError(f"Unknown FETCH modifier: {words[i].decode('ascii', 'replace')}")
    _no_more(lexer)
    if uid and not any(a.name == "UID" for a in attributes):
        attributes.insert(0, c.FetchAttribute("UID"))  # UID FETCH always returns the UID
    return c.Fetch(tag, seqset, tuple(attributes), uid, changed_since, vanished)


def _fetch_item(lexer: Lexer, in_list: bool) -> list[c.FetchAttribute]:
    match = _FETCH_ITEM.match(lexer.raw, lexer.pos)
    if match is None:
        raise ImapProtocolError("Invalid arguments")
    lexer.pos = match.end()
    name = match.group(1).upper()
    if not in_list and name in _FETCH_MACROS:
        return [c.FetchAttribute(n) for n in _FETCH_MACROS[name]]
    text = name.decode("ascii")
    bracket, partial_text = match.group(2), match.group(3)
    if bracket is None:
        if partial_text is not None or text not in _FETCH_SIMPLE:
            raise ImapProtocolError(f"Unknown parameter: {match.group(1).decode('ascii')}")
        return [c.FetchAttribute(text)]
    peek = text.endswith(".PEEK")
    base = text.removesuffix(".PEEK")
    if base not in ("BODY", "BINARY", "BINARY.SIZE"):
        raise ImapProtocolError(f"Unknown parameter: {match.group(1).decode('ascii')}")
    label = "BINARY" if base.startswith("BINARY") else "BODY"
    if not bracket.endswith(b"]"):
        raise ImapProtocolError(f"Invalid {label}[..] parameter: Missing ']'")
    section = _section(bracket[1:-1], binary=label == "BINARY")
    partial = None
    if partial_text is not None:
        if base == "BINARY.SIZE":
            raise ImapProtocolError("Invalid BINARY.SIZE[..] parameter")
        partial = _partial(partial_text, label)
    return [c.FetchAttribute(base, section, partial, peek)]


def _section(spec: bytes, binary: bool) -> c.Section:
    label = "BINARY" if binary else "BODY"
    bad = ImapProtocolError(f"Invalid {label}[..] section")
    parts: list[int] = []
    rest = spec
    while rest and rest[:1].isdigit():
        number, _, remainder = rest.partition(b".")
        if not number.isdigit() or int(number) == 0:
            raise bad
        parts.append(int(number))
        rest = remainder
        if not remainder and spec.endswith(b"."):
            raise bad
    # RFC 3516 allows only part numbers in BINARY[], but Dovecot also serves BINARY[TEXT] etc.
    if not rest:
        return c.Section(tuple(parts))
    upper = rest.upper()
    if upper in (b"HEADER", b"TEXT") or (upper == b"MIME" and parts):
        return c.Section(tuple(parts), upper.decode("ascii"))
    fields = _SECTION_TEXT.fullmatch(upper)
    if fields is None or not fields.group(2).strip():
        raise bad
    headers = tuple(h.decode("ascii", "replace") for h in fields.group(2).split())
    return c.Section(tuple(parts), fields.group(1).decode("ascii"), headers)


def _partial(text: bytes, label: str) -> tuple[int, int]:
    match = re.fullmatch(rb"<([0-9]{1,10})\.([0-9]{1,10})>", text)
    if match is None:
        raise ImapProtocolError(f"Invalid {label}[..] parameter: Too big partial start")
    start, length = int(match.group(1)), int(match.group(2))
    if start > 0xFFFFFFFF or length > 0xFFFFFFFF or length == 0:
        raise ImapProtocolError(f"Invalid {label}[..] parameter: Invalid partial")
    return start, length


# -- SEARCH

_SEARCH_NOARG = {
    "ALL",
    "ANSWERED",
    "DELETED",
    "DRAFT",
    "FLAGGED",
    "NEW",
    "OLD",
    "RECENT",
    "SEEN",
    "UNANSWERED",
    "UNDELETED",
    "UNDRAFT",
    "UNFLAGGED",
    "UNSEEN",
    "SAVEDATESUPPORTED",
}
_SEARCH_STRING = {"BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO", "X-MAILBOX", "X-GUID"}
_SEARCH_DATE = {
    "BEFORE",
    "ON",
    "SINCE",
    "SENTBEFORE",
    "SENTON",
    "SENTSINCE",
    "SAVEDBEFORE",
    "SAVEDON",
    "SAVEDSINCE",
}
_SEARCH_NUMBER = {"LARGER", "SMALLER", "OLDER", "YOUNGER"}
_SEARCH_RETURN = {"MIN", "MAX", "ALL", "COUNT", "SAVE", "PARTIAL", "UPDATE", "CONTEXT"}


def _search(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Missing search parameters")
    return_options = None
    if lexer.raw[lexer.pos : lexer.pos + 7].upper() == b"RETURN ":
        lexer.pos += 7
        if not lexer.open_paren():
            raise ImapProtocolError("Invalid RETURN options")
        options = tuple(w.decode("ascii", "replace").upper() for w in lexer.read_word_list())
        if any(option not in _SEARCH_RETURN for option in options):
            raise ImapProtocolError("Unknown SEARCH return option")
        return_options = options or ("ALL",)
        if not lexer.skip_space():
            raise ImapProtocolError("Missing search parameters")
    charset = None
    if lexer.raw[lexer.pos : lexer.pos + 8].upper() == b"CHARSET ":
        lexer.pos += 8
        name = lexer.read_astring()
        if name is None or not lexer.skip_space():
            raise ImapProtocolError("Missing search parameters")
        charset = name.decode("ascii", "replace").upper()
    criteria = parse_search_criteria(lexer)
    return c.Search(tag, criteria, uid, charset, return_options)


def _sort(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Missing arguments")
    return_options = None
    if lexer.raw[lexer.pos : lexer.pos + 7].upper() == b"RETURN ":
        lexer.pos += 7
        if not lexer.open_paren():
            raise ImapProtocolError("Invalid RETURN options")
        options = tuple(w.decode("ascii", "replace").upper() for w in lexer.read_word_list())
        if any(option not in _SEARCH_RETURN for option in options):
            raise ImapProtocolError("Unknown SORT return option")
        return_options = options or ("ALL",)
        if not lexer.skip_space():
            raise ImapProtocolError("Missing arguments")
    if not lexer.open_paren():
        raise ImapProtocolError("Invalid sort argument")
    program = tuple(w.decode("ascii", "replace").upper() for w in lexer.read_word_list())
    if not program:
        raise ImapProtocolError("Empty sort program")
    charset = _search_charset(lexer)
    return c.Sort(tag, program, charset, parse_search_criteria(lexer), uid, return_options)


def _thread(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Missing arguments")
    algorithm = lexer.read_atom()
    if algorithm is None:
        raise ImapProtocolError("Invalid thread algorithm argument")
    charset = _search_charset(lexer)
    return c.Thread(tag, algorithm.decode("ascii", "replace").upper(), charset, parse_search_criteria(lexer), uid)


def _search_charset(lexer: Lexer) -> str:
    """SORT's and THREAD's mandatory charset, followed by the search keys."""
    if not lexer.skip_space():
        raise ImapProtocolError("Missing arguments")
    name = lexer.read_astring()
    if name is None:
        raise ImapProtocolError("Invalid charset argument")
    if not lexer.skip_space() or lexer.at_end():
        raise ImapProtocolError("Missing search parameters")
    return name.decode("ascii", "replace").upper()


class _Pending:
    """A SEARCH operator waiting for its operands: the top level, '(', NOT or OR."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.keys: list[c.SearchCriterion] = []

    def complete(self) -> bool:
        return (self.kind == "NOT" and len(self.keys) == 1) or (self.kind == "OR" and len(self.keys) == 2)


def parse_search_criteria(lexer: Lexer) -> c.SearchAnd:
    """The search keys up to the end of the line, with an explicit stack instead of recursion
    so that a deeply nested program can not exhaust Python's stack."""
    stack = [_Pending("TOP")]
    depths: dict[int, int] = {}  # id(criterion) -> depth of its subtree
    first = True
    while True:
        top = stack[-1]
        if lexer.at_end():
            if top.kind == "(":
                raise ImapProtocolError("Missing ')'")
            if top.kind != "TOP":
                raise ImapProtocolError("Missing argument")
            return c.SearchAnd(tuple(top.keys))
        if not first and top.kind in ("TOP", "(") and top.keys and not lexer.peek_is(b")"):
            if not lexer.skip_space():
                raise ImapProtocolError("Invalid arguments")
        elif not first and top.kind in ("NOT", "OR"):
            if not lexer.skip_space():
                raise ImapProtocolError("Missing argument")
        first = False
        if lexer.at_end():
            continue
        if lexer.close_paren():
            if top.kind != "(":
                raise ImapProtocolError("Unexpected ')'")
            if not top.keys:
                raise ImapProtocolError("No search parameters inside list")
            stack.pop()
            if len(top.keys) == 1:
                _reduce(stack, top.keys[0], depths)  # "(KEY)" is just KEY
                continue
            group = c.SearchAnd(tuple(top.keys))
            depths[id(group)] = 1 + max(depths.get(id(k), 1) for k in top.keys)
            if depths[id(group)] > MAX_SEARCH_DEPTH:
                raise ImapProtocolError("Too deep nesting of search keys")
            _reduce(stack, group, depths)
            continue
        if lexer.open_paren():
            stack.append(_Pending("("))
            first = True
        else:
            word = lexer.read_word()
            if word is None:
                raise ImapProtocolError("Invalid arguments")
            name = word.upper().decode("ascii", "replace")
            if name in ("NOT", "OR"):
                stack.append(_Pending(name))
            else:
                _reduce(stack, _search_key(name, word, lexer), depths)


def _reduce(stack: list[_Pending], key: c.SearchCriterion, depths: dict[int, int]) -> None:
    """Hand a finished key to the operator waiting on top of the stack, completing NOT/OR."""
    stack[-1].keys.append(key)
    while stack[-1].complete():
        done = stack.pop()
        result: c.SearchCriterion
        operand = done.keys[0]
        if done.kind == "NOT" and isinstance(operand, c.SearchNot):
            stack[-1].keys.append(operand.key)  # NOT NOT KEY is KEY; its depth is already known
            continue
        if done.kind == "NOT":
            result = c.SearchNot(operand)
        else:
            result = c.SearchOr(done.keys[0], done.keys[1])
        depth = 1 + max(depths.get(id(k), 1) for k in done.keys)
        if depth > MAX_SEARCH_DEPTH:
            raise ImapProtocolError("Too deep nesting of search keys")
        depths[id(result)] = depth
        stack[-1].keys.append(result)


def _search_key(name: str, word: bytes, lexer: Lexer) -> c.SearchCriterion:
    def argument() -> bytes:
        if not lexer.skip_space() or lexer.at_end():
            raise ImapProtocolError(f"Missing parameter for search key (for search key: {name})")
        value = lexer.read_astring()
        if value is None:
            raise ImapProtocolError(f"Missing parameter for search key (for search key: {name})")
        return value

    if name in _SEARCH_NOARG:
        return c.SearchKey(name)
    if name in _SEARCH_STRING:
        return c.SearchKey(name, argument().decode("utf-8", "replace"))
    if name in _SEARCH_DATE:
        try:
            return c.SearchKey(name, parse_date(argument()))
        except (ValueError, IndexError):
            raise ImapProtocolError("Invalid search date parameter") from None
    if name in _SEARCH_NUMBER:
        value = argument()
        reason = (
            "Invalid search size parameter"
            if name in ("LARGER", "SMALLER")
            else "Invalid search interval parameter"
        )
        return c.SearchKey(name, _number(value, reason))
    if name in ("KEYWORD", "UNKEYWORD"):
        return c.SearchKey(name, argument().decode("utf-8", "replace"))
    if name == "HEADER":
        field_name = argument().decode("utf-8", "replace")
        if not lexer.skip_space():
            raise ImapProtocolError("Missing parameter for search key (for search key: HEADER)")
        value = lexer.read_astring()
        if value is None:
            raise ImapProtocolError("Missing parameter for search key (for search key: HEADER)")
        return c.SearchKey(name, (field_name, value.decode("utf-8", "replace")))
    if name == "UID":
        if not lexer.skip_space():
            raise ImapProtocolError("Missing parameter for search key (for search key: UID)")
        return c.SearchKey(name, parse_sequence_set(lexer.read_word()))
    if name == "MODSEQ":
        if not lexer.skip_space():
            raise ImapProtocolError("Invalid MODSEQ value")
        # Optional entry-name and entry-type-req before the number (RFC 7162).
        if lexer.peek_is(b'"'):
            lexer.read_quoted()
            if not lexer.skip_space() or lexer.read_atom() is None or not lexer.skip_space():
                raise ImapProtocolError("Invalid MODSEQ value")
        return c.SearchKey(name, _number(lexer.read_word(), "Invalid MODSEQ value"))
    if word[:1].isdigit() or word[:1] in (b"*", b"$"):
        return c.SearchKey("SEQUENCE", parse_sequence_set(word))
    raise ImapProtocolError(f"Unknown argument {word.decode('utf-8', 'replace')}")


def _extension(tag: bytes, lexer: Lexer, uid: bool) -> c.Command:
    name = lexer.raw[: lexer.pos].split(b" ")[1].upper().decode("ascii", "replace")
    return c.Extension(tag, name, lexer.raw[lexer.pos:])


_Handler = Callable[[bytes, Lexer, bool], c.Command]
_HANDLERS: dict[bytes, _Handler] = {
    b"SORT": _sort,
    b"THREAD": _thread,
    b"CAPABILITY": _capability,
    b"NOOP": _noop,
    b"LOGOUT": _logout,
    b"ID": _id,
    b"LOGIN": _login,
    b"AUTHENTICATE": _authenticate,
    b"STARTTLS": _starttls,
    b"SELECT": _select,
    b"EXAMINE": _examine,
    b"CREATE": _create,
    b"DELETE": _delete,
    b"RENAME": _rename,
    b"SUBSCRIBE": _subscribe,
    b"UNSUBSCRIBE": _unsubscribe,
    b"LIST": _list,
    b"LSUB": _lsub,
    b"NAMESPACE": _namespace,
    b"STATUS": _status,
    b"APPEND": _append,
    b"ENABLE": _enable,
    b"IDLE": _idle,
    b"CHECK": _check,
    b"CLOSE": _close,
    b"UNSELECT": _unselect,
    b"EXPUNGE": _expunge,
    b"SEARCH": _search,
    b"FETCH": _fetch,
    b"STORE": _store,
    b"COPY": _copy,
    b"MOVE": _move,
    # imap_quota's (RFC 2087)
    b"GETQUOTAROOT": _extension,
    b"GETQUOTA": _extension,
    b"SETQUOTA": _extension,
    # METADATA (RFC 5464): pydovecot/imap/commands/metadata.py
    b"GETMETADATA": _extension,
    b"SETMETADATA": _extension,
    # imap_acl's (RFC 4314) and imap_zlib's (RFC 4978)
    b"GETACL": _extension,
    b"SETACL": _extension,
    b"DELETEACL": _extension,
    b"LISTRIGHTS": _extension,
    b"MYRIGHTS": _extension,
    b"COMPRESS": _extension,
    b"NOTIFY": _extension,  # RFC 5465: pydovecot/imap/commands/notify.py
}
_UID_COMMANDS = {b"FETCH", b"STORE", b"SEARCH", b"SORT", b"THREAD", b"COPY", b"MOVE", b"EXPUNGE"}
