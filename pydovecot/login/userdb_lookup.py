"""The userdb as a mail user's ``lookup_user`` (the owners of shared namespaces).

Protocol sessions hold the auth service; storage, which needs the owner's home and mail
fields, runs in worker threads. This turns the service's async userdb lookup into the
synchronous callable storage takes (:func:`pydovecot.storage.shared.threadsafe_lookup`):
the lookup runs on the session's event loop, the worker thread waits for its answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.storage.shared import LookupUser, threadsafe_lookup


def userdb_lookup(auth_service: Any, request: RequestInfo) -> LookupUser | None:
    """``lookup_user(name) -> fields | None`` over ``auth_service`` (None without one, as in a
    mail process that only has the auth socket: shared owners are then unknown)."""
    if auth_service is None:
        return None
    backend = auth_service.backend

    async def lookup(name: str) -> dict[str, str] | None:
        answer = await backend.lookup_user(name, request)
        if answer.result is not UserdbResult.OK:
            return None
        fields = {f.key: f.value for f in answer.fields.items}
        fields.setdefault("user", answer.user or name)
        return fields

    return threadsafe_lookup(asyncio.get_running_loop(), lookup)
