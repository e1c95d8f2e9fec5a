"""Our auth service (``pydovecot.auth.__main__.serve``) in-process on a config, and its log lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from pydovecot.auth.__main__ import serve


@contextlib.contextmanager
def short_tmpdir(prefix: str) -> Iterator[Path]:
    """A fresh directory under /tmp, removed afterwards: AF_UNIX socket paths are short,
    too short for pytest's tmp_path."""
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.asynccontextmanager
async def serving(conf: Path | str, *, penalty: bool = False, timeout: float = 30.0) -> AsyncIterator[None]:
    """Our auth service on ``conf`` for the ``async with`` body: entered once its sockets listen
    (or ``timeout`` passes); a start-up error is raised here. Stopped and awaited on leaving."""
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.ensure_future(serve(str(conf), None, ready=ready, stop=stop, penalty=penalty))
    try:
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([waiter, task], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve() failed: raise its error
        yield
    finally:
        stop.set()
        await task


class _Collect(logging.Handler):
    def __init__(self, normalise: Callable[[str], str]) -> None:
        super().__init__(logging.INFO)
        self.normalise = normalise
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.normalise(record.getMessage()))


@contextlib.contextmanager
def collected_log(name: str = "pydovecot.auth",
                  normalise: Callable[[str], str] = lambda line: line) -> Iterator[list[str]]:
    """The INFO-and-up messages logger ``name`` emits during the ``with`` body, each normalised."""
    handler = _Collect(normalise)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
