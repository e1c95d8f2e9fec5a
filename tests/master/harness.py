"""Running our master in a subprocess on a temporary configuration (high ports, own base_dir)."""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support import server as our_server
from tests.support.net import free_port

ROOT = our_server.ROOT
TIMEOUT = 20.0  # upper bound for anything to happen; never asserted as a duration


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, made with cryptography."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Env:
    dir: Path
    conf: Path
    base_dir: Path
    log: Path
    port: int
    tls_port: int
    cert: Path
    key: Path
    startup_log: Path | None = None  # where "starting up" appears when not in log (info_log_path)

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "master.pid"

    def write_conf(self, extra: str = "", echo_extra: str = "", greeting: str = "echo ready") -> None:
        self.conf.write_text(f"""\
protocols = imap
base_dir = {self.base_dir}
listen = 127.0.0.1
log_path = {self.log}
login_greeting = {greeting}
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
shutdown_clients = yes
{extra}
service echo {{
  executable = echo
  inet_listener echo {{
    port = {self.port}
  }}
  inet_listener echos {{
    port = {self.tls_port}
    ssl = yes
  }}
  unix_listener echo-sock {{
    mode = 0660
  }}
{echo_extra}
}}
""")

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_log(self, needle: str, count: int = 1) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_text()
            if text.count(needle) >= count:
                return text
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not logged; log:\n{self.log_text()}")


def new_env(tmp: Path) -> Env:
    cert, key = make_cert(tmp)
    env = Env(tmp, tmp / "dovecot.conf", tmp / "run", tmp / "dovecot.log", free_port(), free_port(), cert, key)
    env.write_conf()
    return env


def dovecot(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pydovecot", "-c", str(env.conf), *args], capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=ROOT, env=child_env())


def child_env(model: str | None = None) -> dict[str, str]:
    """``model``: a PYDOVECOT_PROCESS_MODEL to name (None: the environment's, else the default,
    Dovecot's privilege separation as root)."""
    # Only auth and the echo service: the protocol servers would bind the default ports.
    env = {**os.environ, "PYDOVECOT_ONLY_SERVICE_MODULES": "pydovecot.master.auth_service,tests.master.echo_service",
           "PYTHONPATH": str(ROOT)}
    if model is not None:
        env["PYDOVECOT_PROCESS_MODEL"] = model
    return env


@contextlib.contextmanager
def running_master(env: Env, model: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """``dovecot -F`` in the background until the block ends."""
    proc = our_server.start(env.conf, env=child_env(model))
    try:
        wait_started(env, proc)
        yield proc
    finally:
        our_server.stop(proc, TIMEOUT)


def wait_started(env: Env, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"master exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        startup = env.startup_log or env.log
        if startup.exists() and "starting up" in startup.read_text() and env.pid_file.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"master did not start; log:\n{env.log_text()}")


def talk(sock: socket.socket, *lines: str) -> list[str]:
    """Send lines, return the greeting and one reply per line."""
    f = sock.makefile("rwb", buffering=0)
    out = [f.readline().decode().strip()]
    for line in lines:
        f.write(f"{line}\r\n".encode())
        out.append(f.readline().decode().strip())
    return out


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
