"""The zlib plugin: read compressed Maildir files, and compress new ones (``zlib_save``).

Reading recognises the format by its first bytes, whatever the file name says, so one Maildir
may mix plain and compressed messages, as with Dovecot. Saving compresses with ``zlib_save``
(gz, bz2, xz, zstd where the module exists) at ``zlib_save_level``; the file name keeps the
message's real sizes (``S=``/``W=``), as Dovecot writes them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib as _zlib
from collections.abc import Callable, Iterable
from typing import Any

from pydovecot.storage.interface import Mailbox

from .hooks import MailboxWrapper, MailPlugin
from .registry import PluginError, register

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def decompress(data: bytes) -> bytes:
    """The message inside ``data``; plain data (and anything undecodable) comes back as it is."""
    try:
        if data.startswith(_GZIP_MAGIC):
            return gzip.decompress(data)
        if data.startswith(_BZ2_MAGIC) and len(data) > 4 and data[3:4].isdigit():
            return bz2.decompress(data)
        if data.startswith(_XZ_MAGIC):
            return lzma.decompress(data)
        if data.startswith(_ZSTD_MAGIC):
            return _zstd_decompress(data)
    except (OSError, EOFError, ValueError, lzma.LZMAError, _zlib.error):
        # Dovecot logs a corrupted compressed file and fails the read; we serve the raw bytes
        # rather than lose the message, and the log says why.
        import logging

        logging.getLogger("pydovecot.plugins").error("zlib: corrupted compressed mail file")
    return data


def _zstd_decompress(data: bytes) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ValueError("zstd support is not installed") from exc
    return zstandard.ZstdDecompressor().decompress(data)


def compressor(method: str, level: int) -> Callable[[bytes], bytes]:
    if method in ("gz", "deflate"):
        return lambda data: gzip.compress(data, compresslevel=level or 6, mtime=0)
    if method == "bz2":
        return lambda data: bz2.compress(data, compresslevel=level or 9)
    if method == "xz":
        return lambda data: lzma.compress(data, preset=min(level or 6, 9))
    raise PluginError(f"zlib_save: Unknown compression format: {method}")


class _ZlibMailbox(MailboxWrapper):
    def __init__(self, inner: Mailbox, compress: Callable[[bytes], bytes] | None) -> None:
        super().__init__(inner)
        self._compress = compress

    def read(self, uid: int) -> bytes | None:
        data = self.inner.read(uid)
        return None if data is None else decompress(data)

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        if self._compress is not None and "stored" not in backend:
            backend["stored"] = self._compress(self.saved_form(data))
        return super().append(data, flags=flags, keywords=keywords, internaldate=internaldate, **backend)


@register
class ZlibPlugin(MailPlugin):
    name = "zlib"

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        method = self.setting("zlib_save")
        level_text = self.setting("zlib_save_level", "6")
        level = int(level_text) if level_text.isdigit() else 6
        self._compress = compressor(method, level) if method else None

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        return _ZlibMailbox(mailbox, self._compress)  # type: ignore[return-value]
