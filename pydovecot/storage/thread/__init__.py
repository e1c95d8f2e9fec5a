"""THREAD (RFC 5256 ORDEREDSUBJECT and REFERENCES, Dovecot's REFS), written once above every
storage backend, and the renderer to the IMAP `(1 2)(3 (4)(5))` syntax."""

from __future__ import annotations

from pydovecot.storage.thread.algorithms import (
    THREAD_ALGORITHMS,
    ThreadError,
    ThreadNode,
    thread_messages,
)
from pydovecot.storage.thread.render import render_threads

__all__ = ["THREAD_ALGORITHMS", "ThreadError", "ThreadNode", "render_threads", "thread_messages"]
