"""The asyncio auth service on real UNIX sockets, with a client of our own."""

from __future__ import annotations

import asyncio
import base64
import hmac
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from wire_backend import MemoryBackend

from pydovecot.auth.service import AuthService, AuthServiceSettings


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain(user: str, password: str) -> str:
    return b64(b"\0" + user.encode() + b"\0" + password.encode())


ALICE_OK = plain("alice", "secret1")
ALICE_BAD = plain("alice", "bad")
BOB_OK = plain("bob", "secret1")


class LineClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, text: str | bytes) -> None:
        self.writer.write(text.encode() if isinstance(text, str) else text)
        await self.writer.drain()

    async def line(self) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), 30)
        return raw.decode().rstrip("\n")

    async def lines_until(self, prefix: str) -> list[str]:
        lines = []
        while True:
            lines.append(await self.line())
            if lines[-1].startswith(prefix):
                return lines

    async def at_eof(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 30) == b""

    def close(self) -> None:
        self.writer.close()


@asynccontextmanager
async def running(failure_delay: float = 0.0, backend: MemoryBackend | None = None) -> AsyncIterator[Path]:
    # AF_UNIX paths are short: keep the directory short rather than using tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="pdw", dir="/tmp"))
    service = AuthService(backend or MemoryBackend(),
                          AuthServiceSettings(mechanisms="plain login cram-md5", failure_delay=failure_delay))
    await service.start(client_path=str(directory / "auth-client"), master_path=str(directory / "auth-master"),
                        userdb_path=str(directory / "auth-userdb"))
    try:
        yield directory
    finally:
        await service.close()
        shutil.rmtree(directory, ignore_errors=True)


