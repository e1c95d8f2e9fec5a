"""Our POP3 service on a private event loop thread, so blocking clients (sockets, poplib,
fetchmail) can talk to it from the test."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.pop3.server import Pop3Service


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        prefix = getattr(record, "dovecot_prefix", "")
        self.lines.append(f"{prefix}{record.levelname.title()}: {record.getMessage()}")


class OurServer:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.log = _Collect()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._service: Pop3Service | None = None

    def __enter__(self) -> OurServer:
        logger = logging.getLogger("pydovecot")
        logger.addHandler(self.log)
        self._old_level = logger.level
        logger.setLevel(logging.INFO)
        self.thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
            logger = logging.getLogger("pydovecot")
            logger.removeHandler(self.log)
            logger.setLevel(self._old_level)

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        tree = load(str(self.config))
        auth = service_from_settings(tree.lookup(service="auth"))
        self._service = await Pop3Service.create(tree, auth_service=auth)
        self._server = await self._service.serve_tcp("127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._service is not None:
            await self._service.close()
