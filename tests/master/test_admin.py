"""The master's anvil socket with `doveadm who/kick/reload/stop/log reopen`, in one process and with
worker processes; process titles (verbose_proctitle) read from /proc/<pid>/cmdline."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import real_dovecot_available, require_real_dovecot
from tests.master.admin_harness import (
    AdminEnv,
    Client,
    cmdline,
    doveadm,
    new_admin_env,
    running,
    wait_until,
)

GOLDENS = Path(__file__).resolve().parents[1] / "doveadm" / "goldens_admin"


def who_rows(env: AdminEnv, *args: str) -> list[list[str]]:
    result = doveadm(env, "who", *args)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()[1:]]


def test_who_lists_sessions_and_kick_ends_them(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path)
    with running(env) as proc:
        assert doveadm(env, "who").stdout == (GOLDENS / "who_empty.txt").read_text()
        path = env.base_dir / "anvil"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        alice1, alice2, bob, anon = Client(env), Client(env), Client(env), Client(env)
        for client, user in ((alice1, "alice"), (alice2, "alice"), (bob, "bob")):
            assert client.send(f"LOGIN {user}") == "OK"
        pid = str(proc.pid)
        assert who_rows(env) == [["alice", "2", "imap", f"({pid})", "(127.0.0.1)"],
                                 ["bob", "1", "imap", f"({pid})", "(127.0.0.1)"]]
        assert who_rows(env, "-1") == [["alice", "imap", pid, "127.0.0.1"]] * 2 + [["bob", "imap", pid, "127.0.0.1"]]
        assert who_rows(env, "B*") == [["bob", "1", "imap", f"({pid})", "(127.0.0.1)"]]
        assert who_rows(env, "10.0.0.0/8") == []

        kicked = doveadm(env, "kick", "bob")
        assert (kicked.returncode, kicked.stdout) == (0, (GOLDENS / "kick_bob.txt").read_text())
        assert bob.closed_by_server()
        assert alice1.send("PID") == pid  # the others go on
        wait_until(lambda: [r[0] for r in who_rows(env)] == ["alice"], "bob gone from who")
        none = doveadm(env, "kick", "bob")
        assert (none.returncode, none.stdout) == (68, (GOLDENS / "kick_none.txt").read_text())

        assert alice2.send("LOGOUT") == "OK"
        wait_until(lambda: who_rows(env) == [["alice", "1", "imap", f"({pid})", "(127.0.0.1)"]], "logout")
        by_ip = doveadm(env, "kick", "127.0.0.1")
        assert by_ip.stdout == "alice kicked connections from the following users:\n\n"
        assert alice1.closed_by_server()
        assert anon.send("PID") == pid  # not logged in: not kicked
        for client in (alice1, alice2, bob, anon):
            client.close()
    assert not (env.base_dir / "anvil").exists()


@pytest.mark.oracle
def test_real_doveadm_who_reads_our_master(tmp_path: Path) -> None:
    require_real_dovecot()
    env = new_admin_env(tmp_path)
    with running(env):
        clients = [Client(env) for _ in range(2)]
        clients[0].send("LOGIN carol@example.com")
        for args in (["who"], ["who", "-1"], ["who", "carol*"]):
            ours = doveadm(env, *args)
            real = doveadm(env, *args, binary="/usr/bin/doveadm")
            assert (ours.stdout, ours.returncode) == (real.stdout, real.returncode)
            assert "carol@example.com" in ours.stdout
        for client in clients:
            client.close()


def test_workers_report_sessions_and_obey_kicks(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path, workers=2, verbose=True)
    with running(env, model="auto") as proc:
        clients = {user: Client(env) for user in ("alice", "bob", "carol")}
        pids = {}
        for user, client in clients.items():
            assert client.send(f"LOGIN {user}") == "OK"
            pids[user] = int(client.send("PID"))
        assert proc.pid not in pids.values()  # served by workers
        expected = sorted([[u, "imap", str(p), "127.0.0.1"] for u, p in pids.items()])
        wait_until(lambda: sorted(who_rows(env, "-1")) == expected, "the workers' reports")

        kicked = doveadm(env, "kick", "bob")
        assert kicked.stdout == "bob kicked connections from the following users:\n\n"
        assert clients["bob"].closed_by_server()
        assert clients["alice"].send("PID") == str(pids["alice"])
        wait_until(lambda: sorted(r[0] for r in who_rows(env, "-1")) == ["alice", "carol"], "bob gone")
        for client in clients.values():
            client.close()
        wait_until(lambda: who_rows(env) == [], "all logged out")


def test_verbose_proctitle(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path, workers=1, verbose=True)
    with running(env, model="auto") as proc:
        assert cmdline(proc.pid) == "dovecot/master"
        client = Client(env)
        worker = int(client.send("PID"))
        assert cmdline(worker) == "dovecot/secho"
        client.send("LOGIN django@nausch.org")
        assert cmdline(worker) == "dovecot/imap [django@nausch.org 127.0.0.1]"
        client.send("STATE IDLE")
        assert cmdline(worker) == "dovecot/imap [django@nausch.org 127.0.0.1 IDLE]"
        second = Client(env)
        second.send("LOGIN other")
        assert cmdline(worker) == "dovecot/imap [2 connections]"
        second.close()
        client.send("LOGOUT")
        wait_until(lambda: cmdline(worker) == "dovecot/secho", "title after logout")
        client.close()


def test_plain_proctitle_keeps_the_master_command_line(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path, workers=1, verbose=False)
    with running(env, model="auto") as proc:
        assert "pydovecot" in cmdline(proc.pid) and str(env.conf) in cmdline(proc.pid)
        client = Client(env)
        worker = int(client.send("PID"))
        client.send("LOGIN alice")
        assert cmdline(worker) == "dovecot/imap"
        client.close()


def test_reload_log_reopen_and_stop(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path)
    with running(env) as proc:
        assert doveadm(env, "reload").returncode == 0
        env.wait_log("SIGHUP received - reloading configuration")
        rotated = env.log.with_suffix(".1")
        env.log.rename(rotated)
        result = doveadm(env, "log", "reopen")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        client = Client(env)
        wait_until(lambda: client.send("LOG after reopen") == "OK" and "after reopen" in env.log_text(),
                   "logging to the reopened file")
        assert "after reopen" not in rotated.read_text()
        client.close()
        stop = doveadm(env, "stop")
        assert (stop.returncode, stop.stdout, stop.stderr) == (0, "", "")
        assert proc.wait(timeout=20) == 0
        assert not env.pid_file.exists()
    again = doveadm(env, "stop")
    assert again.returncode == 75
    assert again.stderr == (GOLDENS / "not_running.stderr").read_text().replace("BASE_DIR", str(env.base_dir))


@pytest.mark.skipif(not real_dovecot_available(), reason="the real doveadm is not installed")
def test_real_doveadm_log_reopen_and_reload_reach_our_master(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path)
    with running(env):
        assert doveadm(env, "reload", binary="/usr/bin/doveadm").returncode == 0
        env.wait_log("SIGHUP received")
        assert doveadm(env, "log", "reopen", binary="/usr/bin/doveadm").returncode == 0
        assert "Killed with signal" not in env.log_text()


def test_log_reopen_reaches_the_workers(tmp_path: Path) -> None:
    env = new_admin_env(tmp_path, workers=1)
    with running(env, model="auto"):
        client = Client(env)
        assert int(client.send("PID")) > 0
        rotated = env.log.with_suffix(".1")
        env.log.rename(rotated)
        assert doveadm(env, "log", "reopen").returncode == 0
        wait_until(lambda: client.send("LOG from the worker") == "OK" and "from the worker" in env.log_text(),
                   "the worker logging to the reopened file")
        assert "from the worker" not in rotated.read_text()
        client.close()
