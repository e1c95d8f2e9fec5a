"""GETMETADATA and SETMETADATA (RFC 5464), as Dovecot 2.3.19 answers them.

The arguments are read into a generic list tree first (the parser hands them over unread) and
checked the way Dovecot checks them, so syntax errors are BAD whatever the settings. With
``imap_metadata = no`` only the computed /private/specialuse is there and every other entry is
refused with "Generic mailbox attributes not enabled"; without ``mail_attribute_dict`` only the
computed attributes (that one, the server's /shared/admin and /shared/comment) exist and the
rest is "Mailbox attributes not enabled". Entry names are case-insensitive and always
lower-cased; values are sent as literals. The mailbox "" means the server; a mailbox with * or
% runs over every matching mailbox, as Dovecot allows for Horde. A GETMETADATA entry that
fails does not stop the others: the last failure is the tagged NO, earlier ones untagged NOs.
Real Dovecot sends no unsolicited METADATA outside NOTIFY. Storage:
:mod:`pydovecot.storage.attributes`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydovecot.dict import DictError
from pydovecot.storage.attributes import (
    PVT_PREFIX,
    SERVER_PREFIX,
    AttributeChange,
    AttributeFailure,
    AttributeType,
    MailboxAttributes,
    open_mailbox_attributes,
    open_server_attributes,
)
from pydovecot.storage.maildir.layout import MailboxNameError

from ..protocol import commands as c
from ..protocol.errors import ImapProtocolError
from ..protocol.lexer import Lexer
from ..protocol.parser import mailbox_name as decode_mailbox_name
from ..protocol.responses import astring, literal, response_code, tagged, untagged, with_timing
from .common import CommandFailed, mailbox_name, storage_error

if TYPE_CHECKING:
    from ..session import Session

NAMES = ("GETMETADATA", "SETMETADATA")
INFINITY = 1 << 32
_UINT32_MAX = (1 << 32) - 1


# --- the generic argument tree ---------------------------------------------------------------

@dataclass(frozen=True)
class Arg:
    """One parsed argument: an atom (NIL included), a string (quoted or literal) or a list."""

    kind: str  # "atom" | "string" | "list"
    value: bytes = b""
    items: tuple[Arg, ...] = ()

    @property
    def astring(self) -> bytes | None:
        return self.value if self.kind in ("atom", "string") else None

    def is_nil(self) -> bool:
        return self.kind == "atom" and self.value.upper() == b"NIL"


_ATOM = re.compile(rb"[^ ()\"]+")
_BAD_ATOM_CHAR = re.compile(rb"[\x00-\x1f\x7f]")
_EIGHT_BIT = re.compile(rb"[\x80-\xff]")


def parse_args(raw: bytes, count: int = 0) -> list[Arg]:
    """The arguments after the command name, as Dovecot's imap-parser reads them; with a
    ``count``, reading stops after that many (SETMETADATA ignores what follows its list)."""
    lexer = Lexer(raw)
    lexer.skip_space()
    stack: list[list[Arg]] = [[]]
    need_space = False  # after an element, the next one needs a space (')' does not)
    while not lexer.at_end():
        if count and len(stack) == 1 and len(stack[0]) >= count:
            break
        if lexer.close_paren():
            if len(stack) == 1:
                raise ImapProtocolError("Unexpected ')'")
            items = stack.pop()
            stack[-1].append(Arg("list", items=tuple(items)))
            need_space = False  # Dovecot reads on after ')' even without a space
            continue
        if need_space and not lexer.peek_is(b" "):
            raise ImapProtocolError("Missing ')'" if len(stack) > 1 else "Invalid arguments")
        while lexer.skip_space():  # Dovecot takes any run of spaces as one
            pass
        need_space = True
        if lexer.at_end():
            break
        if lexer.open_paren():
            stack.append([])
            need_space = False
        elif lexer.peek_is(b'"'):
            stack[-1].append(Arg("string", lexer.read_quoted()))
        elif lexer.peek_is(b"{") or lexer.peek_is(b"~{"):
            read = lexer.read_literal()
            assert read is not None
            stack[-1].append(Arg("string", read[0]))
        else:
            match = _ATOM.match(lexer.raw, lexer.pos)
            if match is None:
                raise ImapProtocolError("Invalid arguments")
            if _BAD_ATOM_CHAR.search(match.group()):
                raise ImapProtocolError("Invalid characters in atom")
            if _EIGHT_BIT.search(match.group()):
                raise ImapProtocolError("8bit data in atom")
            lexer.pos = match.end()
            stack[-1].append(Arg("atom", match.group()))
    if len(stack) > 1:
        raise ImapProtocolError("Missing ')'")
    return stack[0]


def verify_entry_name(name: bytes) -> str | None:
    """Dovecot's check of an entry name: None when good, else its error text."""
    if not name.startswith(b"/"):
        return "Entry name must begin with '/'"
    for i, ch in enumerate(name):
        if ch == 0x2F:
            if i > 0 and name[i - 1] == 0x2F:
                return "Entry name can't contain consecutive '/'"
            if i + 1 == len(name):
                return "Entry name can't end with '/'"
        elif ch == 0x2A:
            return "Entry name can't contain '*'"
        elif ch == 0x25:
            return "Entry name can't contain '%'"
        elif ch <= 0x19 or ch >= 0x80:  # Dovecot compares a signed char: 8-bit bytes count too
            return "Entry name can't contain control chars"
    prefix = name.split(b"/", 2)[1].lower()
    if prefix not in (b"private", b"shared"):
        return "Entry name must begin with /private or /shared"
    return None


