"""NAMESPACE (RFC 2342): personal, other users', shared; hidden namespaces are left out."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..protocol import commands as c
from ..protocol.mutf7 import encode_mutf7
from ..protocol.responses import quoted, untagged
from .common import ok

if TYPE_CHECKING:
    from ..session import Session

_KINDS = ("private", "shared", "public")


async def run(session: Session, cmd: c.Namespace) -> None:
    started = time.monotonic()
    assert session.user is not None
    groups: list[bytes] = []
    for kind in _KINDS:
        items = [b"(" + quoted(encode_mutf7(ns.visible_prefix)) + b" " + quoted(ns.separator.encode()) + b")"
                 for ns in session.user.namespaces.namespaces if ns.type == kind and not ns.hidden]
        groups.append(b"(" + b"".join(items) + b")" if items else b"NIL")
    session.send(untagged(b"NAMESPACE " + b" ".join(groups)))
    ok(session, cmd.tag, "Namespace completed.", started=started)
