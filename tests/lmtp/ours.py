"""Run our LmtpService on a loopback port in a background thread (tests and benchmark)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.lmtp import LmtpService


class LogCapture(logging.Handler):
    """Lines as Dovecot writes them after the timestamp: prefix, level, message."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        prefix = getattr(record, "dovecot_prefix", "")
        level = {"WARNING": "Warning"}.get(record.levelname, record.levelname.capitalize())
        self.lines.append(f"{prefix}{level}: {record.getMessage()}")


class OurServer:
    def __init__(self, conf: Path) -> None:
        self.conf = conf
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self.log = LogCapture()
        self.service: LmtpService | None = None

    def __enter__(self) -> OurServer:
        logger = logging.getLogger("pydovecot.lmtp")
        logger.addHandler(self.log)
        logger.setLevel(logging.INFO)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    async def _start(self) -> int:
        tree = load(str(self.conf))
        self.service = await LmtpService.create(
            tree, auth_service=service_from_settings(tree.lookup(service="auth")))
        server = await self.service.serve_tcp("127.0.0.1", 0)
        return int(server.sockets[0].getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        assert self.service is not None
        asyncio.run_coroutine_threadsafe(self.service.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        logging.getLogger("pydovecot.lmtp").removeHandler(self.log)
