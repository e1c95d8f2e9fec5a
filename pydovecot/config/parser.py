"""Reads a configuration tree into statements with their file and line.

The grammar (``dovecot.lark``, compiled into ``_standalone.py``) decides what every line
means; this module walks the files the way Dovecot does: one physical line at a time,
joining lines that end in a backslash, following ``!include`` / ``!include_try`` (globs
relative to the including file, in sorted order, loops refused) and yielding one
``Statement`` per logical line.  Applying statements to settings is ``build.py``'s job.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydovecot.config.errors import ConfigError
from pydovecot.config.files import glob_include, include_stamp, relative_to, stamp

# Statement kinds.
ASSIGN = "assign"  # key = value (value already unquoted)
ASSIGN_FILE = "file"  # key = <path
ASSIGN_VARIABLE = "variable"  # key = $name rest
SECTION_OPEN = "open"  # key [name] {
SECTION_CLOSE = "close"  # }
INCLUDE = "include"  # handled here; never yielded
ERROR = "error"  # a line in error, yielded instead of raised when reading with keep_going

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Statement:
    kind: str
    key: str
    value: str
    path: str
    line: int


class _Grammar:
    """The compiled grammar, created on first use."""

    parser = None

    @classmethod
    def get(cls):  # type: ignore[no-untyped-def]
        if cls.parser is None:
            from pydovecot.config import _standalone

            cls.parser = _standalone.Lark_StandAlone()
        return cls.parser


def unescape(text: str) -> str:
    """Dovecot's str_unescape: a backslash keeps the next character, whatever it is."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        out.append(ch)
        i += 1
    return "".join(out)


def split_physical(line: str) -> tuple[str, str | None]:
    """(content, comment) of one physical line, by the grammar's ``physical`` rule."""
    if "#" not in line:
        return line, None  # no comment to find: the whole line is content
    tree = _Grammar.get().parse(line, start="physical")
    content, comment = "", None
    for token in tree.children:
        if token is None:
            continue
        if token.type == "CONTENT":
            content = token.value
        elif token.type == "COMMENT":
            comment = token.value
    return content, comment


def classify(text: str, path: str, line: int) -> Statement:
    """One logical line (comment removed, trimmed) as a Statement; syntax errors raise."""
    from pydovecot.config._standalone import UnexpectedInput

    try:
        tree = _Grammar.get().parse(text, start="statement")
    except UnexpectedInput:
        raise ConfigError("Expecting '{'", path, line) from None
    rule = tree.data
    tokens = [c for c in tree.children if c is not None]
    if rule == "assignment":
        key = tokens[0].value
        if len(tokens) == 1:
            return Statement(ASSIGN, key, "", path, line)
        value_tree = tokens[1]
        raw = value_tree.children[0].value
        if value_tree.data == "file_value":
            return Statement(ASSIGN_FILE, key, raw[1:].lstrip(" \t"), path, line)
        if value_tree.data == "variable_value":
            return Statement(ASSIGN_VARIABLE, key, raw, path, line)
        if value_tree.data == "quoted_value":
            return Statement(ASSIGN, key, unescape(raw[1:-1]), path, line)
        return Statement(ASSIGN, key, raw, path, line)
    if rule == "include":
        pattern = tokens[1].value if len(tokens) > 1 else ""
        return Statement(INCLUDE, tokens[0].value, pattern, path, line)
    if rule == "section_open":
        name = ""
        if len(tokens) == 3:
            name_token = tokens[1].children[0]
            name = name_token.value
            if name_token.type == "QUOTED_NAME":
                name = unescape(name[1:-1])
        return Statement(SECTION_OPEN, tokens[0].value, name, path, line)
    if rule == "section_close":
        return Statement(SECTION_CLOSE, "}", "", path, line)
    if rule == "garbage_after_brace":
        raise ConfigError("Garbage after '{'", path, line)
    raise ConfigError("Expecting '{'", path, line)


def _read_lines(path: str) -> list[str]:
    if os.path.isdir(path):
        # Dovecot reads a directory as an empty file.
        return []
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class _Input:
    __slots__ = ("path", "lines", "index")

    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.index = 0


def read_statements(path: str, warn: Warn, *, keep_going: bool = False,
                    deps: list[list[object]] | None = None) -> Iterator[Statement]:
    """Every statement of the tree rooted at ``path``, includes followed in place.

    An error stops the walk with ConfigError, as in Dovecot; with ``keep_going`` it is
    yielded as an ERROR statement instead and reading goes on (doveconf --check).
    ``deps`` collects every file read and every include glob's matches, for caches."""
    if deps is not None:
        deps.append(["file", path, stamp(path)])
    try:
        root_lines = _read_lines(path)
    except OSError as e:
        raise ConfigError(f"open({path}) failed: {os.strerror(e.errno or errno.EIO)}") from None
    stack = [_Input(path, root_lines)]
    pending: list[str] = []
    while stack:
        current = stack[-1]
        if current.index >= len(current.lines):
            stack.pop()
            continue
        raw = current.lines[current.index]
        current.index += 1
        line_no = current.index
        try:
            statement = _logical_line(raw, pending, current.path, line_no, warn)
            if statement is None:
                continue
            if statement.kind != INCLUDE:
                yield statement
                continue
            _push_includes(statement, stack, current, line_no, deps)
        except ConfigError as e:
            if not keep_going:
                raise
            yield Statement(ERROR, "", e.message, current.path, line_no)


def _push_includes(statement: Statement, stack: list[_Input], current: _Input, line_no: int,
                   deps: list[list[object]] | None) -> None:
    """Puts the files an include names on the input stack, first match on top."""
    pattern = relative_to(statement.value, current.path)
    files = glob_include(pattern)
    if deps is not None:
        deps.append(["glob", pattern, files, include_stamp(pattern)])
        deps.extend(["file", name, stamp(name)] for name in files)
    if not files:
        if statement.key == "!include_try":
            return
        raise ConfigError("No matches", current.path, line_no)
    for name in files:
        if any(entry.path == name for entry in stack):
            raise ConfigError(f"Recursive include file: {name}", current.path, line_no)
    for name in reversed(files):
        try:
            lines = _read_lines(name)
        except OSError as e:
            if statement.key == "!include_try":
                continue
            message = f"Couldn't open include file {name}: {os.strerror(e.errno or errno.EIO)}"
            raise ConfigError(message, current.path, line_no) from None
        stack.append(_Input(name, lines))


def _logical_line(raw: str, pending: list[str], path: str, line_no: int, warn: Warn) -> Statement | None:
    """Feeds one physical line; returns a statement when a logical line is complete."""
    nul = raw.find("\0")
    if nul >= 0:
        raw = raw[:nul]
    if raw.endswith("\r"):
        raw = raw[:-1]
    stripped = raw.lstrip(" \t")
    if not stripped or stripped[0] == "#":
        # Dovecot drops a half-joined line when a blank or comment line follows it.
        pending.clear()
        return None
    content, comment = split_physical(stripped)
    if comment is not None and not comment.startswith((" ", "\t")) and content:
        warn(
            f"Configuration file {path} line {line_no}: Ambiguous '#' character in line, "
            "treating it as comment. Add a space before it to remove this warning."
        )
    content = content.rstrip(" \t")
    if content.endswith("\\"):
        content = content[:-1].rstrip(" \t")
        if content:
            pending.append(content + " ")
        return None
    if pending:
        content = "".join(pending) + content
        pending.clear()
    if not content:
        return None
    return classify(content, path, line_no)
