"""Where a delivery's storage work runs: on the loop only in an lmtp worker process serving
one session (nothing else can be held up there), in a storage thread everywhere else (the
master's loop also serves IMAP, logins and auth)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.lmtp import LmtpService
from tests.lmtp.harness import write_config


def _service(tmp_path: Path) -> LmtpService:
    tree = load(str(write_config(tmp_path, 0)))
    return LmtpService(tree, service_from_settings(tree.lookup(service="auth")))


async def _thread_of_call(service: LmtpService, sessions: int) -> threading.Thread:
    """The thread a storage call runs in while ``sessions`` sessions are open."""
    blocker = asyncio.Event()
    tasks = {asyncio.ensure_future(blocker.wait()) for _ in range(sessions - 1)}
    service.tasks.update(tasks)
    current = asyncio.current_task()
    assert current is not None
    service.tasks.add(current)
    try:
        return await service.storage_call(threading.current_thread)
    finally:
        blocker.set()
        await asyncio.gather(*tasks)
        service.tasks.clear()


@pytest.mark.parametrize(("lmtp_only", "sessions", "inline"), [
    (True, 1, True),     # a worker of the lmtp service, client_limit = 1
    (True, 2, False),    # a worker with a higher client_limit, another session open
    (False, 1, False),   # the master serving lmtp itself, among other services
])
def test_storage_call_runs_inline_only_in_a_one_session_lmtp_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lmtp_only: bool, sessions: int, inline: bool) -> None:
    monkeypatch.setattr(LmtpService, "lmtp_only_process", lmtp_only)
    service = _service(tmp_path)
    thread = asyncio.run(_thread_of_call(service, sessions))
    assert (thread is threading.main_thread()) == inline
