"""SASL EXTERNAL over TLS client certificates: a private CA with a server and two client
certificates, a config for the whole server (imap + pop3, plain and implicit-TLS listeners),
and the client exchanges. Shared by the test (our server) and the recorder (real Dovecot)."""

from __future__ import annotations

import asyncio
import datetime
import os
import re
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.conf import inet_listeners, passwd_file_dbs
from tests.support.net import free_port

USER = "alice@example.test"
MAIL_UID = 65534
TIMEOUT = 30.0

CONF = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
auth_failure_delay = 0
auth_mechanisms = plain external
{auth_ssl}
ssl = yes
ssl_cert = <{tmp}/server.pem
ssl_key = <{tmp}/server.key
ssl_ca = <{tmp}/ca.pem
ssl_verify_client_cert = yes
ssl_require_crl = no
mail_location = maildir:~/Maildir
{dbs}{listeners}"""

_VOLATILE = (
    (re.compile(r" \[[^\]\s]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]"), " [HOST:TIME]"),
    (re.compile(r" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\."), "."),  # LOGOUT's timing
)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
           usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates(tmp: Path) -> None:
    """ca.pem; server.pem/.key (CN localhost); client.pem/.key (CN = USER, signed by the CA);
    stranger.pem/.key (CN = USER, self-signed: not valid for the server)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("pydovecot test CA")
    ca = _issue("pydovecot test CA", ca_key, ca_name, ca_key, ca=True)
    (tmp / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for stem, subject, usage in (("server", "localhost", ExtendedKeyUsageOID.SERVER_AUTH),
                                 ("client", USER, ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(subject, key, ca_name, ca_key, usage=usage)
        (tmp / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(tmp / f"{stem}.key", key)


def write_config(tmp: Path, *, require_cert: bool = True, require_crl: bool = False) -> tuple[Path, dict[str, int]]:
    """The certificates, a passwd-file (alice may log in without a password: EXTERNAL verifies an
    empty one) and dovecot.conf. ``require_crl``: Dovecot's default ssl_require_crl = yes, with no
    CRL in ssl_ca (so no client certificate is valid)."""
    make_certificates(tmp)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    tmp.chmod(0o755)
    if os.getuid() == 0:
        os.chown(home, MAIL_UID, MAIL_UID)
    (tmp / "users").write_text(f"{USER}::{MAIL_UID}:{MAIL_UID}::{home}/alice::nopassword\n")
    (tmp / "users").chmod(0o644)
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    auth_ssl = "auth_ssl_username_from_cert = yes\n"
    if require_cert:
        auth_ssl += "auth_ssl_require_client_cert = yes\n"
    conf = tmp / "dovecot.conf"
    text = CONF.format(tmp=tmp, auth_ssl=auth_ssl, dbs=passwd_file_dbs(tmp / "users"),
                      listeners=inet_listeners(**ports))
    conf.write_text(text.replace("ssl_require_crl = no\n", "") if require_crl else text)
    return conf, ports


# name -> write_config's keywords
VARIANTS: dict[str, dict[str, bool]] = {
    "require_cert": {"require_cert": True},
    "optional_cert": {"require_cert": False},
    "crl_required_none_given": {"require_cert": False, "require_crl": True},
}


def client_context(tmp: Path, cert: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(tmp / "ca.pem")
    if cert is not None:
        ctx.load_cert_chain(tmp / f"{cert}.pem", tmp / f"{cert}.key")
    return ctx


def normalize(line: str) -> str:
    for pattern, text in _VOLATILE:
        line = pattern.sub(text, line)
    return line


class _Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.lines: list[str] = []

    async def line(self) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), TIMEOUT)
        if not raw:
            raise ConnectionError("server closed the connection")
        text = normalize(raw.decode().rstrip("\r\n"))
        self.lines.append("S: " + text)
        return text

    def send(self, text: str) -> None:
        self.lines.append("C: " + text)
        self.writer.write(text.encode() + b"\r\n")

    async def until(self, prefix: str) -> None:
        while not (await self.line()).startswith(prefix):
            pass

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (OSError, TimeoutError, ssl.SSLError):
            pass


async def _connect(port: int, ctx: ssl.SSLContext | None) -> _Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    return _Client(reader, writer)


async def imap_session(port: int, ctx: ssl.SSLContext | None, mechanism: str = "EXTERNAL") -> list[str]:
    """Greeting, CAPABILITY, AUTHENTICATE with an empty initial response (SASL-IR), LOGOUT."""
    client = await _connect(port, ctx)
    try:
        await client.line()
        client.send("a CAPABILITY")
        await client.until("a ")
        initial = "=" if mechanism == "EXTERNAL" else "AGFsaWNlQGV4YW1wbGUudGVzdAB4"  # \0alice\0x
        client.send(f"b AUTHENTICATE {mechanism} {initial}")
        await client.until("b ")
        client.send("c LOGOUT")
        await client.until("c ")
    finally:
        await client.close()
    return client.lines


async def imap_starttls_session(port: int, ctx: ssl.SSLContext) -> list[str]:
    """Plain connection, STARTTLS with the client certificate, then as imap_session."""
    client = await _connect(port, None)
    try:
        await client.line()
        client.send("s STARTTLS")
        await client.until("s ")
        await client.writer.start_tls(ctx)
        client.send("a CAPABILITY")
        await client.until("a ")
        client.send("b AUTHENTICATE EXTERNAL =")
        await client.until("b ")
        client.send("c LOGOUT")
        await client.until("c ")
    finally:
        await client.close()
    return client.lines


async def pop3_stls_session(port: int, ctx: ssl.SSLContext) -> list[str]:
    """Plain connection, STLS with the client certificate, AUTH EXTERNAL, QUIT."""
    client = await _connect(port, None)
    try:
        await client.line()
        client.send("STLS")
        await client.line()
        await client.writer.start_tls(ctx)
        client.send("AUTH EXTERNAL =")
        await client.line()
        client.send("QUIT")
        await client.line()
    finally:
        await client.close()
    return client.lines


async def pop3_session(port: int, ctx: ssl.SSLContext | None) -> list[str]:
    """Greeting, CAPA, AUTH EXTERNAL with an empty initial response, QUIT."""
    client = await _connect(port, ctx)
    try:
        await client.line()
        client.send("CAPA")
        await client.until(".")
        client.send("AUTH EXTERNAL =")
        await client.line()
        client.send("QUIT")
        await client.line()
    finally:
        await client.close()
    return client.lines


async def exchanges(tmp: Path, ports: dict[str, int]) -> dict[str, list[str]]:
    """Every scenario, keyed by name."""
    with_cert, without = client_context(tmp, "client"), client_context(tmp, None)
    return {
        "imaps_cert": await imap_session(ports["imaps"], with_cert),
        "imaps_no_cert": await imap_session(ports["imaps"], without),
        "imaps_no_cert_plain": await imap_session(ports["imaps"], without, "PLAIN"),
        "imap_plaintext": await imap_session(ports["imap"], None),
        "pop3s_cert": await pop3_session(ports["pop3s"], with_cert),
        "pop3s_no_cert": await pop3_session(ports["pop3s"], without),
        "imap_starttls_cert": await imap_starttls_session(ports["imap"], with_cert),
        "pop3_stls_cert": await pop3_stls_session(ports["pop3"], with_cert),
    }
