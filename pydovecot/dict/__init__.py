"""Dovecot's dict: a small key-value store that quota and mailbox attributes keep their data in.

Keys are ``priv/...`` (this user's) or ``shared/...``; a dict is named by a URI such as
``file:%h/dovecot-attributes`` or ``proxy::NAME`` (served from the ``dict { NAME = URI }``
setting). Drivers: :mod:`pydovecot.dict.file` here; dict-sql lives with the quota backend.
"""

from __future__ import annotations

from collections.abc import Mapping


class DictError(Exception):
    pass


def resolve_uri(uri: str, named: Mapping[str, str]) -> str:
    """``proxy:[socket]:NAME`` -> the URI of the dict NAME in ``dict { }``."""
    if not uri.startswith("proxy:"):
        return uri
    name = uri.split(":", 2)[2] if uri.count(":") >= 2 else ""
    if name not in named:
        raise DictError(f"dict {name!r} is not configured in dict {{ }}")
    return named[name]
