"""Run our IMAP service on a loopback port for tests, with the config the goldens were made with."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.imap.server import ImapService
from pydovecot.login.connection import ConnectionInfo

from .cases import write_config


class RunningServer:
    """Our ImapService on its own event loop thread; `port` is where it listens."""

    def __init__(self, extra: str = "") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="pyimap"))
        self.tmp.chmod(0o755)  # the mail user (uid 10000 under root) must reach its home
        self.conf = write_config(self.tmp, 0, extra)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.service: ImapService | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        tree = load(str(self.conf))
        auth = service_from_settings(tree.lookup(service="auth"))
        self.service = await ImapService.create(tree, auth_service=auth)
        server = await self.service.serve_tcp("127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    def listen_as(self, conn: ConnectionInfo) -> int:
        """A second listener whose connections all claim to be `conn` (another client address)."""
        assert self.service is not None
        service = self.service

        async def start() -> int:
            server = await asyncio.start_server(lambda r, w: service.handle_connection(r, w, conn),
                                                "127.0.0.1", 0)
            return int(server.sockets[0].getsockname()[1])

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)

    def start(self) -> RunningServer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("IMAP test server did not start")
        return self

    def stop(self) -> None:
        if self.service is not None:
            asyncio.run_coroutine_threadsafe(self.service.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def running_server(extra: str = "") -> Iterator[RunningServer]:
    server = RunningServer(extra).start()
    try:
        yield server
    finally:
        server.stop()
