"""The master in a subprocess: listeners (inet, unix, TLS, fifo), pid file, stop, reload, logging."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pydovecot.login.session_id import decode_session_id
from tests.master.harness import (
    ROOT,
    TIMEOUT,
    Env,
    connect,
    dovecot,
    free_port,
    new_env,
    running_master,
    talk,
)

LINE = re.compile(r"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d (?P<prefix>[a-z0-9-]+): (?P<level>Info|Warning|Error|Fatal): ")


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return new_env(tmp_path)


def client_tls(env: Env) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(env.cert))
    return ctx


def test_inet_listener_serves_the_registered_service(env: Env) -> None:
    with running_master(env), connect(env.port) as sock:
        greeting, echo, who = talk(sock, "hello", "WHO")
        local_port = sock.getsockname()[1]
    assert (greeting, echo) == ("* echo ready", "hello")
    listener, kind, rip, lport, tls, secured, session = who.split(" ")
    assert (listener, kind, rip, lport, tls, secured) == ("echo", "inet", "127.0.0.1", str(env.port),
                                                          "tls=False", "secured=True")
    _, port, ip = decode_session_id(session.removeprefix("session="))
    assert (port, ip) == (local_port, "127.0.0.1")


def test_unix_listener_with_its_mode(env: Env) -> None:
    with running_master(env):
        path = env.base_dir / "echo-sock"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect(str(path))
            _, who = talk(sock, "WHO")
    assert who.startswith("echo-sock unix None None tls=False secured=True session=")


def test_implicit_tls_listener(env: Env) -> None:
    with running_master(env), connect(env.tls_port) as raw:
        with client_tls(env).wrap_socket(raw, server_hostname="localhost") as sock:
            greeting, who = talk(sock, "WHO")
            assert sock.version() in ("TLSv1.2", "TLSv1.3")
    assert greeting == "* echo ready"
    assert who.startswith(f"echos inet 127.0.0.1 {env.tls_port} tls=True secured=True")


def test_starttls_on_a_plain_listener(env: Env) -> None:
    async def session() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", env.port)
        await reader.readline()
        writer.write(b"STARTTLS\r\n")
        assert await reader.readline() == b"OK begin TLS\r\n"
        await writer.start_tls(client_tls(env), server_hostname="localhost")
        writer.write(b"over tls\r\n")
        line = await reader.readline()
        assert writer.get_extra_info("ssl_object") is not None
        writer.close()
        return line.decode().strip()

    with running_master(env):
        assert asyncio.run(asyncio.wait_for(session(), TIMEOUT)) == "over tls"


def test_pid_file_second_instance_and_stop(env: Env) -> None:
    with running_master(env) as proc:
        assert env.pid_file.read_text() == f"{proc.pid}\n"
        second = dovecot(env, "-F")
        assert second.returncode == 89
        assert second.stderr == (f"Fatal: Dovecot is already running with PID {proc.pid} "
                                 f"(read from {env.pid_file})\n")
        stopped = dovecot(env, "stop")
        assert stopped.returncode == 0
        proc.wait(timeout=TIMEOUT)
        assert proc.returncode == 0
    assert not env.pid_file.exists() and not (env.base_dir / "echo-sock").exists()
    log = env.log_text()
    assert f"master: Fatal: Dovecot is already running with PID {proc.pid}" in log
    assert re.search(r"master: Warning: Killed with signal 15 \(by pid=\d+ uid=\d+ code=kill\)\n", log)
    # the listener is really gone
    with pytest.raises(OSError):
        connect(env.port).close()


def test_stop_and_reload_when_not_running(env: Env) -> None:
    for command in ("stop", "reload"):
        result = dovecot(env, command)
        assert (result.returncode, result.stderr) == (75, f"Fatal: Dovecot is not running (read from "
                                                          f"{env.pid_file})\n")


def test_sigint_stops_cleanly(env: Env) -> None:
    with running_master(env) as proc:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=TIMEOUT)
    assert proc.returncode == 0
    assert "master: Warning: Killed with signal 2 (by pid=" in env.log_text()
    assert not env.pid_file.exists()


def test_reload_keeps_unchanged_listeners_and_applies_settings(env: Env) -> None:
    new_port = free_port()
    with running_master(env), connect(env.port) as old_client:
        assert talk(old_client, "before")[1] == "before"
        env.write_conf(greeting="reloaded",
                       echo_extra=f"  inet_listener extra {{\n    port = {new_port}\n  }}\n")
        assert dovecot(env, "reload").returncode == 0
        env.wait_log("master: Warning: SIGHUP received - reloading configuration")
        deadline = time.monotonic() + TIMEOUT
        while True:  # the new listener appears once the reload is done
            try:
                with connect(new_port) as sock:
                    greeting, who = talk(sock, "WHO")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert greeting == "* reloaded" and who.startswith("extra inet")
        # an existing client keeps its session on the listener that did not change
        assert talk_more(old_client, "still here") == "still here"
        with connect(env.port) as sock:
            assert talk(sock, "x")[0] == "* reloaded"


def talk_more(sock: socket.socket, line: str) -> str:
    sock.sendall(f"{line}\r\n".encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1024)
        assert chunk
        data += chunk
    return data.decode().strip()


def test_reload_closes_removed_listeners(env: Env) -> None:
    with running_master(env):
        env.conf.write_text(env.conf.read_text().replace(f"port = {env.tls_port}", "port = 0"))
        dovecot(env, "reload")
        env.wait_log("SIGHUP received")
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                connect(env.tls_port).close()
            except OSError:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with connect(env.port) as sock:
            assert talk(sock, "ok")[1] == "ok"


def test_log_lines_have_dovecot_format(env: Env) -> None:
    with running_master(env), connect(env.port) as sock:
        talk(sock, "LOG hello from echo")
        env.wait_log("hello from echo")
    lines = env.log_text().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert re.search(r" master: Info: Dovecot v2\.3\.19 \(pydovecot [^)]*\) starting up for imap", lines[0])
    assert any(line.endswith(" echo: Info: hello from echo") for line in lines)


def test_info_log_path_takes_info_lines(env: Env) -> None:
    info = env.dir / "info.log"
    env.write_conf(extra=f"info_log_path = {info}")
    env.startup_log = info
    with running_master(env):
        pass
    assert "master: Info: Dovecot v2.3.19" in info.read_text()
    assert "starting up" not in env.log_text() and "Killed with signal 15" in env.log_text()


def test_connection_limit(env: Env) -> None:
    env.write_conf(echo_extra="  client_limit = 1\n  process_limit = 1\n")
    with running_master(env), connect(env.port) as first:
        assert talk(first, "one")[1] == "one"
        with connect(env.port) as second:
            assert second.recv(100) == b""  # dropped at once
        env.wait_log("master: Warning: service(echo): client_limit (1) reached, client connections are "
                     "being dropped")


def test_fifo_listener(env: Env) -> None:
    env.write_conf(echo_extra="  fifo_listener echo-fifo {\n    mode = 0600\n  }\n")
    with running_master(env):
        fifo = env.base_dir / "echo-fifo"
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        with open(fifo, "w") as f:
            f.write("note 1\n")
        env.wait_log("echo: Info: fifo: note 1")
    assert not fifo.exists()


def test_protocols_select_services(env: Env) -> None:
    env.write_conf(echo_extra="  protocol = pop3\n")
    with running_master(env):
        with pytest.raises(OSError):
            connect(env.port).close()


def test_port_in_use_is_fatal(env: Env) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", env.port))
        blocker.listen(1)
        result = dovecot(env, "-F")
    assert result.returncode == 89
    # real dovecot 2.3.19: the same two lines (recorded in goldens/cli_real_dovecot.txt)
    assert result.stderr == (f"Error: service(echo): listen(127.0.0.1, {env.port}) failed: "
                             "Address already in use\nFatal: Failed to start listeners\n")
    assert "master: Error: service(echo): listen(" in env.log_text()
    assert not env.pid_file.exists()


def test_daemon_mode_and_stop(env: Env) -> None:
    started = dovecot(env)
    assert started.returncode == 0, started.stderr
    try:
        pid = int(env.pid_file.read_text())
        assert pid != os.getpid()
        with connect(env.port) as sock:
            assert talk(sock, "daemon")[1] == "daemon"
    finally:
        stopped = dovecot(env, "stop")
    assert stopped.returncode == 0
    assert not env.pid_file.exists()
    assert not alive(pid)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that this container's init may never be is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_missing_config_like_dovecot(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    for args, code in ((["-F"], 89), ([], 89), (["stop"], 75), (["reload"], 75)):
        result = subprocess.run([sys.executable, "-m", "pydovecot", "-c", str(missing), *args],
                                capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
        assert (result.returncode, result.stderr) == (
            code, f"Fatal: Error reading configuration: stat({missing}) failed: No such file or directory\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_root_binds_then_drops_to_mail_uid(env: Env) -> None:
    """The one-process model (asked for by name; as root the default separates privileges):
    the whole master becomes mail_uid once it has bound."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    # base_dir must be reachable by the unprivileged uid (pytest's tmp_path is root-only).
    env.base_dir = Path(tempfile.mkdtemp(prefix="pydovecot-master-"))
    env.base_dir.chmod(0o755)
    env.write_conf(extra="mail_uid = nobody")
    with running_master(env, model="single") as proc:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1:] == [str(nobody.pw_uid)] * 4
        with connect(env.port) as sock:
            assert talk(sock, "as nobody")[1] == "as nobody"
        assert dovecot(env, "stop").returncode == 0
        proc.wait(timeout=TIMEOUT)
    assert not env.pid_file.exists() and not (env.base_dir / "echo-sock").exists()
    env.base_dir.rmdir()


