"""Server behaviour beyond the recorded sessions: TLS, the per-user concurrency limit, temporary
failures, huge and hostile bodies, pipelining, and the service shape the master uses.

Reply texts asserted here were observed from real Dovecot 2.3.19 (STARTTLS, the concurrency limit)
or follow its rules (451 for storage and userdb failures)."""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import ssl
import time
from pathlib import Path

import pytest

from pydovecot.auth.service import UserdbAnswer, UserdbResult
from pydovecot.config import load
from pydovecot.lmtp import LmtpService
from pydovecot.login.connection import ConnectionInfo
from tests.lmtp.harness import final_lines, maildir_messages, write_config
from tests.lmtp.ours import OurServer

ALICE = "alice@example.test"


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.greeting = self.read(1)

    def read(self, finals: int = 1) -> bytes:
        while final_lines(self.buf) < finals or not self.buf.endswith(b"\r\n"):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out

    def cmd(self, data: bytes, finals: int = 1) -> bytes:
        self.sock.sendall(data)
        return self.read(finals)


def _deliver(client: Client, body: bytes, rcpt: str = ALICE) -> bytes:
    client.cmd(b"LHLO t\r\n")
    assert client.cmd(f"MAIL FROM:<s@t>\r\nRCPT TO:<{rcpt}>\r\n".encode(), 2).endswith(b"250 2.1.5 OK\r\n")
    client.sock.sendall(b"BDAT %d LAST\r\n" % len(body))
    client.sock.sendall(body)
    return client.read(1)


def _inbox(root: Path) -> list[bytes]:
    folder = root / "mail" / ALICE / "Maildir" / "new"
    return [p.read_bytes() for p in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)]


def _body_of(stored: bytes) -> bytes:
    """What follows our trace headers (Return-Path, Delivered-To, Received: 6 lines)."""
    return stored.split(b"\n", 7)[7]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


