"""COMPRESS=DEFLATE (RFC 4978) sessions as real Dovecot 2.3.19 answered them
(goldens/imap_compress.json). The client below speaks raw deflate (wbits -15) once the server
said ``OK Begin compression``; the transcripts hold the inflated text, so the two servers'
deflate bytes may differ while what they say must not. Record again with
``python -m tests.plugins.imap_compress_cases [CASE...]`` (starts real dovecot on a high port).

Lines: ``tag COMMAND`` waits for the tagged reply (or a ``+`` continuation, after which the next
line is sent as it is: a literal, or DONE); ``STARTTLS`` in a line upgrades the socket after OK.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from tests.imap.session.cases import LOGIN, normalise, write_config

GOLDENS = Path(__file__).with_name("goldens") / "imap_compress.json"
PORT = 31995
MESSAGE = "Subject: compressed\r\n\r\n" + "hello hello hello hello\r\n" * 40

ZLIB = "mail_plugins = imap_zlib\n"
CASE_SETTINGS: dict[str, str] = {
    "compress": ZLIB,
    "compress_level": ZLIB + "plugin {\n  imap_compress_deflate_level = 1\n}\n",
    "compress_tls": ZLIB + "ssl = yes\n",
    "not_loaded": "",
}
_AFTER_LOGIN = [
    "b CAPABILITY",
    "c COMPRESS",
    "d COMPRESS FOO",
    'e COMPRESS "DEFLATE"',
    "f COMPRESS DEFLATE extra",
    "g COMPRESS deflate",
    "h NOOP",
    "i COMPRESS DEFLATE",
    "j COMPRESS FOO",
    f"k APPEND INBOX {{{len(MESSAGE)}}}",
    MESSAGE,
    "l SELECT INBOX",
    "m FETCH 1 (FLAGS BODY[])",
    "n IDLE",
    "DONE",
    "o CAPABILITY",
    "p LOGOUT",
]
CASES: dict[str, list[str]] = {
    "compress": ["a COMPRESS DEFLATE", LOGIN, *_AFTER_LOGIN],
    "compress_level": [LOGIN, "b COMPRESS DEFLATE", "c SELECT INBOX", "d FETCH 1 BODY[]", "e LOGOUT"],
    "compress_tls": ["s STARTTLS", LOGIN, "g COMPRESS DEFLATE", "h NOOP", "i CAPABILITY", "p LOGOUT"],
    "not_loaded": [LOGIN, "b COMPRESS DEFLATE", "c NOOP", "d LOGOUT"],
}


class Client:
    """A plain socket client that can turn on TLS and deflate, reading line-wise."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.inflate: zlib._Decompress | None = None
        self.deflate: zlib._Compress | None = None
        self.compressed_bytes_in = 0
        self.plain_bytes_in = 0

    def send(self, data: bytes) -> None:
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _receive(self) -> bytes:
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            return b""
        if self.inflate is not None and chunk:
            self.compressed_bytes_in += len(chunk)
            chunk = self.inflate.decompress(chunk)
            self.plain_bytes_in += len(chunk)
        return chunk

    def read_until(self, done) -> str:  # type: ignore[no-untyped-def]
        while True:
            lines = self.buf.split(b"\r\n")
            if lines[:-1] and done(lines[:-1]):
                self.buf = lines[-1]
                return b"\r\n".join(lines[:-1]).decode("utf-8", "replace") + "\r\n"
            chunk = self._receive()
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest.decode("utf-8", "replace")
            self.buf += chunk

    def start_tls(self) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def start_deflate(self) -> None:
        # Whatever the server sent after its OK is already compressed.
        self.inflate = zlib.decompressobj(-15)
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        pending, self.buf = self.buf, b""
        if pending:
            self.buf = self.inflate.decompress(pending)

    def close(self) -> None:
        self.sock.close()


def run_compress_case(host: str, port: int, lines: list[str]) -> tuple[list[tuple[str, str]], Client]:
    """(line, reply) pairs, the greeting first; and the client (for its byte counts)."""
    client = Client(host, port)
    out = [("", client.read_until(lambda ls: True))]
    tag = b""
    try:
        for line in lines:
            data = line.encode()
            if not tag:
                tag = data.split(b" ", 1)[0]
            client.send(data + b"\r\n")  # after a literal: the end of its command line
            reply = client.read_until(lambda ls, t=tag: ls[-1].startswith(t + b" ") or ls[-1].startswith(b"+")
                                      or ls[-1].startswith(b"* BYE"))
            out.append((line, reply))
            last = reply.rstrip("\r\n").rsplit("\r\n", 1)[-1]
            if last.startswith("+"):
                continue  # the next line completes this command
            tag = b""
            if " OK " in last and "STARTTLS" in line:
                client.start_tls()
            if last.split(" ")[1:4] == ["OK", "Begin", "compression"]:
                client.start_deflate()
            if "* BYE" in reply:
                break
    finally:
        client.close()
    return out, client


def record(names: list[str]) -> None:
    out: dict[str, list[list[str]]] = json.loads(GOLDENS.read_text()) if GOLDENS.exists() else {}
    for name in names or list(CASES):
        with tempfile.TemporaryDirectory(prefix="zgold") as tmpdir:
            tmp = Path(tmpdir)
            tmp.chmod(0o755)
            conf = write_config(tmp, PORT, CASE_SETTINGS[name])
            subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                if name == "compress_level":
                    _append_first(PORT)
                pairs, _ = run_compress_case("127.0.0.1", PORT, CASES[name])
            finally:
                subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
                time.sleep(0.5)
            out[name] = [[line, normalise(reply)] for line, reply in pairs]
    GOLDENS.write_text(json.dumps({n: out[n] for n in CASES if n in out}, indent=1, ensure_ascii=False) + "\n")


def _append_first(port: int) -> None:
    """One message in INBOX (the level case fetches it)."""
    lines = [LOGIN, f"b APPEND INBOX {{{len(MESSAGE)}}}", MESSAGE, "c LOGOUT"]
    run_compress_case("127.0.0.1", port, lines)


if __name__ == "__main__":
    record(sys.argv[1:])
