"""IMAP modified UTF-7 (RFC 3501 5.1.3): how Dovecot 2.3 names folders on disk.

Printable ASCII stands for itself except ``&``, written ``&-``; any other run of characters
is ``&`` + modified base64 (``,`` instead of ``/``, no padding) of its UTF-16BE + ``-``.
(The ``UTF-8`` mail_location option would store UTF-8 instead.)
"""

from __future__ import annotations

import base64


class MUtf7Error(ValueError):
    """Not valid modified UTF-7."""


def encode(text: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be", "surrogatepass")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def decode(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if not 0x20 <= ord(ch) <= 0x7E:
            raise MUtf7Error(f"8-bit or control character in modified UTF-7: {text!r}")
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = text.find("-", i + 1)
        if end < 0:
            raise MUtf7Error(f"unterminated shift in {text!r}")
        chunk = text[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            try:
                raw = base64.b64decode(b64, validate=True)
                decoded = raw.decode("utf-16-be")
            except (ValueError, UnicodeDecodeError) as exc:
                raise MUtf7Error(f"bad base64 in {text!r}") from exc
            if any(0x20 <= ord(c) <= 0x7E for c in decoded) or encode(decoded) != "&" + chunk + "-":
                raise MUtf7Error(f"non-canonical modified UTF-7 in {text!r}")
            out.append(decoded)
        i = end + 1
    return "".join(out)
