"""RFC 5256 section 2.1 base subject, step by step as Dovecot's imap-base-subject.c does it.

The subject is decoded (RFC 2047), mapped with i;unicode-casemap and its white space packed
first, so the `re`/`fwd` prefixes are matched in their title-cased form (`RE`, `FW`, `FWD`).
"""

from __future__ import annotations

import re

from pydovecot.storage.casemap import casemap
from pydovecot.storage.search.message_text import decode_header_value

__all__ = ["base_subject"]

_WSP_RUN = re.compile(r"[ \t\r\n]+")


def base_subject(subject: str | None) -> tuple[str, bool]:
    """(base subject in casemapped form, whether it looked like a reply or forward)."""
    if not subject:
        return "", False
    text = _WSP_RUN.sub(" ", casemap(decode_header_value(subject))).rstrip(" ")
    reply = False
    while True:
        text, trailer = _remove_trailers(text)
        reply = reply or trailer
        while True:
            text, changed, leader = _remove_leader(text)
            reply = reply or leader
            text, blob = _remove_blob_when_nonempty(text)
            if not (changed or blob):
                break
        if text.startswith("[FWD:") and text.endswith("]"):
            text = text[5:-1]
            reply = True
            continue
        return text, reply


def _remove_trailers(text: str) -> tuple[str, bool]:
    """subj-trailer = "(fwd)" / WSP, repeatedly from the end."""
    found = False
    while True:
        if text.endswith(" "):
            text = text[:-1]
        elif text.endswith("(FWD)"):
            text = text[:-5]
            found = True
        else:
            return text, found


def _skip_blob(text: str, pos: int) -> int | None:
    """Position after `[...]` and trailing spaces at pos, or None."""
    if pos >= len(text) or text[pos] != "[":
        return None
    end = pos + 1
    while end < len(text) and text[end] not in "[]":
        end += 1
    if end >= len(text) or text[end] != "]":
        return None
    end += 1
    while end < len(text) and text[end] == " ":
        end += 1
    return end


def _remove_leader(text: str) -> tuple[str, bool, bool]:
    """subj-leader = (*subj-blob subj-refwd) / WSP; returns (text, removed, was a re/fwd)."""
    if text.startswith(" "):
        return text[1:], True, False
    pos = 0
    while (after := _skip_blob(text, pos)) is not None:
        pos = after
    if text.startswith("RE", pos):
        pos += 2
    elif text.startswith("FW", pos):
        pos += 3 if text.startswith("FWD", pos) else 2
    else:
        return text, False, False
    while pos < len(text) and text[pos] == " ":
        pos += 1
    after = _skip_blob(text, pos)
    if after is not None:
        pos = after
    if not text.startswith(":", pos):
        return text, False, False
    return text[pos + 1 :], True, True


def _remove_blob_when_nonempty(text: str) -> tuple[str, bool]:
    after = _skip_blob(text, 0)
    if after is not None and after < len(text):
        return text[after:], True
    return text, False
