"""imap_zlib: COMPRESS=DEFLATE replayed against real Dovecot 2.3.19's transcripts
(goldens/imap_compress.json, recorded by imap_compress_cases.py), plus what a transcript can
not show: the bytes really are deflated, IDLE pushes arrive compressed, the level setting
works, and a client sending garbage after COMPRESS loses only its own connection."""

from __future__ import annotations

import json
import shutil
import time
import zlib

import pytest

from pydovecot.plugins.zlib_imap import DeflateReader, DeflateWriter, ImapZlibPlugin
from tests.imap.session.cases import LOGIN, normalise
from tests.imap.session.harness import RunningServer, running_server
from tests.plugins.imap_compress_cases import (
    CASE_SETTINGS,
    CASES,
    GOLDENS,
    MESSAGE,
    ZLIB,
    Client,
    run_compress_case,
)

RECORDED = json.loads(GOLDENS.read_text())


def _append_first(server: RunningServer) -> None:
    lines = [LOGIN, f"b APPEND INBOX {{{len(MESSAGE)}}}", MESSAGE, "c LOGOUT"]
    run_compress_case("127.0.0.1", server.port, lines)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_matches_real_dovecot(name: str) -> None:
    if "ssl = yes" in CASE_SETTINGS[name] and shutil.which("openssl") is None:
        pytest.skip("openssl makes the test certificate")
    with running_server(CASE_SETTINGS[name]) as server:
        if name == "compress_level":
            _append_first(server)
        pairs, client = run_compress_case("127.0.0.1", server.port, CASES[name])
    ours = [(line, normalise(reply)) for line, reply in pairs]
    golden = [tuple(pair) for pair in RECORDED[name]]
    assert [line for line, _ in ours] == [line for line, _ in golden]
    for (line, reply), (_, expected) in zip(ours, golden, strict=True):
        assert reply == expected, line
    if name != "not_loaded":
        assert client.inflate is not None and client.compressed_bytes_in > 0


def _login_and_compress(port: int) -> Client:
    client = Client("127.0.0.1", port)
    client.read_until(lambda ls: True)
    client.send(LOGIN.encode() + b"\r\n")
    client.read_until(lambda ls: ls[-1].startswith(b"a "))
    client.send(b"b COMPRESS DEFLATE\r\n")
    assert "b OK Begin compression" in client.read_until(lambda ls: ls[-1].startswith(b"b "))
    client.start_deflate()
    return client


def _command(client: Client, tag: str, line: str) -> str:
    client.send(f"{tag} {line}\r\n".encode())
    return client.read_until(lambda ls: ls[-1].startswith(tag.encode() + b" "))


def test_replies_are_deflated_and_compress_well() -> None:
    with running_server(ZLIB) as server:
        _append_first(server)
        client = _login_and_compress(server.port)
        # Raw bytes from the socket are not the text: turn inflating off to look at them.
        client.send(b"c SELECT INBOX\r\n")
        client.read_until(lambda ls: ls[-1].startswith(b"c "))
        inflate, client.inflate = client.inflate, None
        client.send(b"d FETCH 1 BODY[]\r\n")
        assert inflate is not None
        raw, text = b"", b""
        while b"d OK Fetch completed" not in text:
            chunk = client.sock.recv(65536)
            assert chunk
            raw += chunk
            text += inflate.decompress(chunk)
        assert raw.endswith(b"\x00\x00\xff\xff")  # every batch ends with a sync flush
        assert b"hello" not in raw
        assert text.startswith(b"* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[] {1023}\r\n")
        assert len(raw) < len(text) / 5  # 40 repeated lines deflate well
        client.close()


def test_idle_pushes_arrive_compressed() -> None:
    with running_server(ZLIB) as server:
        client = _login_and_compress(server.port)
        _command(client, "c", "SELECT INBOX")
        client.send(b"d IDLE\r\n")
        assert client.read_until(lambda ls: ls[-1].startswith(b"+")).startswith("+ idling")
        _append_first(server)  # another connection delivers while we idle
        pushed = client.read_until(lambda ls: b"EXISTS" in ls[-1])
        assert "* 1 EXISTS" in pushed
        client.send(b"DONE\r\n")
        assert "d OK Idle completed" in client.read_until(lambda ls: ls[-1].startswith(b"d "))
        assert "e OK NOOP completed" in _command(client, "e", "NOOP")
        client.close()


def test_compress_level_setting(caplog: pytest.LogCaptureFixture) -> None:
    class _User:
        def __init__(self, value: str) -> None:
            self.settings = type("S", (), {"plugin": {"imap_compress_deflate_level": value} if value else {}})()

    assert ImapZlibPlugin(_User("")).level() == 6  # type: ignore[arg-type]
    assert ImapZlibPlugin(_User("0")).level() == 0  # type: ignore[arg-type]
    assert ImapZlibPlugin(_User("9")).level() == 9  # type: ignore[arg-type]
    assert ImapZlibPlugin(_User("10")).level() == 6  # type: ignore[arg-type]
    assert ImapZlibPlugin(_User("abc")).level() == 6  # type: ignore[arg-type]
    assert "imap_compress_deflate_level: Level must be between 0..9" in caplog.text


