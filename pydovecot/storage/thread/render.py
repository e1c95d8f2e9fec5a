"""Threads to the IMAP THREAD response syntax (RFC 5256 section 4).

A node with one child continues its line (`1 2 3`); a node with several children puts each in
parentheses (`1 (2)(3)`); a dummy (no message) prints only its children (`(7)(8)`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydovecot.storage.thread.algorithms import ThreadNode

__all__ = ["render_threads"]


def render_threads(threads: Sequence[ThreadNode[Any]], number: Callable[[Any], int]) -> str:
    """`(1 2)(3 (4)(5))`: number maps a message to its sequence number or UID."""
    return "".join(f"({_render(node, number)})" for node in threads)


def _render(node: ThreadNode[Any], number: Callable[[Any], int]) -> str:
    # Iterative along single-child chains so a long reply chain can not exhaust the stack.
    parts: list[str] = []
    while True:
        if node.message is not None:
            parts.append(str(number(node.message)))
        if node.message is not None and len(node.children) == 1:
            node = node.children[0]
            continue
        if node.children:
            parts.append("".join(f"({_render(child, number)})" for child in node.children))
        return " ".join(parts)
