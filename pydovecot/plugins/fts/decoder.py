"""``fts_decoder``: attachments turned into text by a decoder service (Dovecot's fts-parser-script).

``plugin { fts_decoder = decode2text }`` names a unix socket (relative to ``base_dir``) where a
``script`` service listens (``service decode2text { executable = script .../decode2text.sh }``,
served by real Dovecot's script binary or by our master: pydovecot/master/script_service.py).
Each exchange is one connection speaking the script protocol:

    VERSION<TAB>script<TAB>4<TAB>0<LF> alarm=10<LF> noreply<LF>   the handshake
    <content-type><LF>                                            the script's argument (none: list)
    <LF>                                                          end of the arguments
    <the decoded attachment>, then shutdown(SHUT_WR)              the script's stdin
    <- UTF-8 text until EOF                                       the script's stdout

Without an argument the script lists what it decodes, one ``<content-type> <ext> [<ext>...]``
line each, ended by an empty line; that list is read once per user, as fts-parser-script does.
A part is sent when its content type is on the list, or when it is application/octet-stream and
its Content-Disposition filename's extension is (then the list's content type is sent), as
real Dovecot 2.3.19 does (tests/plugins/test_fts_decoder.py runs both against each other).

Failures never fail indexing: the part is left out of the index, and the error is logged.
The text returned is read as UTF-8 with invalid sequences dropped, as Dovecot drops them.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time

log = logging.getLogger("pydovecot.plugins")

HANDSHAKE = b"VERSION\tscript\t4\t0\nalarm=10\nnoreply\n"
CONNECT_RETRY_S = 1.0  # net_connect_unix_with_retries(path, 1000)
TIMEOUT_S = 30.0  # the script is killed after 10 s (alarm=10); this only guards against a stuck service
MAX_TEXT = 16 * 1024 * 1024  # text kept from one attachment
MAX_LIST = 1024 * 1024
FAILED_RETRY_S = 60.0  # after a failed content-type query, parts are not offered for this long


def socket_path(setting: str, base_dir: str) -> str:
    """``fts_decoder`` as a path: relative names live in ``base_dir``."""
    return setting if setting.startswith("/") else os.path.join(base_dir, setting)


class ScriptDecoder:
    """One user's decoder: the content types the script decodes, and the decoding itself."""

    def __init__(self, path: str, timeout: float = TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout
        self._types: dict[str, tuple[str, ...]] | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()

    # --- which parts -------------------------------------------------------------------------

    def content_types(self) -> dict[str, tuple[str, ...]]:
        """content type -> file name extensions, as the script listed them (empty on failure)."""
        with self._lock:
            if self._types is None:
                if self._failed_at and time.monotonic() - self._failed_at < FAILED_RETRY_S:
                    return {}
                try:
                    self._types = self._read_types()
                except OSError as exc:
                    log.error("fts_decoder: listing the content types of %s failed: %s", self.path, exc)
                    self._failed_at = time.monotonic()
                    return {}
            return self._types

    def _read_types(self) -> dict[str, tuple[str, ...]]:
        reply = self._exchange(HANDSHAKE + b"\n", b"", MAX_LIST)
        types: dict[str, tuple[str, ...]] = {}
        eof_seen = False
        for line in reply.decode("utf-8", "replace").split("\n"):
            words = line.split()
            if not words:
                eof_seen = True
                break
            if len(words) < 2:
                log.error("fts_decoder: parser script sent invalid input: %s", line)
                continue
            types.setdefault(words[0].lower(), tuple(words[1:]))
        if not eof_seen:
            log.error("fts_decoder: parser script didn't send %s",
                      "any data" if not reply else "empty EOF line")
        return types

    def supports(self, content_type: str, filename: str | None) -> str | None:
        """The content type to send the part as, or None when the script does not decode it."""
        types = self.content_types()
        content_type = content_type.lower()
        if content_type != "application/octet-stream":
            return content_type if content_type in types else None
        if not filename or "." not in filename:
            return None
        extension = filename.rsplit(".", 1)[1].lower()
        for known, extensions in types.items():
            if extension in (e.lower() for e in extensions):
                return known
        return None

    # --- decoding ----------------------------------------------------------------------------

    def decode(self, content_type: str, data: bytes) -> str | None:
        """The script's text for ``data`` sent as ``content_type``; None when it failed."""
        if "\n" in content_type or not content_type:
            return None
        try:
            reply = self._exchange(HANDSHAKE + content_type.encode("ascii", "replace") + b"\n\n", data, MAX_TEXT)
        except OSError as exc:
            log.error("fts_decoder: decoding a %s part with %s failed: %s", content_type, self.path, exc)
            return None
        return reply.decode("utf-8", "ignore")

    def _exchange(self, header: bytes, data: bytes, limit: int) -> bytes:
        """Send header + data, half-close, read the reply until EOF (at most ``limit`` bytes).

        Writing and reading interleave: a decoder that answers while it still reads its input
        must not deadlock against us."""
        sock = _connect(self.path)
        try:
            sock.setblocking(False)
            out = memoryview(header + data)
            sent = 0
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + self.timeout
            with selectors.DefaultSelector() as sel:
                sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
                writing = True
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("timed out")
                    for _key, events in sel.select(left):
                        if events & selectors.EVENT_WRITE and writing:
                            try:
                                sent += sock.send(out[sent:sent + 65536])
                            except BrokenPipeError:
                                sent = len(out)  # the script stopped reading: take what it says
                            if sent >= len(out):
                                writing = False
                                _half_close(sock)
                                sel.modify(sock, selectors.EVENT_READ)
                        if events & selectors.EVENT_READ:
                            chunk = sock.recv(65536)
                            if not chunk:
                                return b"".join(chunks)
                            if size < limit:
                                chunks.append(chunk[:limit - size])
                                size += len(chunk)
        finally:
            sock.close()


def _half_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _connect(path: str) -> socket.socket:
    """Connect, retrying for a second while the service is busy (EAGAIN/ECONNREFUSED)."""
    deadline = time.monotonic() + CONNECT_RETRY_S
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (BlockingIOError, ConnectionRefusedError, InterruptedError):
            sock.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
        except OSError:
            sock.close()
            raise
