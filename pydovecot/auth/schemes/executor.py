"""Async wrappers: password hashing runs in a worker pool, never on the event loop.

bcrypt, hashlib's PBKDF2 and cryptography's Argon2 release the GIL, so a thread pool
gives real parallelism for the expensive schemes. A process pool can be installed with
``set_hashing_executor`` (all the work functions are module-level, hence picklable).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

from . import api

_T = TypeVar("_T")
_lock = threading.Lock()
_executor: Executor | None = None


def set_hashing_executor(executor: Executor | None) -> None:
    """Use ``executor`` for all async hashing (None: a private thread pool, made on first use)."""
    global _executor
    with _lock:
        _executor = executor


def _hashing_executor() -> Executor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1),
                                           thread_name_prefix="password-hash")
        return _executor


async def _run(func: functools.partial[_T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hashing_executor(), func)


async def verify_async(stored: str | bytes, password: bytes, *, user: str | None = "",
                       default_scheme: str = "PLAIN") -> bool:
    return await _run(functools.partial(api.verify, stored, password, user=user, default_scheme=default_scheme))


async def generate_async(scheme: str, password: bytes, *, user: str | None = None,
                         rounds: int | None = None) -> str:
    return await _run(functools.partial(api.generate, scheme, password, user=user, rounds=rounds))


async def credentials_async(stored: str | bytes, wanted_scheme: str, *, user: str | None = "",
                            default_scheme: str = "PLAIN") -> api.Credentials:
    # Converting plaintext to SCRAM keys costs 4096 PBKDF2 rounds, so this is offloaded too.
    return await _run(functools.partial(api.credentials, stored, wanted_scheme, user=user,
                                        default_scheme=default_scheme))
