"""The auth service started from a dovecot.conf (passwd-file, SHA512-CRYPT), over its sockets."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import require_real_dovecot  # noqa: E402
from e2e_exchanges import transcript  # noqa: E402
from e2e_support import (  # noqa: E402
    PASSWORD,
    Setup,
    auth_client,
    b64,
    login_exchange,
    master_client,
    plain,
    real_dovecot_running,  # noqa: E402
    write_setup,
)

from pydovecot.auth.__main__ import auth_listeners  # noqa: E402
from pydovecot.config import load  # noqa: E402
from tests.support.auth import serving, short_tmpdir  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"


@asynccontextmanager
async def running(failure_delay: int = 0) -> AsyncIterator[Setup]:
    with short_tmpdir("pde") as directory:
        setup = write_setup(directory, failure_delay=failure_delay)
        async with serving(setup.conf):
            yield setup


def run(scenario: Callable[[Setup], Awaitable[None]], failure_delay: int = 0) -> None:
    async def main() -> None:
        async with running(failure_delay) as setup:
            await scenario(setup)
    asyncio.run(main())


def test_listeners_come_from_service_auth(tmp_path: Path) -> None:
    setup = write_setup(tmp_path)
    listeners = auth_listeners(load(str(setup.conf)))
    assert {(item.role, item.path) for item in listeners} == {
        ("client", f"{setup.base_dir}/auth-client"), ("master", f"{setup.base_dir}/auth-master"),
        ("userdb", f"{setup.base_dir}/auth-userdb")}
    assert {item.mode for item in listeners} == {0o666}
    other = auth_listeners(load(str(setup.conf)), "/elsewhere")
    assert sorted(item.path for item in other) == ["/elsewhere/auth-client", "/elsewhere/auth-master",
                                                   "/elsewhere/auth-userdb"]


def test_sockets_exist_with_configured_mode_and_go_away() -> None:
    seen: dict[str, int] = {}

    async def scenario(setup: Setup) -> None:
        for name in ("auth-client", "auth-master", "auth-userdb"):
            seen[name] = stat.S_IMODE((setup.base_dir / name).stat().st_mode)
        scenario.base = setup.base_dir  # type: ignore[attr-defined]

    run(scenario)
    assert seen == {"auth-client": 0o666, "auth-master": 0o666, "auth-userdb": 0o666}
    assert not (scenario.base / "auth-client").exists()  # type: ignore[attr-defined]


def test_handshake_advertises_configured_mechanisms() -> None:
    async def scenario(setup: Setup) -> None:
        client, greeting = await auth_client(setup.base_dir / "auth-client")
        assert greeting[:3] == ["VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext"]
        assert [line.split("\t")[0] for line in greeting[3:]] == ["SPID", "CUID", "COOKIE", "DONE"]
        await client.close()
    run(scenario)


def test_plain_right_wrong_and_unknown() -> None:
    async def scenario(setup: Setup) -> None:
        client, _ = await auth_client(setup.base_dir / "auth-client")
        await client.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', PASSWORD)}\n")
        assert await client.line() == "OK\t1\tuser=alice"
        await client.send(f"AUTH\t2\tPLAIN\tservice=imap\tresp={plain('alice', 'wrong')}\n")
        assert await client.line() == "FAIL\t2\tuser=alice"
        await client.send(f"AUTH\t3\tPLAIN\tservice=imap\tresp={plain('nobody', PASSWORD)}\n")
        assert await client.line() == "FAIL\t3\tuser=nobody"
        # The username rules apply: the default auth_username_format %Lu lowercases.
        await client.send(f"AUTH\t4\tPLAIN\tservice=imap\tresp={plain('ALICE', PASSWORD)}\n")
        assert await client.line() == "OK\t4\tuser=alice\toriginal_user=ALICE"
        await client.close()
    run(scenario)


def test_login_right_wrong_and_unknown() -> None:
    async def scenario(setup: Setup) -> None:
        client, _ = await auth_client(setup.base_dir / "auth-client")
        username, password = f"CONT\t{{}}\t{b64(b'Username:')}", f"CONT\t{{}}\t{b64(b'Password:')}"
        assert await login_exchange(client, 1, "alice", PASSWORD) == [
            username.format(1), password.format(1), "OK\t1\tuser=alice"]
        assert await login_exchange(client, 2, "alice", "nope") == [
            username.format(2), password.format(2), "FAIL\t2\tuser=alice"]
        assert await login_exchange(client, 3, "ghost", "nope") == [
            username.format(3), password.format(3), "FAIL\t3\tuser=ghost"]
        await client.close()
    run(scenario)


def test_failure_is_delayed_by_auth_failure_delay() -> None:
    async def scenario(setup: Setup) -> None:
        client, _ = await auth_client(setup.base_dir / "auth-client")
        await client.send(f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', 'wrong')}\n")
        await client.send(f"AUTH\t2\tPLAIN\tservice=imap\tresp={plain('alice', PASSWORD)}\n")
        # The success overtakes the failure held back by the one-second delay.
        assert [await client.line(), await client.line()] == ["OK\t2\tuser=alice", "FAIL\t1\tuser=alice"]
        await client.close()
    run(scenario, failure_delay=1)


def test_master_user_pass_list() -> None:
    async def scenario(setup: Setup) -> None:
        client, greeting = await master_client(setup.base_dir / "auth-master")
        assert greeting[0] == "VERSION\t1\t1" and greeting[1].startswith("SPID\t")
        await client.send("USER\t1\talice\tservice=imap\n")
        assert await client.line() == "USER\t1\talice\tuid=1000\tgid=1000\thome=/home/alice"
        await client.send("USER\t2\tbob\tservice=imap\n")
        assert await client.line() == "USER\t2\tbob\tuid=1001\tgid=1001\thome=/home/bob\tmail=maildir:~/Mail"
        await client.send("USER\t3\tghost\tservice=imap\n")
        assert await client.line() == "NOTFOUND\t3"
        await client.send("PASS\t4\talice\tservice=imap\n")
        assert await client.line() == "PASS\t4\tuser=alice"
        await client.send("PASS\t5\tghost\tservice=imap\n")
        assert await client.line() == "NOTFOUND\t5"
        await client.send("LIST\t6\n")
        assert await client.lines_until("DONE") == ["LIST\t6\talice", "LIST\t6\tbob", "DONE\t6\t"]
        await client.close()
    run(scenario)


def test_userdb_socket_answers_user() -> None:
    async def scenario(setup: Setup) -> None:
        client, _ = await master_client(setup.base_dir / "auth-userdb")
        await client.send("USER\t1\tALICE\tservice=lmtp\n")
        assert await client.line() == "USER\t1\talice\tuid=1000\tgid=1000\thome=/home/alice"
        await client.close()
    run(scenario)


def test_same_exchanges_as_recorded_from_real_dovecot() -> None:
    golden = json.loads((GOLDENS / "transcript.json").read_text())

    async def scenario(setup: Setup) -> None:
        assert await transcript(setup.base_dir) == golden
    run(scenario)


def test_same_exchanges_as_live_real_dovecot() -> None:
    require_real_dovecot()
    if os.geteuid() != 0:
        pytest.skip("starting the real dovecot master needs root")
    directory = Path(tempfile.mkdtemp(prefix="pdr", dir="/tmp"))
    try:
        setup = write_setup(directory)
        with real_dovecot_running(setup):
            real = asyncio.run(transcript(setup.base_dir))
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    async def scenario(ours_setup: Setup) -> None:
        assert await transcript(ours_setup.base_dir) == real
    run(scenario)


@pytest.mark.parametrize("argv", [["--help"]])
def test_module_cli_help(argv: list[str]) -> None:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "pydovecot.auth", *argv], capture_output=True, text=True,
                         check=True).stdout
    assert "-c CONFIG" in out and "--base-dir" in out
