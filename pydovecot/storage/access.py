"""Run storage calls off the event loop, with the mail user's file-system identity.

Dovecot's mail processes setuid to the user. One Python process serves many users at once, so
instead each storage call runs in a worker thread that first sets the thread's *file-system*
uid and gid (Linux ``setfsuid``/``setfsgid`` are per thread): files and directories are created
owned by the user, and permission checks are the user's, while the process keeps the rights it
needs for its listeners. Without root (or on other systems) calls run as the process.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_libc: Any = None
if hasattr(os, "getuid") and os.uname().sysname == "Linux":
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        _libc = None

_EXECUTOR = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) * 4), thread_name_prefix="mail-io")


def can_switch() -> bool:
    return _libc is not None and os.geteuid() == 0


def _call_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any) -> T:
    switch = can_switch() and (uid is not None or gid is not None)
    if not switch:
        return func(*args)
    # setfsgid before setfsuid: the group change needs the root fsuid's capability.
    if gid is not None:
        _libc.setfsgid(gid)
    if uid is not None:
        _libc.setfsuid(uid)
    try:
        return func(*args)
    finally:
        _libc.setfsuid(0)
        _libc.setfsgid(0)


async def run_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread as ``uid``/``gid`` (file-system identity)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(func, *args, **kwargs) if kwargs else func
    return await loop.run_in_executor(_EXECUTOR, _call_as, uid, gid, call, *(() if kwargs else args))


def call_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any) -> T:
    """The same, synchronously in the calling thread (for command-line tools)."""
    return _call_as(uid, gid, func, *args)
