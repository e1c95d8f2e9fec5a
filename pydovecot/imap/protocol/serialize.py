"""Commands back to wire bytes: the parser's inverse, for round-trip tests and an IMAP client."""

from __future__ import annotations

from datetime import date, datetime

from . import commands as c
from .mutf7 import encode_mutf7
from .responses import astring, literal, paren_list, quoted

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def sequence_set(value: c.SequenceSet) -> bytes:
    if value.saved_result:
        return b"$"

    def one(n: c.SeqNumber) -> bytes:
        return b"*" if n is c.STAR else str(n).encode()

    return b",".join(one(a) if a == b else one(a) + b":" + one(b) for a, b in value.ranges)


def mailbox(name: str) -> bytes:
    return astring(encode_mutf7(name))


def date_text(value: date) -> bytes:
    return f"{value.day}-{_MONTHS[value.month - 1]}-{value.year:04d}".encode()


def datetime_text(value: datetime) -> bytes:
    offset = value.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return quoted(
        f"{value.day:2d}-{_MONTHS[value.month - 1]}-{value.year:04d} "
        f"{value:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}".encode()
    )


def fetch_attribute(attr: c.FetchAttribute) -> bytes:
    out = attr.name.encode()
    if attr.peek:
        out += b".PEEK"
    if attr.section is not None:
        spec = ".".join(str(p) for p in attr.section.part)
        if attr.section.text:
            spec += ("." if spec else "") + attr.section.text
            if attr.section.headers:
                spec += " (" + " ".join(attr.section.headers) + ")"
        out += b"[" + spec.encode() + b"]"
    if attr.partial is not None:
        out += b"<%d.%d>" % attr.partial
    return out


def search_criterion(key: c.SearchCriterion) -> bytes:
    if isinstance(key, c.SearchAnd):
        return paren_list(search_criterion(k) for k in key.keys)
    if isinstance(key, c.SearchOr):
        return b"OR " + search_criterion(key.left) + b" " + search_criterion(key.right)
    if isinstance(key, c.SearchNot):
        return b"NOT " + search_criterion(key.key)
    value = key.value
    if key.name == "SEQUENCE":
        assert isinstance(value, c.SequenceSet)
        return sequence_set(value)
    name = key.name.encode()
    if value is None:
        return name
    if isinstance(value, c.SequenceSet):
        return name + b" " + sequence_set(value)
    if isinstance(value, date):
        return name + b" " + date_text(value)
    if isinstance(value, int):
        return name + b" " + str(value).encode()
    if isinstance(value, tuple):
        return name + b" " + b" ".join(astring(v.encode()) for v in value)
    return name + b" " + astring(value.encode())


def command(cmd: c.Command) -> bytes:
    """The command line, without the final CRLF; literals are sent as LITERAL+."""
    tag = cmd.tag + b" "
    uid = b"UID " if getattr(cmd, "uid", False) else b""
    match cmd:
        case c.Login(username=user, password=password):
            return tag + b"LOGIN " + _string(user) + b" " + _string(password)
        case c.Select(mailbox=name, read_only=read_only, condstore=condstore):
            verb = b"EXAMINE " if read_only else b"SELECT "
            return tag + verb + mailbox(name) + (b" (CONDSTORE)" if condstore else b"")
        case c.Status(mailbox=name, items=items):
            return tag + b"STATUS " + mailbox(name) + b" " + paren_list(i.encode() for i in items)
        case c.Fetch(sequence_set=seqs, attributes=attrs, changed_since=since):
            items = paren_list(fetch_attribute(a) for a in attrs)
            tail = b" (CHANGEDSINCE %d)" % since if since is not None else b""
            return tag + uid + b"FETCH " + sequence_set(seqs) + b" " + items + tail
        case c.Store():
            modifier = (
                b"(UNCHANGEDSINCE %d) " % cmd.unchanged_since if cmd.unchanged_since is not None else b""
            )
            item = cmd.action.value.encode() + (b".SILENT" if cmd.silent else b"")
            flags = paren_list(f.name.encode() for f in cmd.flags)
            return (
                tag + uid + b"STORE " + sequence_set(cmd.sequence_set) + b" " + modifier + item + b" " + flags
            )
        case c.Copy():
            verb = b"MOVE " if cmd.move else b"COPY "
            return tag + uid + verb + sequence_set(cmd.sequence_set) + b" " + mailbox(cmd.mailbox)
        case c.Search():
            charset = b"CHARSET " + cmd.charset.encode() + b" " if cmd.charset else b""
            keys = b" ".join(search_criterion(k) for k in cmd.criteria.keys)
            return tag + uid + b"SEARCH " + charset + keys
        case c.Append(mailbox=name, messages=messages):
            out = tag + b"APPEND " + mailbox(name)
            for message in messages:
                if message.flags:
                    out += b" " + paren_list(f.name.encode() for f in message.flags)
                if message.internal_date is not None:
                    out += b" " + datetime_text(message.internal_date)
                body = message.parts[0]
                assert isinstance(body, bytes)
                out += b" " + _literal_plus(body)
            return out
        case c.Enable(capabilities=caps):
            return tag + b"ENABLE" + b"".join(b" " + cap.encode() for cap in caps)
        case c.Expunge(uids=uids):
            return tag + (b"UID EXPUNGE " + sequence_set(uids) if uids is not None else b"EXPUNGE")
    raise NotImplementedError(type(cmd).__name__)


def _string(value: bytes) -> bytes:
    encoded = astring(value)
    return _literal_plus(value) if encoded.startswith(b"{") else encoded


def _literal_plus(value: bytes) -> bytes:
    return literal(value).replace(b"}", b"+}", 1)