def entry_key(entry: str, *, server: bool) -> tuple[AttributeType, str] | None:
    """A (lower-cased) entry -> its attribute type and key; None for Dovecot's own keys."""
    type_ = AttributeType.PRIVATE if entry.startswith("/private") else AttributeType.SHARED
    key = entry[len("/" + type_.word):].removeprefix("/")
    if key.startswith(PVT_PREFIX):
        return None
    return type_, (SERVER_PREFIX + key if server else key)


# --- running ----------------------------------------------------------------------------------

class _Bad(Exception):
    pass


def _enabled(session: Session) -> bool:
    assert session.user is not None
    return bool(session.user.settings.get("imap_metadata"))


def _finish(session: Session, cmd: c.Extension, status: str, text: str, code: bytes | None,
            started: float) -> None:
    timed = with_timing(text, f"{time.monotonic() - started:.3f} + 0.000 secs")
    session.reply(tagged(cmd.tag, status, timed, code), status)


async def run(session: Session, cmd: c.Extension) -> None:
    started = time.monotonic()
    try:
        args = parse_args(cmd.arguments, 0 if cmd.name == "GETMETADATA" else 2)
        if cmd.name == "GETMETADATA":
            request: _Get | _Set = _parse_get(args)
        else:
            request = _parse_set(args)
    except (_Bad, ImapProtocolError) as exc:
        _finish(session, cmd, "BAD", f"Error in IMAP command {cmd.name}: {exc}", None, started)
        return
    try:
        status, text = await request.run(session)
    except AttributeFailure as exc:
        code = response_code(exc.code) if exc.code else None
        _finish(session, cmd, "NO", exc.text + ".", code, started)
        return
    except CommandFailed as exc:
        code = response_code(exc.code) if exc.code else None
        _finish(session, cmd, exc.status, exc.text, code, started)
        return
    except (OSError, DictError) as exc:  # the dict file could not be read or written
        error = storage_error(exc, cmd.name)
        _finish(session, cmd, "NO", error.text, response_code(error.code) if error.code else None, started)
        return
    except ImapProtocolError as exc:  # a mailbox name that is not mUTF-7
        _finish(session, cmd, exc.severity.value, f"{exc}.", None, started)
        return
    _finish(session, cmd, status, text, None, started)


