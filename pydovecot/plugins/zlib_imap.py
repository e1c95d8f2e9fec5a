"""imap_zlib (``mail_plugins = imap_zlib``): IMAP COMPRESS=DEFLATE (RFC 4978).

The plugin adds ``COMPRESS=DEFLATE`` to the capability list after login; after the tagged
``OK Begin compression.`` both directions are raw deflate (no zlib header: wbits -15).
Compression is a property of the connection, so it lives in the two stream wrappers here:
the session's reader and writer are swapped for them (pydovecot/imap/commands/compress.py),
and nothing else in the IMAP server knows. Each batch of replies the server writes is
deflated and sync-flushed, so the client can decode it at once; IDLE and TLS work unchanged
because the wrappers sit above whichever stream the session already had.

``imap_compress_deflate_level`` (plugin setting, 0..9, default 6; Dovecot 2.3.15+'s name) sets
the level; another value is logged as Dovecot logs it and the default is used.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

from .hooks import MailPlugin
from .registry import register

log = logging.getLogger("pydovecot.plugins")

MECHANISM = "DEFLATE"
DEFAULT_LEVEL = 6
LEVEL_SETTING = "imap_compress_deflate_level"
_RAW_DEFLATE = -15
# How much one read may inflate to: a tiny compressed input never becomes a huge buffer.
READ_LIMIT = 65536


@register
class ImapZlibPlugin(MailPlugin):
    name = "imap_zlib"
    capabilities = ("COMPRESS=DEFLATE",)

    def level(self) -> int:
        value = self.setting(LEVEL_SETTING)
        if not value:
            return DEFAULT_LEVEL
        try:
            level = int(value)
        except ValueError:
            level = -1
        if not 0 <= level <= 9:
            log.error("%s: Level must be between 0..9", LEVEL_SETTING)
            return DEFAULT_LEVEL
        return level


class DeflateReader:
    """Reads the client's deflate stream; ``read()`` returns the inflated bytes (b"" at end).

    Cancelling a pending read (IDLE does) loses nothing: inflating happens only after the
    read below returned."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._inflate = zlib.decompressobj(_RAW_DEFLATE)
        self._tail = b""

    async def read(self, n: int = -1) -> bytes:
        limit = n if n > 0 else READ_LIMIT
        while True:
            if self._tail:
                try:
                    out = self._inflate.decompress(self._tail, limit)
                except zlib.error as exc:
                    raise ConnectionError(f"invalid deflate stream from client: {exc}") from exc
                self._tail = self._inflate.unconsumed_tail
                if out:
                    return out
                continue
            if self._inflate.eof:
                return b""  # the client finished its stream: as good as a close
            data = await self.inner.read(READ_LIMIT)
            if not data:
                return b""
            self._tail = data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class DeflateWriter:
    """Deflates every write and sync-flushes it, so each batch of replies reaches the client whole."""

    def __init__(self, inner: Any, level: int = DEFAULT_LEVEL) -> None:
        self.inner = inner
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, _RAW_DEFLATE)
        self._finished = False

    def write(self, data: bytes) -> None:
        if data and not self._finished:
            self.inner.write(self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH))

    async def drain(self) -> None:
        await self.inner.drain()

    def close(self) -> None:
        # End the deflate stream properly before the connection closes, as Dovecot does.
        if not self._finished:
            self._finished = True
            try:
                self.inner.write(self._deflate.flush(zlib.Z_FINISH))
            except (OSError, RuntimeError):
                pass
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def compression_active(session: Any) -> bool:
    return isinstance(session.writer, DeflateWriter)


def start_compression(session: Any, level: int) -> None:
    """Swap the session's streams for deflating ones (after the tagged OK went out plain)."""
    session.reader = DeflateReader(session.reader)
    session.writer = DeflateWriter(session.writer, level)
