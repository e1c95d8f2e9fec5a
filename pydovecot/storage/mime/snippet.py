"""PREVIEW / SNIPPET=FUZZY text as Dovecot 2.3.19 computes it (``message-snippet.c``).

The first leaf part that is text (no Content-Type counts as text/plain; message/rfc822 is a leaf
here, its embedded header is just text) is decoded to UTF-8 - leniently, unlike BINARY - and
html is flattened by ``mail-html2text``.  Whitespace runs become one space, leading whitespace is
dropped, lines starting with '>' are kept only when there is nothing else, and the result stops
at 200 characters.
"""

from __future__ import annotations

import binascii
import codecs
import html.entities

from pydovecot.storage.mime import rfc822
from pydovecot.storage.mime.binary import part_cte
from pydovecot.storage.mime.bodystructure import ContentData, content_data
from pydovecot.storage.mime.parser import Message, Part

MAX_SNIPPET_CHARS = 200
_REPLACEMENT = "\ufffd"
_WS = frozenset(" \t\r\n\v\f")


def _is_text(d: ContentData) -> bool:
    return d.type is None or d.type.lower() == b"text"


def first_text_part(part: Part) -> Part | None:
    """index_mail_find_first_text_mime_part(): where Dovecot takes the snippet from.

    A text (or untyped) part is used as is; in a multipart/alternative the first text/plain
    child wins, else the last text/html, else the last other text child; any other multipart
    is searched depth-first; everything else (message/rfc822 included) is skipped.
    """
    d = content_data(part)
    if _is_text(d):
        return part
    if (d.type or b"").lower() != b"multipart":
        return None
    if (d.subtype or b"").lower() == b"alternative":
        html_part = text_part = None
        for child in part.children:
            cd = content_data(child)
            if not _is_text(cd):
                continue
            sub = (cd.subtype or b"").lower()
            if sub in (b"", b"plain"):
                return child
            if sub == b"html":
                html_part = child
            else:
                text_part = child
        return html_part or text_part
    for child in part.children:
        found = first_text_part(child)
        if found is not None:
            return found
    return None


def _content_type(part: Part) -> tuple[bytes | None, bytes | None]:
    """(lowercased type/subtype, charset) from the part's own Content-Type header."""
    hdr = part.first_header(b"content-type")
    if hdr is None:
        return None, None
    typ, sub, ok, params = rfc822.parse_content_type(hdr.value)
    charset = next((v for k, v in params if k.lower() == b"charset"), None)
    return (typ + b"/" + sub if ok else typ).lower(), charset


def _lenient_b64(body: bytes) -> bytes:
    clean = bytearray()
    for c in body:
        if c in b" \t\r\n":
            continue
        if c not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=":
            break
        clean.append(c)
    if b"=" in clean:
        clean = clean[: clean.index(b"=")]
    rest = len(clean) % 4
    if rest == 1:
        clean = clean[:-1]
    elif rest:
        clean += b"=" * (4 - rest)  # a final partial quantum still yields its bytes
    try:
        return binascii.a2b_base64(bytes(clean))
    except binascii.Error:
        return b""


def _lenient_qp(body: bytes) -> bytes:
    out = bytearray()
    for line in body.splitlines(keepends=True):
        text = line.rstrip(b"\r\n")
        nl = line[len(text):]
        text = text.rstrip(b" \t")
        soft = text.endswith(b"=")
        if soft:
            text = text[:-1]
        i = 0
        while i < len(text):
            c = text[i]
            if c == 0x3D:
                hx = text[i + 1:i + 3]
                try:
                    out.append(int(hx, 16))
                    i += 3
                    continue
                except ValueError:
                    pass
            out.append(c)
            i += 1
        if nl and not soft:
            out += b"\n"
    return bytes(out)


def _incomplete_tail(data: bytes) -> int:
    """Offset of a final UTF-8 lead byte that has fewer bytes after it than it announces."""
    for back in range(1, min(3, len(data)) + 1):
        c = data[-back]
        if c >= 0xC0:  # only the announced length counts, not what the next bytes are
            need = 2 if c < 0xE0 else 3 if c < 0xF0 else 4
            return len(data) - back if need > back else len(data)
    return len(data)


def _utf8_sanitize(data: bytes) -> str:
    """Dovecot's message-decoder + uni_utf8_get_valid_data() on one UTF-8 body.

    An incomplete final character is held back for more input that never comes (dropped) when
    everything before it is valid; once something was invalid, it becomes one more U+FFFD.
    Runs of replacement characters collapse into one.
    """
    cut = _incomplete_tail(data)
    body = data[:cut]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    if cut < len(data):
        text += _REPLACEMENT
    while _REPLACEMENT * 2 in text:
        text = text.replace(_REPLACEMENT * 2, _REPLACEMENT)
    return text


