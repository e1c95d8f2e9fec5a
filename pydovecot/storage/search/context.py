"""Per-command state a search needs beyond the messages themselves."""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["BadCharsetError", "SearchContext", "check_charset", "local_offset"]


class BadCharsetError(ValueError):
    """SEARCH/SORT/THREAD named a charset we can not convert from; the IMAP layer answers
    `NO [BADCHARSET] Unknown charset.` as Dovecot does."""

    response_code = "BADCHARSET"

    def __init__(self, charset: str) -> None:
        super().__init__("Unknown charset")
        self.charset = charset


def check_charset(charset: str | None) -> None:
    """Raise BadCharsetError unless charset is None or a charset Python (like iconv) knows."""
    if charset is None:
        return
    try:
        codecs.lookup(charset)
    except LookupError:
        raise BadCharsetError(charset) from None


def local_offset(epoch: int) -> int:
    """Seconds east of UTC of the server's local time zone at epoch (Dovecot compares
    INTERNALDATE days in the server's time zone)."""
    return time.localtime(epoch).tm_gmtoff


@dataclass
class SearchContext:
    """`messages_count` and `max_uid` give `*`; `saved_uids` is the SEARCHRES `$` result (UIDs,
    None when nothing was saved); `now` is the clock for OLDER/YOUNGER."""

    messages_count: int
    max_uid: int
    saved_uids: frozenset[int] | None = None
    charset: str | None = None
    mailbox_name: str = ""
    now: int = field(default_factory=lambda: int(time.time()))
    tz_offset: Callable[[int], int] = local_offset