async def _open(session: Session, vname: str) -> MailboxAttributes:
    assert session.user is not None
    validated_only = not _enabled(session)
    try:
        if vname == "":
            return await session.storage(open_server_attributes, session.user, validated_only=validated_only)
        return await session.storage(open_mailbox_attributes, session.user, vname, validated_only=validated_only)
    except AttributeFailure:
        raise
    except DictError as exc:
        raise CommandFailed(storage_error(exc, vname).text, "SERVERBUG") from exc
    except (LookupError, MailboxNameError) as exc:
        # Dovecot's failed mailbox open: a bad name too, and without the NONEXISTENT code.
        raise CommandFailed(f"Mailbox doesn't exist: {vname}.") from exc
    except Exception as exc:  # noqa: BLE001 - storage errors as Dovecot words them
        raise storage_error(exc, vname) from exc


# --- GETMETADATA ------------------------------------------------------------------------------

@dataclass
class _Get:
    mailbox: bytes
    entries: list[str]
    maxsize: int = _UINT32_MAX
    depth: int = 0
    largest: int = 0
    """The longest value MAXSIZE left out (LONGENTRIES)."""
    errors: list[AttributeFailure] = field(default_factory=list)

    async def run(self, session: Session) -> tuple[str, str]:
        if b"*" in self.mailbox or b"%" in self.mailbox:
            assert session.user is not None
            # Dovecot matches the pattern as sent, without decoding its mUTF-7.
            pattern = self.mailbox.decode("utf-8", "replace")
            listed = await session.storage(session.user.namespaces.list, pattern)
            # Dovecot's mailbox list iteration gives INBOX after the folders.
            listed.sort(key=lambda box: box.vname == "INBOX")
            for box in listed:
                if box.flags & {"\\Noselect", "\\NonExistent"}:
                    continue
                try:
                    attrs = await _open(session, box.vname)
                except (CommandFailed, AttributeFailure) as exc:
                    session.send(untagged(f"NO Failed to open mailbox {box.vname}: {exc}"))
                    continue
                await self._send(session, attrs, mailbox_name(box.vname), server=False)
        else:
            vname = decode_mailbox_name(self.mailbox) if self.mailbox else ""
            attrs = await _open(session, vname)
            await self._send(session, attrs, mailbox_name(vname) if vname else b'""', server=not vname)
        if self.errors:
            # Dovecot: the last failure is the tagged NO, the ones before it untagged NOs.
            for error in self.errors[:-1]:
                session.send(untagged(f"NO {error.text}"))
            raise self.errors[-1]
        if self.largest:
            return "OK", f"[METADATA LONGENTRIES {self.largest}] Getmetadata completed."
        return "OK", "Getmetadata completed."

    async def _send(self, session: Session, attrs: MailboxAttributes, wire_name: bytes, *, server: bool) -> None:
        parts: list[bytes] = []
        await session.storage(self._collect, attrs, parts, server)
        if parts:
            session.send(b"* METADATA " + wire_name + b" (" + b" ".join(parts) + b")\r\n")

    def _collect(self, attrs: MailboxAttributes, parts: list[bytes], server: bool) -> None:
        """Runs in the storage thread: the entries' replies into ``parts``, failures into ``errors``."""
        for entry in self.entries:
            self._entry(attrs, parts, entry, server, require=self.depth == 0)
            if self.depth == 0:
                continue
            located = entry_key(entry, server=server)
            if located is None:
                continue
            type_, key = located
            prefix = key + "/" if key else ""
            for sub in attrs.keys(type_, prefix):
                if self.depth == 1 and "/" in sub:
                    continue
                self._entry(attrs, parts, f"{entry}/{sub}", server, require=False)

    def _entry(self, attrs: MailboxAttributes, parts: list[bytes], entry: str, server: bool, *,
               require: bool) -> None:
        located = entry_key(entry, server=server)
        value: str | None = None
        if located is not None:
            try:
                value = attrs.get(*located)
            except AttributeFailure as exc:
                # Under DEPTH the entry itself may be missing quietly, failure included.
                if require:
                    self.errors.append(exc)
                return
        name = astring(entry.encode())
        if value is None:
            if require:
                parts.append(name + b" NIL")
            return
        data = value.encode("utf-8", "surrogateescape")
        if len(data) > self.maxsize:
            self.largest = max(self.largest, len(data))
            return
        parts.append(name + b" " + literal(data))


