"""The threading algorithms.

ORDEREDSUBJECT: messages grouped by base subject; in each group the oldest message is the root
and the rest are its children; threads in order of their root's date.

REFERENCES (RFC 5256 section 2.2): link messages by Message-ID, References (else In-Reply-To),
prune dummies, sort the roots by date, merge roots with the same base subject, sort children.

REFS (Dovecot): REFERENCES without the subject merging, with threads ordered by their newest
message so that recently active threads come last.

Dates are the Date header with INTERNALDATE as fallback (as SORT DATE); ties go by sequence number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydovecot.storage.search.message import SearchableMessage
from pydovecot.storage.search.message_text import MessageText
from pydovecot.storage.sort import base_subject, sent_date

__all__ = ["THREAD_ALGORITHMS", "ThreadError", "ThreadNode", "thread_messages"]

THREAD_ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES", "REFS")

M = TypeVar("M", bound=SearchableMessage)

_MSGID = re.compile(r"<\s*([^<>@\s]+@[^<>\s]+?)\s*>")


class ThreadError(ValueError):
    """An unknown threading algorithm."""


@dataclass(eq=False)
class ThreadNode(Generic[M]):
    """A message (None for a dummy standing in for a missing parent) and its replies."""

    message: M | None
    children: list[ThreadNode[M]] = field(default_factory=list)
    parent: ThreadNode[M] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Info:
    date: int
    seq: int
    subject: str
    reply: bool


def thread_messages(algorithm: str, messages: Sequence[M]) -> list[ThreadNode[M]]:
    """Thread the (already searched) messages; returns the roots in response order."""
    name = algorithm.upper()
    if name not in THREAD_ALGORITHMS:
        raise ThreadError(f"Unknown thread algorithm: {algorithm}")
    texts = {msg.seq: MessageText(msg.raw()) for msg in messages}
    infos: dict[int, _Info] = {}
    for msg in messages:
        text = texts[msg.seq]
        subject, reply = base_subject(text.first("Subject"))
        infos[msg.seq] = _Info(sent_date(msg, text), msg.seq, subject, reply)
    if name == "ORDEREDSUBJECT":
        return _ordered_subject(messages, infos)
    roots = _link(messages, texts)
    roots = _prune(roots)
    if name == "REFS":
        for root in roots:
            _sort_children(root, infos)
        return sorted(roots, key=lambda node: _newest(node, infos))
    for root in roots:
        _sort_children(root, infos)
    roots.sort(key=lambda node: _oldest_key(node, infos))
    roots = _merge_subjects(roots, infos)
    for root in roots:
        _sort_children(root, infos)
    return roots


# ---------------------------------------------------------------- ORDEREDSUBJECT


def _ordered_subject(messages: Sequence[M], infos: dict[int, _Info]) -> list[ThreadNode[M]]:
    groups: dict[str, list[M]] = {}
    for msg in messages:
        groups.setdefault(infos[msg.seq].subject, []).append(msg)
    threads: list[ThreadNode[M]] = []
    for members in groups.values():
        members.sort(key=lambda m: (infos[m.seq].date, m.seq))
        root = ThreadNode(members[0])
        root.children = [ThreadNode(m, parent=root) for m in members[1:]]
        threads.append(root)
    threads.sort(key=lambda node: _msg_key(node, infos))
    return threads


# ---------------------------------------------------------------- REFERENCES / REFS


def message_ids(value: str | None) -> list[str]:
    """The `<id@domain>` message IDs in a header value, in order."""
    return _MSGID.findall(value or "")


def _ancestor(node: ThreadNode[M], other: ThreadNode[M]) -> bool:
    """Whether other is node or one of node's ancestors."""
    current: ThreadNode[M] | None = node
    while current is not None:
        if current is other:
            return True
        current = current.parent
    return False


def _set_parent(child: ThreadNode[M], parent: ThreadNode[M]) -> None:
    if child.parent is not None:
        child.parent.children.remove(child)
    child.parent = parent
    parent.children.append(child)


