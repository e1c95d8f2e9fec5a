"""SEARCH, written once above every storage backend (see evaluator.py for the matching rules)."""

from __future__ import annotations

from pydovecot.storage.search.context import BadCharsetError, SearchContext, check_charset
from pydovecot.storage.search.evaluator import in_sequence_set, matches, search, uses_modseq
from pydovecot.storage.search.message import SearchableMessage

__all__ = [
    "BadCharsetError",
    "SearchContext",
    "SearchableMessage",
    "check_charset",
    "in_sequence_set",
    "matches",
    "search",
    "uses_modseq",
]