async def client(directory: Path) -> LineClient:
    reader, writer = await asyncio.open_unix_connection(str(directory / "auth-client"))
    c = LineClient(reader, writer)
    greeting = await c.lines_until("DONE")
    assert greeting[0] == "VERSION\t1\t2"
    assert greeting[1:4] == ["MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "MECH\tCRAM-MD5\tdictionary\tactive"]
    assert [g.split("\t")[0] for g in greeting[4:]] == ["SPID", "CUID", "COOKIE", "DONE"]
    await c.send("VERSION\t1\t2\nCPID\t4242\n")
    return c


async def master(directory: Path, name: str = "auth-master") -> LineClient:
    reader, writer = await asyncio.open_unix_connection(str(directory / name))
    c = LineClient(reader, writer)
    assert await c.line() == "VERSION\t1\t1"
    assert (await c.line()).startswith("SPID\t")
    await c.send("VERSION\t1\t1\n")
    return c


def test_plain_login_cram_md5_over_the_socket() -> None:
    async def scenario() -> None:
        async with running() as directory:
            c = await client(directory)
            await c.send(f"AUTH\t1\tPLAIN\tservice=imap\trip=192.0.2.1\tresp={ALICE_OK}\n")
            assert await c.line() == "OK\t1\tuser=alice\t"
            await c.send("AUTH\t2\tLOGIN\tservice=smtp\n")
            assert await c.line() == f"CONT\t2\t{b64(b'Username:')}"
            await c.send(f"CONT\t2\t{b64(b'bob')}\n")
            assert await c.line() == f"CONT\t2\t{b64(b'Password:')}"
            await c.send(f"CONT\t2\t{b64(b'secret1')}\n")
            assert await c.line() == "OK\t2\tuser=bob"
            await c.send("AUTH\t3\tCRAM-MD5\tservice=imap\n")
            _, _, challenge = (await c.line()).split("\t")
            digest = hmac.new(b"secret1", base64.b64decode(challenge), "md5").hexdigest()
            await c.send(f"CONT\t3\t{b64(f'Bob {digest}'.encode())}\n")
            assert await c.line() == "OK\t3\tuser=bob\toriginal_user=Bob"
            c.close()
    asyncio.run(scenario())


def test_master_and_userdb_sockets() -> None:
    async def scenario() -> None:
        async with running() as directory:
            m = await master(directory)
            await m.send("USER\t1\talice\tservice=imap\n")
            assert await m.line() == ("USER\t1\talice\tuid=1000\tgid=1000\thome=/home/alice\t"
                                      "mail=maildir:~/Maildir\tquota_rule=*:storage=1G")
            await m.send("USER\t2\tnosuch\tservice=imap\nPASS\t3\talice\tservice=imap\nPASS\t4\tnosuch\tservice=imap\n")
            assert [await m.line() for _ in range(3)] == ["NOTFOUND\t2", "PASS\t3\tuser=alice\t", "NOTFOUND\t4"]
            await m.send("LIST\t5\n")
            assert await m.lines_until("DONE") == ["LIST\t5\talice", "LIST\t5\tbob", "DONE\t5\t"]
            await m.send("CACHE-FLUSH\t6\n")
            assert await m.line() == "OK\t6\t0"
            u = await master(directory, "auth-userdb")
            await u.send("USER\t1\tBOB\tservice=lmtp\n")
            assert await u.line() == "USER\t1\tbob\tuid=1001\tgid=1001\thome=/home/bob"
            await u.send("REQUEST\t1\t1\t1\t" + "00" * 16 + "\n")  # not on the userdb socket
            assert await u.at_eof()
            m.close()
    asyncio.run(scenario())


def test_bad_input_disconnects_or_fails_as_dovecot_does() -> None:
    async def scenario() -> None:
        async with running() as directory:
            c = await client(directory)
            await c.send("CONT\t5\tYWJj\n")  # CONT before any AUTH: answered, connection kept
            assert await c.line() == "FAIL\t5\treason=Authentication request timed out"
            await c.send("AUTH\t1\tLOGIN\tservice=imap\n")
            assert await c.line() == f"CONT\t1\t{b64(b'Username:')}"
            await c.send("CONT\t1\t!!!\n")
            assert await c.line() == "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in continued response"
            await c.send("\x00\xffgarbage\n")
            assert await c.at_eof()

            c = await client(directory)
            await c.send("AUTH\t1\tPLAIN\tservice=imap\tx=" + "a" * 20000)  # no LF needed to be too long
            assert await c.at_eof()

            c = await client(directory)
            await c.send("AUTH\t1\tNTLM\tservice=imap\n")
            assert await c.at_eof()

            reader, writer = await asyncio.open_unix_connection(str(directory / "auth-client"))
            await reader.readuntil(b"DONE\n")
            writer.write(b"AUTH\t1\tPLAIN\tservice=imap\n")  # before VERSION
            assert await reader.read() == b""

            m = await master(directory)
            await m.send("USER\t1\talice\tservice=imap\tx=" + "a" * 2000 + "\n")
            assert await m.at_eof()
    asyncio.run(scenario())


def test_failures_are_delayed_without_blocking_other_clients() -> None:
    async def attacker(directory: Path, first_id: int, count: int) -> list[str]:
        c = await client(directory)
        lines = []
        for i in range(first_id, first_id + count):
            user = "alice" if i % 2 else f"nosuch{i}"
            lines.append(f"AUTH\t{i}\tPLAIN\tservice=imap\tresp={plain(user, 'wrong')}\n")
        await c.send("".join(lines))
        answers = [await c.line() for _ in range(count)]
        c.close()
        return answers

    async def scenario() -> None:
        async with running(failure_delay=1.0, backend=MemoryBackend(lookup_delay=0.001)) as directory:
            order: list[str] = []
            attackers = [asyncio.create_task(attacker(directory, n * 100, 100)) for n in range(10)]

            async def watch() -> list[str]:
                answers = await asyncio.gather(*attackers)
                order.append("failures answered")
                return [line for batch in answers for line in batch]

            watcher = asyncio.create_task(watch())
            good = await client(directory)
            await good.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={ALICE_OK}\n")
            assert await good.line() == "OK\t1\tuser=alice\t"
            order.append("success answered")
            failures = await watcher
            assert order == ["success answered", "failures answered"]
            assert len(failures) == 1000
            # The same answer whether the user exists or the password is wrong: only user= differs.
            for line in failures:
                parts = line.split("\t")
                assert parts[0] == "FAIL" and len(parts) == 3 and parts[2].startswith("user=")
    asyncio.run(scenario())


def test_backend_error_is_a_temporary_failure() -> None:
    async def scenario() -> None:
        async with running(backend=MemoryBackend(broken_users=frozenset({"alice"}))) as directory:
            c = await client(directory)
            await c.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={ALICE_OK}\n")
            assert await c.line() == "FAIL\t1\tuser=alice\tcode=temp_fail"
            m = await master(directory)
            await m.send("USER\t1\talice\tservice=imap\n")
            assert await m.line() == "FAIL\t1"
    asyncio.run(scenario())


def test_client_disconnect_with_pending_failures_and_lookups() -> None:
    async def scenario() -> None:
        backend = MemoryBackend(lookup_delay=0.05)
        async with running(failure_delay=5.0, backend=backend) as directory:
            c = await client(directory)
            await c.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={ALICE_BAD}\n"
                         f"AUTH\t2\tPLAIN\tservice=imap\tresp={ALICE_OK}\n")
            c.close()
            # The service keeps serving others.
            d = await client(directory)
            await d.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={BOB_OK}\n")
            assert await d.line() == "OK\t1\tuser=bob"
    asyncio.run(scenario())
