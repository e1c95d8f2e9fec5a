"""checkpassword passdb and userdb over our auth sockets, compared with real Dovecot 2.3.19:
answers, log lines and the environment the program gets (goldens by
checkpassword_record_goldens.py), plus the reply program and the protocol edges."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from checkpassword_support import Setup, auth_log_lines, normalise_log, transcript, write_setup  # noqa: E402
from conftest import require_real_dovecot  # noqa: E402
from e2e_support import real_dovecot_running  # noqa: E402

from pydovecot.auth.checkpassword import OUR_REPLY, CheckpasswordDb, Status, split_reply  # noqa: E402
from pydovecot.auth.fields import AuthRequest  # noqa: E402
from tests.support.auth import collected_log, serving, short_tmpdir  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"
# What Dovecot's master puts in every child's environment, not part of the checkpassword protocol.
_PROCESS_ENV = ("CLIENT_LIMIT", "CONFIG_FILE", "DOVECOT_", "GENERATION", "IDLE_KILL", "LC_CTYPE", "LOG_",
                "PROCESS_", "SERVICE_NAME", "SOCKET", "STATS_", "ORIG_UID", "PATH", "TZ")


@asynccontextmanager
async def running() -> AsyncIterator[tuple[Setup, list[str]]]:
    with short_tmpdir("pdc") as directory:
        setup = write_setup(directory)
        with collected_log(normalise=normalise_log) as lines:
            async with serving(setup.conf):
                yield setup, lines


def protocol_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(_PROCESS_ENV)}


_OURS: list[tuple[dict[str, list[str]], list[str], dict[str, dict[str, object]]]] = []


def ours() -> tuple[dict[str, list[str]], list[str], dict[str, dict[str, object]]]:
    async def main() -> tuple[dict[str, list[str]], list[str], dict[str, dict[str, object]]]:
        async with running() as (setup, log):
            answers = await asyncio.wait_for(transcript(setup.base_dir), 60)
            envs = {path.name: json.loads(path.read_text())
                    for path in sorted((setup.directory / "envs").glob("env-*.json"))}
            return answers, list(log), envs
    if not _OURS:
        _OURS.append(asyncio.run(main()))
    return _OURS[0]


def test_answers_as_recorded_from_real_dovecot() -> None:
    golden = json.loads((GOLDENS / "transcript.json").read_text())
    assert ours()[0] == golden


def test_log_lines_as_recorded_from_real_dovecot() -> None:
    golden = json.loads((GOLDENS / "auth_log.json").read_text())
    assert ours()[1] == golden


def test_program_environment_as_real_dovecot_gives_it() -> None:
    golden = json.loads((GOLDENS / "env.json").read_text())
    envs = ours()[2]
    assert sorted(envs) == sorted(golden)
    for name, item in golden.items():
        mine = envs[name]
        assert protocol_env(mine["env"]) == protocol_env(item["env"]), name  # type: ignore[arg-type]
        assert mine["timestamp"] == item["timestamp"] == ""
        assert len(mine["argv"]) == len(item["argv"]) == 1  # type: ignore[arg-type]


def test_no_user_or_home_of_ours_leaks_into_the_program() -> None:
    for item in ours()[2].values():
        env = item["env"]
        assert "USER" not in env and "HOME" not in env  # type: ignore[operator]


def test_split_reply_keeps_the_trailing_empty_field() -> None:
    assert split_reply("user=jane\tuserdb_home=/h\t") == (("user", "jane"), ("userdb_home", "/h"), ("", ""))
    assert split_reply("a=x\x01ty") == (("a", "x\ty"),)


def test_reply_program_writes_fields_and_exit_code(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    env = {"PATH": os.environ["PATH"], "USER": "jane", "HOME": "/home/jane", "EXTRA": "userdb_uid Missing X",
           "userdb_uid": "42", "X": "y", "AUTHORIZED": "2"}
    import subprocess

    script = f"import os; os.dup2({write_end}, 4); os.execv({str(OUR_REPLY)!r}, [{str(OUR_REPLY)!r}])"
    proc = subprocess.run([sys.executable, "-c", script], env=env, pass_fds=(write_end,), timeout=30)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        output = reader.read().decode()
    assert proc.returncode == 2
    assert output == f"user=jane\tuserdb_home=/home/jane\tuserdb_uid=42\tx=y\tuserdb_gid={os.getgid()}\t"


def _program(tmp_path: Path, body: str) -> str:
    path = tmp_path / "prog.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_long_input_fails_without_running_the_program(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    db = CheckpasswordDb(_program(tmp_path, f"touch {marker}; exit 0"))
    reply = asyncio.run(db.call(AuthRequest(user="jane"), b"x" * 600))
    assert reply.status is Status.FAILURE and not marker.exists()


def test_lf_in_reply_is_an_internal_failure(tmp_path: Path) -> None:
    db = CheckpasswordDb(_program(tmp_path, "printf 'user=a\\nb' >&4; exit 0"))
    assert asyncio.run(db.call(AuthRequest(user="jane"), b"pw")).status is Status.INTERNAL_FAILURE


def test_missing_program_is_an_internal_failure(tmp_path: Path) -> None:
    db = CheckpasswordDb(str(tmp_path / "nope"))
    assert asyncio.run(db.call(AuthRequest(user="jane"), b"pw")).status is Status.INTERNAL_FAILURE


def test_args_are_expanded_and_input_is_on_fd3(tmp_path: Path) -> None:
    out = tmp_path / "input"
    db = CheckpasswordDb(_program(tmp_path, f'cat <&3 > {out}; echo "$1" > {out}.arg; printf "user=$1\\t" >&4')
                         + " %u")
    reply = asyncio.run(db.call(AuthRequest(user="jane"), b"pw"))
    assert out.read_bytes() == b"jane\0pw\0\0"
    assert reply.status is Status.OK and reply.fields[0] == ("user", "jane")


def test_loop_stays_responsive_while_the_program_runs(tmp_path: Path) -> None:
    db = CheckpasswordDb(_program(tmp_path, "sleep 0.3; exit 1"))

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
        ticker = asyncio.ensure_future(tick())
        reply = await db.call(AuthRequest(user="jane"), b"pw")
        ticker.cancel()
        assert reply.status is Status.FAILURE
        return ticks
    assert asyncio.run(main()) > 3


def test_live_against_real_dovecot() -> None:
    require_real_dovecot()
    if os.geteuid() != 0:
        pytest.skip("starting the real dovecot master needs root")
    directory = Path(tempfile.mkdtemp(prefix="pdcr", dir="/tmp"))
    try:
        setup = write_setup(directory)
        with real_dovecot_running(setup):  # type: ignore[arg-type]
            real = asyncio.run(asyncio.wait_for(transcript(setup.base_dir), 120))
        real_log = auth_log_lines((setup.base_dir / "dovecot.log").read_text())
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    answers, log, _ = ours()
    assert answers == real
    assert log == real_log
