"""Storage calls run in a worker thread with the user's file-system identity."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from pydovecot.storage.access import can_switch, run_as


def test_runs_off_the_event_loop_thread() -> None:
    async def go() -> tuple[int, int]:
        return threading.get_ident(), await run_as(None, None, threading.get_ident)

    loop_thread, worker_thread = asyncio.run(go())
    assert loop_thread != worker_thread


def test_files_are_created_as_the_user(open_tmp_path: Path) -> None:
    tmp_path = open_tmp_path
    if not can_switch():
        pytest.skip("needs root on Linux to switch the file-system uid")
    target = tmp_path / "owned"
    tmp_path.chmod(0o777)

    def create() -> None:
        target.write_text("x")

    asyncio.run(run_as(65534, 65534, create))
    st = os.stat(target)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    # The identity is restored: the next call without a user creates root's files.
    asyncio.run(run_as(None, None, (tmp_path / "root").write_text, "y"))
    assert os.stat(tmp_path / "root").st_uid == os.getuid()