def _link(messages: Sequence[M], texts: dict[int, MessageText]) -> list[ThreadNode[M]]:
    """Step 1 of REFERENCES: containers by Message-ID, linked through the references."""
    by_id: dict[str, ThreadNode[M]] = {}
    every: list[ThreadNode[M]] = []

    def container(msgid: str) -> ThreadNode[M]:
        node = by_id.get(msgid)
        if node is None:
            node = by_id[msgid] = ThreadNode(None)
            every.append(node)
        return node

    for msg in messages:
        text = texts[msg.seq]
        ids = message_ids(text.first("Message-ID"))
        own = by_id.get(ids[0]) if ids else None
        if own is None and ids:
            own = container(ids[0])
        if own is None or own.message is not None:
            # No Message-ID, or a duplicate one: the message gets a container of its own.
            own = ThreadNode(None)
            every.append(own)
        own.message = msg
        refs = message_ids(text.first("References")) or message_ids(text.first("In-Reply-To"))[:1]
        parent: ThreadNode[M] | None = None
        for ref in refs:
            node = container(ref)
            if node is own:
                continue
            if parent is not None and node.parent is None and not _ancestor(parent, node):
                _set_parent(node, parent)
            parent = node
        # The last reference is the parent, replacing any link an earlier message's references
        # gave, unless that would make a loop; a message without references keeps its link.
        if parent is not None and parent is not own and not _ancestor(parent, own):
            _set_parent(own, parent)
    return [node for node in every if node.parent is None]


def _prune(nodes: list[ThreadNode[M]], at_root: bool = True) -> list[ThreadNode[M]]:
    """Drop empty dummies; splice a dummy's children into its place unless that would put
    several of them at the root."""
    out: list[ThreadNode[M]] = []
    for node in nodes:
        node.children = _prune(node.children, at_root=False)
        for child in node.children:
            child.parent = node
        if node.message is not None:
            out.append(node)
        elif not node.children:
            continue
        elif not at_root or len(node.children) == 1:
            out.extend(node.children)
        else:
            out.append(node)
    for node in out:
        node.parent = None
    return out


def _msg_key(node: ThreadNode[M], infos: dict[int, _Info]) -> tuple[int, int]:
    assert node.message is not None
    info = infos[node.message.seq]
    return info.date, info.seq


def _oldest_key(node: ThreadNode[M], infos: dict[int, _Info]) -> tuple[int, int]:
    """A message's own date; for a dummy, its first (oldest) child's."""
    while node.message is None:
        node = node.children[0]
    return _msg_key(node, infos)


def _newest(node: ThreadNode[M], infos: dict[int, _Info]) -> tuple[int, int]:
    best = _msg_key(node, infos) if node.message is not None else (-(2**63), 0)
    stack = list(node.children)
    while stack:
        current = stack.pop()
        if current.message is not None:
            best = max(best, _msg_key(current, infos))
        stack.extend(current.children)
    return best


def _sort_children(root: ThreadNode[M], infos: dict[int, _Info]) -> None:
    stack = [root]
    order: list[ThreadNode[M]] = []
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    for node in reversed(order):  # children before parents: a dummy's key needs sorted children
        node.children.sort(key=lambda child: _oldest_key(child, infos))


def _subject_of(node: ThreadNode[M], infos: dict[int, _Info]) -> _Info:
    while node.message is None:
        node = node.children[0]
    return infos[node.message.seq]


def _merge_subjects(roots: list[ThreadNode[M]], infos: dict[int, _Info]) -> list[ThreadNode[M]]:
    """Step 5 of REFERENCES: gather root threads that share a base subject."""
    table: dict[str, ThreadNode[M]] = {}
    for node in roots:
        info = _subject_of(node, infos)
        if not info.subject:
            continue
        held = table.get(info.subject)
        if held is None:
            table[info.subject] = node
        elif held.message is not None and (
            node.message is None or (_subject_of(held, infos).reply and not info.reply)
        ):
            table[info.subject] = node
    out: list[ThreadNode[M]] = []
    for node in roots:
        info = _subject_of(node, infos)
        held = table.get(info.subject) if info.subject else None
        if held is None or held is node:
            out.append(node)
            continue
        if held.message is None and node.message is None:
            for child in node.children:
                child.parent = held
            held.children.extend(node.children)
            node.children = []
        elif held.message is None:
            _set_parent(node, held)
        elif node.message is None:
            _set_parent(held, node)
            _replace(out, held, node)
            table[info.subject] = node
            continue
        elif not _subject_of(held, infos).reply and info.reply:
            _set_parent(node, held)
        else:
            dummy: ThreadNode[M] = ThreadNode(None)
            _replace(out, held, dummy)
            _set_parent(held, dummy)
            _set_parent(node, dummy)
            table[info.subject] = dummy
    for node in out:
        node.parent = None
    return out


def _replace(roots: list[ThreadNode[M]], old: ThreadNode[M], new: ThreadNode[M]) -> None:
    for index, node in enumerate(roots):
        if node is old:
            roots[index] = new
            return
