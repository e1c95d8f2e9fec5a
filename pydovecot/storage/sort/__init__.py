"""SORT (RFC 5256, RFC 5957), written once above every storage backend."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from pydovecot.storage.search.message import SearchableMessage
from pydovecot.storage.search.message_text import MessageText
from pydovecot.storage.sort.base_subject import base_subject
from pydovecot.storage.sort.keys import SORT_KEYS, sent_date, sort_key

__all__ = ["SORT_KEYS", "SortError", "base_subject", "parse_sort_program", "sent_date", "sort_messages"]

M = TypeVar("M", bound=SearchableMessage)


class SortError(ValueError):
    """An invalid sort program (unknown key, REVERSE without a key, empty list)."""


def parse_sort_program(words: Sequence[str]) -> list[tuple[str, bool]]:
    """["REVERSE", "DATE", "SUBJECT"] -> [("DATE", True), ("SUBJECT", False)]."""
    program: list[tuple[str, bool]] = []
    reverse = False
    for word in words:
        upper = word.upper()
        if upper == "REVERSE":
            if reverse:
                raise SortError("Invalid sort program")
            reverse = True
            continue
        if upper not in SORT_KEYS:
            raise SortError(f"Unknown sort argument: {word}")
        program.append((upper, reverse))
        reverse = False
    if reverse or not program:
        raise SortError("Invalid sort program")
    return program


def sort_messages(messages: Sequence[M], program: Sequence[str]) -> list[M]:
    """messages ordered by the sort program; ties (after every key) go by sequence number,
    ascending even under REVERSE, as Dovecot answers."""
    keys = parse_sort_program(program)
    values: dict[int, list[int | str]] = {}
    for msg in messages:
        text = MessageText(msg.raw())
        values[msg.seq] = [sort_key(name, msg, text) for name, _ in keys]

    def compare(a: M, b: M) -> int:
        for index, (_, reverse) in enumerate(keys):
            left, right = values[a.seq][index], values[b.seq][index]
            if left != right:
                result = -1 if left < right else 1  # type: ignore[operator]
                return -result if reverse else result
        return a.seq - b.seq

    return sorted(messages, key=functools.cmp_to_key(compare))
