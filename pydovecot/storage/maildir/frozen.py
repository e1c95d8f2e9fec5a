"""Building many frozen dataclass instances quickly.

A frozen dataclass's ``__init__`` sets every field through ``object.__setattr__``; a full
sync of a 100,000-message Maildir builds several such objects per message, and that alone
costs a noticeable share of the sync. :func:`build` fills the instance's ``__dict__``
directly: the result is equal to (and indistinguishable from) the one ``__init__`` makes,
for classes without ``__slots__``, ``__post_init__`` or field defaults that matter.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_new = object.__new__


def build(cls: type[T], **fields: Any) -> T:
    """``cls(**fields)`` for a plain frozen dataclass; every field must be given."""
    obj = _new(cls)
    obj.__dict__.update(fields)
    return obj
