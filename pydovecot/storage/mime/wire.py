"""IMAP string rendering exactly as Dovecot's ``imap-quote.c`` chooses quoted vs literal."""

from __future__ import annotations

# Dovecot switches to a literal after this many quoted-specials (imap-quote.c).
QUOTED_MAX_ESCAPE_CHARS = 4


def literal(data: bytes) -> bytes:
    return b"{%d}\r\n" % len(data) + data


def nstring(src: bytes | None) -> bytes:
    """imap_append_nstring: NIL, "quoted", or {n} literal for CR/LF/8-bit/many escapes.

    ``src`` is treated as a C string: it ends at the first NUL.
    """
    if src is None:
        return b"NIL"
    nul = src.find(b"\0")
    if nul >= 0:
        src = src[:nul]
    escapes = 0
    for c in src:
        if c == 0x22 or c == 0x5C:
            escapes += 1
            if escapes > QUOTED_MAX_ESCAPE_CHARS:
                return literal(src)
        elif c == 0x0D or c == 0x0A or c >= 0x80:
            return literal(src)
    return quoted(src)


def quoted(src: bytes) -> bytes:
    out = bytearray(b'"')
    for c in src:
        if c in (0x0D, 0x0A) or c >= 0x80:
            continue
        if c in (0x22, 0x5C):
            out.append(0x5C)
        out.append(c)
    out.append(0x22)
    return bytes(out)


def nstring_nolf(src: bytes | None) -> bytes:
    """imap_append_nstring_nolf: drop CR/LF (adding a space where a line did not start with one)."""
    if src is None:
        return b"NIL"
    nul = src.find(b"\0")
    if nul >= 0:
        src = src[:nul]
    if b"\r" not in src and b"\n" not in src:
        return nstring(src)
    out = bytearray()
    n = len(src)
    for i, c in enumerate(src):
        if c not in (0x0D, 0x0A):
            out.append(c)
        elif i + 1 < n and src[i + 1] not in (0x20, 0x09, 0x0D, 0x0A):
            out.append(0x20)
    return nstring(bytes(out))


def string_for_humans(src: bytes) -> bytes:
    """imap_append_string_for_humans: collapse whitespace, drop CR/LF, NUL -> 0x80."""
    modify = False
    remove = 0
    last_lwsp = True
    ws_prefix = True
    for c in src:
        if c == 0:
            last_lwsp = False
            modify = True
        elif c in (0x09, 0x20):
            if c == 0x09:
                modify = True
            if last_lwsp:
                modify = True
                remove += 1
            last_lwsp = True
        elif c in (0x0D, 0x0A):
            remove += 1
            modify = True
        elif c in (0x22, 0x5C):
            modify = True
            last_lwsp = False
        else:
            if c & 0x80:
                modify = True
            last_lwsp = False
        if not last_lwsp:
            ws_prefix = False
    if last_lwsp and src and not ws_prefix:
        modify = True
        remove += 1
    if not modify:
        return b'"' + src + b'"'
    if len(src) == remove:
        return b'""'
    out = bytearray()
    last_lwsp = True
    ws_prefix = True
    for c in src:
        if c == 0:
            out.append(0x80)
            last_lwsp = False
        elif c in (0x09, 0x20):
            if not last_lwsp:
                out.append(0x20)
            last_lwsp = True
        elif c in (0x0D, 0x0A):
            pass
        else:
            last_lwsp = False
            out.append(c)
        if not last_lwsp:
            ws_prefix = False
    if last_lwsp and src and not ws_prefix:
        out = out[:-1]
    return literal(bytes(out))