def test_stream_wrappers_round_trip() -> None:
    import asyncio

    class _Inner:
        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks
            self.written = bytearray()

        async def read(self, n: int = -1) -> bytes:
            return self.chunks.pop(0) if self.chunks else b""

        def write(self, data: bytes) -> None:
            self.written += data

        async def drain(self) -> None:
            pass

        def close(self) -> None:
            pass

    sink = _Inner([])
    writer = DeflateWriter(sink, level=0)
    writer.write(b"a OK one\r\n")
    writer.write(b"b OK two\r\n")
    writer.close()
    assert zlib.decompress(bytes(sink.written), -15) == b"a OK one\r\nb OK two\r\n"
    # A client's stream fed one byte at a time, and a bomb that inflates past one read.
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    big = b"x" * 1_000_000
    data = deflate.compress(b"a NOOP\r\n" + big) + deflate.flush(zlib.Z_SYNC_FLUSH)
    reader = DeflateReader(_Inner([data[i:i + 1] for i in range(len(data))]))

    async def read_all() -> tuple[bytes, int]:
        out, biggest = bytearray(), 0
        while chunk := await reader.read(65536):
            biggest = max(biggest, len(chunk))
            out += chunk
        return bytes(out), biggest

    out, biggest = asyncio.run(read_all())
    assert out == b"a NOOP\r\n" + big and biggest <= 65536


def test_garbage_after_compress_ends_only_that_connection() -> None:
    with running_server(ZLIB) as server:
        client = _login_and_compress(server.port)
        client.deflate = None
        client.send(b"\xff\xfe this is not deflate \r\n" * 4)  # sent raw
        client.sock.settimeout(5)
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline:
            try:
                if client.sock.recv(65536) == b"":
                    closed = True
                    break
            except (TimeoutError, ConnectionError):
                break
        assert closed
        client.close()
        # The server still serves others, compressed or not.
        other = _login_and_compress(server.port)
        assert "c OK NOOP completed" in _command(other, "c", "NOOP")
        other.close()


def test_before_login_it_is_not_a_command() -> None:
    with running_server(ZLIB) as server:
        pairs, _ = run_compress_case("127.0.0.1", server.port, ["a COMPRESS DEFLATE", "b LOGOUT"])
        assert pairs[1][1].startswith("a BAD Error in IMAP command received by server.")


def test_shutdown_bye_is_compressed_too() -> None:
    server = RunningServer(ZLIB).start()
    try:
        client = _login_and_compress(server.port)
        assert "c OK NOOP completed" in _command(client, "c", "NOOP")
    finally:
        server.stop()
    assert "* BYE Server shutting down." in client.read_until(lambda ls: b"BYE" in ls[-1])
    client.close()


@pytest.mark.parametrize("model", ["single", "workers", "separated"])
def test_through_our_master(model: str) -> None:
    """The whole server (login then mail process, handed over in the workers model)."""
    import os
    import tempfile
    from pathlib import Path

    from tests.imap.session.cases import write_config
    from tests.support import server as our_server
    from tests.support.net import free_port

    tmp = Path(tempfile.mkdtemp(prefix="pydovecot-z-"))
    tmp.chmod(0o755)
    port = free_port()
    conf = write_config(tmp, port, ZLIB + "mail_plugins = $mail_plugins acl\n"
                        "protocol imap {\n  mail_plugins = $mail_plugins imap_acl\n}\nplugin {\n  acl = vfile\n}\n")
    env = dict(os.environ, PYDOVECOT_PROCESS_MODEL=model)
    proc = our_server.start(conf, env=env)
    try:
        our_server.wait_started(proc, tmp / "dovecot.log")
        client = _login_and_compress(port)
        assert "c OK Create completed" in _command(client, "c", "CREATE Work")
        assert "* ACL Work alice@example.test lrwstipekxacd" in _command(client, "d", "GETACL Work")
        client.send(b"e IDLE\r\n")
        assert client.read_until(lambda ls: ls[-1].startswith(b"+")).startswith("+ idling")
        client.send(b"DONE\r\n")
        assert "e OK Idle completed" in client.read_until(lambda ls: ls[-1].startswith(b"e "))
        assert "f OK Logout completed" in _command(client, "f", "LOGOUT")
        client.close()
    finally:
        our_server.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def test_pipelined_after_compress_is_not_answered() -> None:
    """Real Dovecot 2.3.19 sends nothing for commands pipelined behind COMPRESS (checked by hand:
    ``a COMPRESS DEFLATE`` and a deflated NOOP in one write get only the OK)."""
    with running_server(ZLIB) as server:
        client = Client("127.0.0.1", server.port)
        client.read_until(lambda ls: True)
        client.send(LOGIN.encode() + b"\r\n")
        client.read_until(lambda ls: ls[-1].startswith(b"a "))
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        client.send(b"b COMPRESS DEFLATE\r\n" + deflate.compress(b"c NOOP\r\n") + deflate.flush(zlib.Z_SYNC_FLUSH))
        assert "b OK Begin compression" in client.read_until(lambda ls: ls[-1].startswith(b"b "))
        client.start_deflate()
        client.sock.settimeout(0.5)
        assert client.read_until(lambda ls: True) == ""  # no reply, no crash (until the timeout)
        client.close()
        other = _login_and_compress(server.port)
        assert "c OK NOOP completed" in _command(other, "c", "NOOP")
        other.close()