def _parse_get(args: list[Arg]) -> _Get:
    get = _Get(b"", [])
    if args and args[0].kind == "list":
        _parse_options(get, args[0].items)
        args = args[1:]
    if not args or args[0].astring is None:
        raise _Bad("Invalid arguments.")
    get.mailbox = args[0].astring
    if len(args) < 2:
        raise _Bad("Invalid arguments.")
    if args[1].kind == "list":
        entries = list(args[1].items)
    else:
        if args[1].astring is None or len(args) > 2:
            raise _Bad("Invalid arguments.")
        entries = [args[1]]
    for arg in entries:
        if arg.astring is None:
            raise _Bad("Entry isn't astring")
        error = verify_entry_name(arg.astring)
        if error is not None:
            raise _Bad(error)
        get.entries.append(arg.astring.decode("ascii").lower())
    return get


def _parse_options(get: _Get, options: tuple[Arg, ...]) -> None:
    i = 0
    while i < len(options):
        word = options[i].value.upper() if options[i].kind == "atom" else b""
        value = options[i + 1] if i + 1 < len(options) else None
        if word == b"MAXSIZE":
            text = value.value if value is not None and value.kind == "atom" else b""
            if not text.isdigit() or int(text) > _UINT32_MAX:
                raise _Bad("Invalid value for MAXSIZE option")
            get.maxsize = int(text)
        elif word == b"DEPTH":
            text = value.value if value is not None and value.kind == "atom" else b""
            depths = {b"0": 0, b"1": 1, b"infinity": INFINITY}
            if text not in depths:
                raise _Bad("Invalid value for DEPTH option")
            get.depth = depths[text]
        else:
            raise _Bad("Unknown option")
        i += 2


# --- SETMETADATA ------------------------------------------------------------------------------

@dataclass
class _Set:
    mailbox: bytes
    entries: list[tuple[str, str | None]]

    async def run(self, session: Session) -> tuple[str, str]:
        vname = decode_mailbox_name(self.mailbox) if self.mailbox else ""
        attrs = await _open(session, vname)
        server = not vname
        changes: list[AttributeChange] = []
        refused: AttributeFailure | None = None
        for entry, value in self.entries:
            located = entry_key(entry, server=server)
            if located is None:
                refused = AttributeFailure("Internal mailbox attributes cannot be accessed")
                break
            changes.append(AttributeChange(located[0], located[1], value))
        # A refusal part way leaves everything unchanged, but the entries before it are
        # checked first, in order, as Dovecot sets them one by one.
        await session.storage(attrs.commit, changes, dry_run=refused is not None)
        if refused is not None:
            raise refused
        return "OK", "Setmetadata completed."


def _parse_set(args: list[Arg]) -> _Set:
    if len(args) < 2 or args[0].astring is None or args[1].kind != "list":
        raise _Bad("Invalid arguments.")
    items = args[1].items
    entries: list[tuple[str, str | None]] = []
    for i in range(0, len(items), 2):
        name = items[i].astring
        if name is None:
            raise _Bad("Entry name isn't astring")
        error = verify_entry_name(name)
        if error is not None:
            raise _Bad(error)
        if i + 1 >= len(items):
            raise _Bad("Entry value missing")
        value_arg = items[i + 1]
        if value_arg.kind == "list":
            raise _Bad("Entry value can't be a list")
        if value_arg.is_nil():
            value = None
        else:  # a string, or an atom as Dovecot takes it too
            value = value_arg.value.decode("utf-8", "surrogateescape")
        entries.append((name.decode("ascii").lower(), value))
    return _Set(args[0].astring, entries)
