"""The i;unicode-casemap comparator (RFC 5051) as Dovecot implements it.

Each character is title-cased with the *simple* Unicode mapping (one character to one; `ß` and
`ﬁ` stay as they are) and then canonically decomposed (`é` becomes `e` + U+0301). Compatibility
decompositions are not applied, so `ﬁne` does not match `fine`, exactly as Dovecot answers.
Search compares such strings by substring, SORT by their UTF-8 bytes (= code point order).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["casemap", "casemap_char"]


@lru_cache(maxsize=4096)
def casemap_char(char: str) -> str:
    """One character title-cased (simple mapping) and canonically decomposed."""
    if char.isascii():
        return char.upper()
    mapped = char.title()
    if len(mapped) != 1:
        # A full mapping (ß -> Ss): the simple one is the upper case when that is one
        # character, else the character itself.
        upper = char.upper()
        mapped = upper if len(upper) == 1 else char
    return _decompose(mapped)


def _decompose(char: str) -> str:
    """Canonical decomposition, recursively, without the NFD reordering of combining marks."""
    spec = unicodedata.decomposition(char)
    if not spec or spec.startswith("<"):
        return char
    return "".join(_decompose(chr(int(code, 16))) for code in spec.split())


def casemap(text: str) -> str:
    """The comparison form of text under i;unicode-casemap."""
    if text.isascii():
        return text.upper()
    return "".join(casemap_char(ch) for ch in text)