def test_hostile_bodies_are_stored_byte_for_byte(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid())
    bodies = [
        b"Subject: nul\r\n\r\nnul\0byte\x01\x7f\xff\r\n",
        b"Subject: lf\n\nbare\nlf\nbare\rcr\r\n",
        b"Subject: long\r\n\r\n" + b"z" * 1_000_000 + b"\r\n",
        b"Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n",
    ]
    with OurServer(conf) as server:
        for body in bodies:
            assert _deliver(Client(server.port), body).startswith(b"250 2.0.0 <alice@example.test> ")
        # DATA with dot-stuffing, sent one byte at a time
        client = Client(server.port)
        client.cmd(b"LHLO t\r\nMAIL FROM:<s@t>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4)
        raw = b"Subject: slow\r\n\r\n..a\r\n...\r\nb\r\n.\r\n"
        for i in range(len(raw)):
            client.sock.sendall(raw[i:i + 1])
        assert client.read().startswith(b"250 2.0.0 ")
    stored = _inbox(root)
    expected = [b.replace(b"\r\n", b"\n") for b in bodies] + [b"Subject: slow\n\n.a\n..\nb\n"]
    assert [_body_of(s) for s in stored] == expected


def test_fifty_megabytes_over_data(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid())
    line = b"0123456789" * 9 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (50 * 1024 * 1024 // len(line))
    with OurServer(conf) as server:
        client = Client(server.port)
        client.cmd(b"LHLO t\r\nMAIL FROM:<s@t>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4)
        client.sock.sendall(body + b".\r\n")
        assert client.read().startswith(b"250 2.0.0 ")
        assert client.cmd(b"NOOP\r\n") == b"250 2.0.0 OK\r\n"
    (stored,) = _inbox(root)
    assert _body_of(stored) == body.replace(b"\r\n", b"\n")


def test_pipelined_transactions_get_replies_in_order(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid())
    one = b"MAIL FROM:<s@t>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
    with OurServer(conf) as server:
        client = Client(server.port)
        replies = client.cmd(b"LHLO t\r\n" + (one + b"Subject: p\r\n\r\nx\r\n.\r\n") * 3 + b"QUIT\r\n", 1 + 3 * 6 + 1)
    lines = replies.split(b"\r\n")
    saved = [x for x in lines if x.endswith(b" Saved")]
    assert len(saved) == 6 and [x.split()[2] for x in saved] == [b"<alice@example.test>", b"<bob@example.test>"] * 3
    assert lines[-2] == b"221 2.0.0 Bye"
    assert [len(v) for v in maildir_messages(root).values()] == [3, 3]


def test_concurrency_limit(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid(), extra="lmtp_user_concurrency_limit = 1\n")
    with OurServer(conf) as server:
        a, b = Client(server.port), Client(server.port)
        assert a.cmd(b"LHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\n", 3).endswith(b"250 2.1.5 OK\r\n")
        assert b.cmd(b"LHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\n", 3).endswith(
            b"451 4.3.0 <alice@example.test> Too many concurrent deliveries for user\r\n")
        assert b.cmd(b"DATA\r\n") == b"503 5.5.0 No valid recipients\r\n"
        assert a.cmd(b"DATA\r\n") == b"354 OK\r\n"
        assert a.cmd(b"Subject: x\r\n\r\n.\r\n").startswith(b"250 2.0.0 <alice@example.test> ")
        # the finished delivery gave its slot back
        assert b.cmd(b"RSET\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\n", 3).endswith(b"250 2.1.5 OK\r\n")


def test_storage_failure_is_451_then_recovers(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid())
    home = root / "mail" / ALICE
    home.write_bytes(b"not a directory")
    with OurServer(conf) as server:
        client = Client(server.port)
        reply = _deliver(client, b"Subject: x\r\n\r\ny\r\n")
        assert reply == (b"451 4.2.0 <alice@example.test> Internal error occurred. "
                         b"Refer to server log for more information.\r\n")
        assert any(": Error: " in x and x.startswith("lmtp(alice@example.test)<") for x in server.log.lines)
        home.unlink()
        assert _deliver(client, b"Subject: x\r\n\r\ny\r\n").startswith(b"250 2.0.0 ")


class _FailingBackend:
    async def lookup_user(self, user: str, info: object) -> UserdbAnswer:
        return UserdbAnswer(UserdbResult.INTERNAL_FAILURE)


class _FailingAuth:
    backend = _FailingBackend()


def test_userdb_failure_is_451(root: Path) -> None:
    conf = write_config(root, 0, uid=os.geteuid())

    async def run() -> list[bytes]:
        service = await LmtpService.create(load(str(conf)), auth_service=_FailingAuth())
        server = await asyncio.start_server(
            lambda r, w: service.handle_connection(r, w, ConnectionInfo("127.0.0.1", 24, "127.0.0.1", 5000)),
            "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out = [await reader.readline()]
        writer.write(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\nQUIT\r\n")
        out += [await reader.readline() for _ in range(8)]
        writer.close()
        server.close()
        await service.close()
        return out

    replies = asyncio.run(asyncio.wait_for(run(), 30))
    assert replies[7] == b"451 4.3.0 <alice@example.test> Temporary internal error\r\n"
    assert replies[8] == b"221 2.0.0 Bye\r\n"


def _self_signed(root: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls(root: Path) -> None:
    cert, key = _self_signed(root)
    conf = write_config(root, 0, uid=os.geteuid(), extra=f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n")
    with OurServer(conf) as server:
        client = Client(server.port)
        assert client.cmd(b"LHLO c\r\n").endswith(b"250-PIPELINING\r\n250 STARTTLS\r\n")
        assert client.cmd(b"STARTTLS x\r\n") == b"501 5.5.4 Invalid parameters\r\n"
        assert client.cmd(b"STARTTLS\r\n") == b"220 2.0.0 Begin TLS negotiation now.\r\n"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        client.sock = ctx.wrap_socket(client.sock, server_hostname="mx.example.test")
        assert client.cmd(b"LHLO c\r\n").endswith(b"250 PIPELINING\r\n")
        reply = _deliver(client, b"Subject: tls\r\n\r\nsecret\r\n")
        assert reply.startswith(b"250 2.0.0 <alice@example.test> ")
    time.sleep(0)
    assert _inbox(root)[0].endswith(b"secret\n")


def test_garbage_never_breaks_the_server(root: Path) -> None:
    import random

    conf = write_config(root, 0, uid=os.geteuid())
    rng = random.Random(99)
    with OurServer(conf) as server:
        for _ in range(5):
            client = Client(server.port)
            junk = bytes(rng.randrange(256) for _ in range(200_000))
            client.sock.sendall(junk.replace(b"BDAT", b"bdat!").replace(b"DATA", b"data!") + b"\r\nNOOP\r\n")
            client.sock.close()
        client = Client(server.port)
        assert client.greeting.startswith(b"220 ")
        assert client.cmd(b"NOOP\r\n") == b"250 2.0.0 OK\r\n"
        assert _deliver(client, b"Subject: after\r\n\r\nok\r\n").startswith(b"250 2.0.0 ")
    assert not [x for x in server.log.lines if "Error" in x or "Panic" in x]