def _to_utf8(data: bytes, charset: bytes | None) -> str:
    name = (charset or b"utf-8").decode("latin-1").strip().lower()
    try:
        name = codecs.lookup(name).name
    except LookupError:
        name = "utf-8"
    if name == "utf-8":
        return _utf8_sanitize(data)
    return data.decode(name, errors="replace")


def html_to_text(src: str) -> str:
    """mail_html2text: tags become a space, script/style/comments vanish, entities decoded."""
    out: list[str] = []

    def add_space() -> None:
        if out and out[-1] != " ":
            out.append(" ")

    i, n = 0, len(src)
    low = src.lower()
    while i < n:
        c = src[i]
        if c == "<":
            if src.startswith("!--", i + 1):
                end = src.find("-->", i + 4)
                i = n if end < 0 else end + 3
                continue
            for tag, close in (("script", "</script>"), ("style", "</style>")):
                after = i + 1 + len(tag)
                if low.startswith(tag, i + 1) and after < n and src[after] in " \t\r\n>":
                    end = low.find(close, after)
                    if end < 0:
                        return "".join(out)
                    add_space()
                    i = end + len(close)
                    break
            else:
                if low.startswith("![cdata[", i + 1):
                    end = src.find("]]>", i + 9)
                    out.append(src[i + 9:] if end < 0 else src[i + 9:end])
                    i = n if end < 0 else end + 3
                    continue
                i = _skip_tag(src, i + 1)
                add_space()
            continue
        if c == "&":
            semi = -1
            for j in range(i + 1, min(n, i + 11)):
                if src[j] in " \t\r\n":
                    break
                if src[j] == ";":
                    semi = j
                    break
            if semi < 0 or semi - i - 1 >= 10:
                i += 1  # broken entity: the '&' is dropped
                continue
            ch = _entity(src[i + 1:semi])
            if ch is not None:
                out.append(ch)
            i = semi + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _skip_tag(src: str, i: int) -> int:
    quote = ""
    n = len(src)
    while i < n:
        c = src[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == ">":
            return i + 1
        i += 1
    return n


def _entity(name: str) -> str | None:
    for key, cp in html.entities.name2codepoint.items():
        if key.lower() == name.lower():
            return chr(cp)
    if name.startswith("#"):
        try:
            cp = int(name[2:], 16) if name[1:2] == "x" else int(name[1:])
            return chr(cp)
        except (ValueError, OverflowError):
            return None
    return None


def _collapse(text: str, limit: int = MAX_SNIPPET_CHARS) -> str:
    """snippet_generate: normal text first; quoted ('>') lines only as a fallback."""
    normal: list[str] = []
    quoted: list[str] = []
    left = [limit, limit - 1]
    pending = [False, False]
    state = "newline"
    for ch in text:
        if state == "newline" and ch == ">":
            state = "quoted"
            continue
        if state == "quoted":
            if ch == "\n":
                state = "newline"
                continue
            target, idx = quoted, 1
        else:
            state = "normal"
            target, idx = normal, 0
        if ch == "\0" or ch == "\ufeff":
            continue
        if ch in _WS:
            if target:
                pending[idx] = True
            if ch == "\n":
                state = "newline"
            continue
        if left[idx] == 0:
            if idx == 0:
                break
            continue
        left[idx] -= 1
        if pending[idx]:
            if left[idx] == 0:
                if idx == 0:
                    break
                continue
            target.append(" ")
            pending[idx] = False
            left[idx] -= 1
        target.append(ch)
        if idx == 0 and left[0] == 0:
            break
    if normal:
        return "".join(normal)
    if quoted:
        return ">" + "".join(quoted)
    return ""


def snippet(data: bytes, msg: Message) -> str:
    """The PREVIEW text of the message (possibly empty).

    Dovecot picks the first text part from the part tree, then re-parses just that part: its own
    Content-Type header (which may say "text" without a subtype, or be absent under a digest)
    decides between plain text, html and nothing.
    """
    part = first_text_part(msg.root)
    if part is not None:
        ctype, charset = _content_type(part)
        is_html = ctype == b"text/html"
        if ctype is not None and not ctype.startswith(b"text/"):
            return ""
        cte = part_cte(part)
        body = part.body_bytes()
        if cte == "base64":
            body = _lenient_b64(body)
        elif cte == "qp":
            body = _lenient_qp(body)
        elif cte == "unknown":
            return ""
        text = _to_utf8(body, charset)
        if is_html:
            text = html_to_text(text)
        return _collapse(text)
    return ""
