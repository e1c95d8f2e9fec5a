"""A passwd-file configuration in a temp dir and line clients for the auth sockets."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydovecot.auth import schemes
from tests.support import real_dovecot
from tests.support.conf import auth_sockets

PASSWORD = "Secret-1"
CONF = """protocols =
ssl = no
base_dir = {base}
auth_mechanisms = plain login
auth_failure_delay = {delay}
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
"""


@dataclass(frozen=True)
class Setup:
    directory: Path
    conf: Path
    base_dir: Path


def write_setup(directory: Path, *, failure_delay: int = 0) -> Setup:
    """alice (SHA512-CRYPT, uid 1000) and bob (uid 1001, an extra userdb field)."""
    alice = schemes.generate("SHA512-CRYPT", PASSWORD.encode())
    bob = schemes.generate("SHA512-CRYPT", b"other-pass")
    (directory / "users").write_text(
        f"alice:{alice}:1000:1000::/home/alice::\n"
        f"bob:{bob}:1001:1001::/home/bob::userdb_mail=maildir:~/Mail\n")
    return write_conf(directory, CONF, delay=f"{failure_delay} secs")


def write_conf(directory: Path, template: str, *,
               sockets: tuple[str, ...] = ("auth-client", "auth-master", "auth-userdb"), **values: str) -> Setup:
    """``directory``/dovecot.conf: ``template`` formatted with ``base`` (the base_dir, made here),
    ``dir`` and ``values``, then a ``service auth`` opening ``sockets`` to every user."""
    base = directory / "run"
    base.mkdir(exist_ok=True)
    conf = directory / "dovecot.conf"
    conf.write_text(template.format(base=base, dir=directory, **values) + auth_sockets(*sockets))
    return Setup(directory, conf, base)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain(user: str, password: str) -> str:
    return b64(b"\0" + user.encode() + b"\0" + password.encode())


class LineClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, path: Path) -> LineClient:
        reader, writer = await asyncio.open_unix_connection(str(path))
        return cls(reader, writer)

    async def send(self, text: str) -> None:
        self.writer.write(text.encode())
        await self.writer.drain()

    async def line(self) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), 30)
        return raw.decode().rstrip("\n")

    async def lines_until(self, prefix: str) -> list[str]:
        lines = [await self.line()]
        while not lines[-1].startswith(prefix):
            lines.append(await self.line())
        return lines

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


async def auth_client(path: Path, pid: int = 4242) -> tuple[LineClient, list[str]]:
    """Connected and handshaken; also the server's greeting lines."""
    client = await LineClient.connect(path)
    greeting = await client.lines_until("DONE")
    await client.send(f"VERSION\t1\t2\nCPID\t{pid}\n")
    return client, greeting


async def master_client(path: Path) -> tuple[LineClient, list[str]]:
    client = await LineClient.connect(path)
    greeting = [await client.line(), await client.line()]
    await client.send("VERSION\t1\t1\n")
    return client, greeting


async def login_exchange(client: LineClient, rid: int, user: str, password: str) -> list[str]:
    """AUTH with LOGIN: the server's lines, the two CONT challenges included."""
    await client.send(f"AUTH\t{rid}\tLOGIN\tservice=imap\trip=127.0.0.1\n")
    lines = [await client.line()]
    await client.send(f"CONT\t{rid}\t{b64(user.encode())}\n")
    lines.append(await client.line())
    await client.send(f"CONT\t{rid}\t{b64(password.encode())}\n")
    lines.append(await client.line())
    return lines




def real_config(setup: Setup) -> Path:
    """The setup's config for real Dovecot: its state and log kept under the private base_dir.
    The directory must be readable by the unprivileged auth process."""
    directory = setup.directory
    directory.chmod(0o755)
    (directory / "users").chmod(0o644)
    (setup.base_dir / "state").mkdir(exist_ok=True)
    conf = directory / "real.conf"
    conf.write_text(setup.conf.read_text().replace(
        "protocols =\n", f"protocols =\nstate_dir = {setup.base_dir}/state\nlog_path = {setup.base_dir}/dovecot.log\n"))
    return conf


@contextlib.contextmanager
def real_dovecot_running(setup: Setup) -> Iterator[Path]:
    """Real Dovecot (no protocols, so no network listeners) on the setup's private base_dir."""
    with real_dovecot.running(
            real_config(setup), pid_file=setup.base_dir / "master.pid",
            ready=lambda: (setup.base_dir / "auth-client").exists() and (setup.base_dir / "auth-master").exists(),
    ) as conf:
        yield conf
