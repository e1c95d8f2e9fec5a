"""Run storage calls off the event loop, with the mail user's file-system identity.

Dovecot's mail processes setuid to the user. One Python process serves many users at once, so
instead each storage call runs in a worker thread that first sets the thread's *file-system*
uid and gid (Linux ``setfsuid``/``setfsgid`` are per thread): files and directories are created
owned by the user, and permission checks are the user's, while the process keeps the rights it
needs for its listeners. Without root (or on other systems) calls run as the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import importlib
import importlib.machinery
import os
import pkgutil
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_libc: Any = None
if hasattr(os, "getuid") and os.uname().sysname == "Linux":
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        _libc = None

# Few threads on purpose: they share the GIL with the event loop, and a storage call is mostly
# short syscalls (stat, open, rename), each of which hands the GIL over. With 8 threads those
# hand-overs became a large part of the process's time under load (futex storms in
# benchmarks/imap_load.py at 50 clients: 4 threads clearly faster than 8, 2 a little faster
# still). Four, not two: a call can block long (a flush on a slow disk, a dotlock another
# process holds for up to 2 minutes), and the pool is shared by every session of the process.
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mail-io")


_preloaded = False
_preload_lock = threading.Lock()
# Imported lazily by the standard library or by us while serving mail.
_PRELOAD_PACKAGES = ("encodings", "email", "pydovecot")
_PRELOAD_MODULES = ("html", "html.entities", "html.parser", "gzip", "bz2", "lzma", "zlib", "sqlite3", "base64",
                    "quopri", "uu", "calendar", "zoneinfo", "ipaddress", "unicodedata", "marshal", "fcntl",
                    "shlex", "subprocess", "uuid", "hashlib", "hmac", "secrets", "json", "tempfile", "shutil",
                    # the SQL passdb/userdb's MySQL client, imported on its first query
                    "aiomysql")


def preload_modules() -> None:
    """Import now what would otherwise be imported lazily later.

    Once the process runs as the mail user (the master drops root, a mail process setuids), a
    Python installed where that user cannot read (/root/.pyenv, a 0700 virtualenv) cannot
    import anything more: a lazy ``import encodings.koi8_r`` would turn a known charset into an
    unknown one, a lazy ``import email.parser`` into a crash. (A thread that only switches its
    file-system identity, in :func:`call_as`/:func:`run_as`, imports through _RootFsImports.)
    """
    global _preloaded
    with _preload_lock:
        if _preloaded:
            return
        for package in _PRELOAD_PACKAGES:
            module = importlib.import_module(package)
            for info in pkgutil.walk_packages(module.__path__, package + "."):
                if info.name.endswith("__main__"):
                    continue
                with contextlib.suppress(Exception):
                    importlib.import_module(info.name)
        for name in _PRELOAD_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        _preloaded = True


def can_switch() -> bool:
    return _libc is not None and os.geteuid() == 0


# The file-system identity of the current thread while it runs a storage call as a user.
_switched = threading.local()


def _set_fs_identity(uid: int | None, gid: int | None) -> None:
    # setfsgid before setfsuid: the group change needs the root fsuid's capability.
    if gid is not None:
        _libc.setfsgid(gid)
    if uid is not None:
        _libc.setfsuid(uid)


@contextlib.contextmanager
def _root_fs_for_import() -> Iterator[None]:
    """Python's own files are read as root even in a thread that works as a mail user.

    Re-entrant: a module being executed may import others; the user's identity comes back
    when the outermost import is done."""
    depth = getattr(_switched, "import_depth", 0)
    if depth == 0:
        _libc.setfsuid(0)
        _libc.setfsgid(0)
    _switched.import_depth = depth + 1
    try:
        yield
    finally:
        _switched.import_depth = depth
        if depth == 0:
            _set_fs_identity(*_switched.ids)


class _RootFsLoader:
    """A module loader whose file reads (and extension loading) happen as root."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_module(self, spec: Any) -> Any:
        with _root_fs_for_import():
            return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        with _root_fs_for_import():
            self._inner.exec_module(module)


class _RootFsImports:
    """A meta-path finder for threads that work as a mail user: a module imported lazily there
    (a codec, a parser) is found and loaded with the root file-system identity, so a Python the
    user cannot read (/root/.pyenv, a 0700 virtualenv) still imports. Other threads: no effect."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if getattr(_switched, "ids", None) is None:
            return None
        with _root_fs_for_import():
            spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _RootFsLoader(spec.loader)
        return spec


def _install_import_hook() -> None:
    if any(isinstance(finder, _RootFsImports) for finder in sys.meta_path):
        return
    position = next((i for i, finder in enumerate(sys.meta_path)
                     if finder is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(position, _RootFsImports())


# Once, at import: it does nothing for threads that have not switched identity.
_install_import_hook()


def _call_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any) -> T:
    switch = can_switch() and (uid is not None or gid is not None)
    if not switch:
        return func(*args)
    _switched.ids = (uid, gid)
    _set_fs_identity(uid, gid)
    try:
        return func(*args)
    finally:
        _switched.ids = None
        _libc.setfsuid(0)
        _libc.setfsgid(0)


class WouldBlock(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside an inline storage call (:func:`run_light`) where it would wait: for a lock,
    for a flush to disk, or for more reading than an event-loop turn should take."""


# How much mail (bytes) an inline call may read before it goes to a thread instead.
INLINE_READ_BUDGET = 256 * 1024

_inline = threading.local()


def inline_call() -> bool:
    """Whether the running storage call is an inline one, on the event loop."""
    return getattr(_inline, "budget", None) is not None


def may_block() -> None:
    """Mark a point that can wait (a lock another process may hold, an fsync): an inline call
    stops here, before it has changed anything, and runs again in a storage thread."""
    if getattr(_inline, "budget", None) is not None:
        raise WouldBlock


def charge(nbytes: int) -> None:
    """Count ``nbytes`` read against the inline call's budget (no effect in a thread)."""
    budget = getattr(_inline, "budget", None)
    if budget is None:
        return
    budget -= nbytes
    if budget < 0:
        raise WouldBlock
    _inline.budget = budget


async def run_light(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func`` on the event loop when it turns out short, else as :func:`run_as` does.

    Most storage calls of a busy IMAP session only stat a few files and read a few small ones;
    handing each to a thread cost more than the call itself (the threads and the event loop
    passing the GIL back and forth: futex storms, twice the CPU per command). ``func`` must
    change nothing before a :func:`may_block` point, and must read through :func:`charge`, so
    that an inline run that stops can be run again from the start in a thread."""
    call = functools.partial(func, *args, **kwargs) if kwargs else functools.partial(func, *args)
    _inline.budget = INLINE_READ_BUDGET
    try:
        return _call_as(uid, gid, call)
    except WouldBlock:
        pass
    finally:
        _inline.budget = None
    return await run_as(uid, gid, call)


async def run_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread as ``uid``/``gid`` (file-system identity)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(func, *args, **kwargs) if kwargs else func
    return await loop.run_in_executor(_EXECUTOR, _call_as, uid, gid, call, *(() if kwargs else args))


def call_as(uid: int | None, gid: int | None, func: Callable[..., T], *args: Any) -> T:
    """The same, synchronously in the calling thread (for command-line tools)."""
    return _call_as(uid, gid, func, *args)