def test_auth_service_serves_auth_client_and_master(env: Env, open_tmp_path: Path) -> None:
    users = open_tmp_path / "users"  # as root, auth runs as default_internal_user: it must read this
    users.write_text("alice@example.test:{PLAIN}secret::::::\n")
    env.write_conf(extra=f"passdb {{\n  driver = passwd-file\n  args = {users}\n}}\n"
                         f"userdb {{\n  driver = static\n  args = uid=vmail gid=vmail home=/tmp/%u\n}}\n")
    with running_master(env):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect(str(env.base_dir / "auth-client"))
            sock.sendall(b"VERSION\t1\t2\nCPID\t42\n")
            data = b""
            while b"DONE\n" not in data:
                chunk = sock.recv(4096)
                assert chunk
                data += chunk
            assert data.startswith(b"VERSION\t1\t2\n") and b"MECH\tPLAIN" in data
            sock.sendall(b"AUTH\t1\tPLAIN\tservice=imap\tresp=" + __import__("base64").b64encode(
                b"\0alice@example.test\0secret") + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(4096)
                assert chunk
                reply += chunk
        assert reply.startswith(b"OK\t1\tuser=alice@example.test")
        assert (env.base_dir / "auth-master").exists() and not (env.base_dir / "token-login").exists()


def test_shutdown_clients_no_lets_sessions_finish(env: Env) -> None:
    env.write_conf(extra="shutdown_clients = no")
    with running_master(env) as proc, connect(env.port) as sock:
        assert talk(sock, "before stop")[1] == "before stop"
        proc.send_signal(signal.SIGTERM)
        env.wait_log("Killed with signal 15")
        deadline = time.monotonic() + TIMEOUT
        while env.pid_file.exists():  # listeners and pid file go at once...
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert talk_more(sock, "after stop") == "after stop"  # ...the session stays
        assert proc.poll() is None
        sock.sendall(b"QUIT\r\n")
        proc.wait(timeout=TIMEOUT)
    assert proc.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving sockets away needs root")
def test_unix_listener_owner(env: Env) -> None:
    import pwd

    env.write_conf(echo_extra="  unix_listener owned {\n    mode = 0600\n    user = nobody\n  }\n")
    with running_master(env):
        assert os.stat(env.base_dir / "owned").st_uid == pwd.getpwnam("nobody").pw_uid


def test_a_service_that_fails_to_start_does_not_stop_the_others(env: Env) -> None:
    port = free_port()
    env.write_conf(extra=f"service broken {{\n  executable = broken\n  inet_listener b {{\n    port = {port}\n"
                         "  }\n}\n")
    with running_master(env):
        env.wait_log("broken: Fatal: No passdbs specified in configuration file. At least one is needed")
        with connect(port) as sock:
            assert sock.recv(10) == b""
        with connect(env.port) as sock:
            assert talk(sock, "fine")[1] == "fine"


def test_reload_reopens_the_log_at_its_new_path(env: Env) -> None:
    with running_master(env), connect(env.port) as sock:
        moved = env.dir / "moved.log"
        env.write_conf(extra=f"log_path = {moved}")  # extra comes after the first log_path
        assert dovecot(env, "reload").returncode == 0
        env.wait_log("SIGHUP received")
        deadline = time.monotonic() + TIMEOUT
        while True:
            talk_more(sock, "LOG where am I")
            if moved.exists() and "echo: Info: where am I" in moved.read_text():
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
