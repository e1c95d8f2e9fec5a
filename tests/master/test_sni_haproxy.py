"""Per-name certificates (local_name / local filters, chosen by SNI or the local address) and
the HAProxy PROXY protocol (v1, v2) on the master's inet listeners."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import socket
import ssl
import struct
from pathlib import Path

import pytest

from pydovecot.master.haproxy import V2_SIGNATURE, HaproxyError, parse_header
from tests.master.harness import TIMEOUT, Env, connect, free_port, new_env, running_master, talk

NAMES = ("mail.example.test", "other.example.test", "local2.example.test")


def make_named_cert(directory: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Ports:
    def __init__(self) -> None:
        self.proxied, self.proxied_tls = free_port(), free_port()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Env, Ports]:
    env = new_env(tmp_path)
    ports = Ports()
    certs = {name: make_named_cert(tmp_path, name) for name in NAMES}
    blocks = "".join(f"local_name {name} {{\n  ssl_cert = <{certs[name][0]}\n  ssl_key = <{certs[name][1]}\n}}\n"
                     for name in NAMES[:2])
    cert2, key2 = certs[NAMES[2]]
    blocks += f"local 127.0.0.2 {{\n  ssl_cert = <{cert2}\n  ssl_key = <{key2}\n}}\n"
    env.write_conf(extra=blocks + "haproxy_trusted_networks = 10.0.0.0/8, 127.0.0.0/8\nhaproxy_timeout = 1 sec\n",
                   echo_extra=f"  inet_listener proxied {{\n    port = {ports.proxied}\n    haproxy = yes\n  }}\n"
                              f"  inet_listener proxieds {{\n    port = {ports.proxied_tls}\n    haproxy = yes\n"
                              "    ssl = yes\n  }\n")
    return env, ports


def peer_name(sock: ssl.SSLSocket) -> str:
    cert = sock.getpeercert()
    return dict(item[0] for item in cert["subject"])["commonName"]


def tls_client(cafile: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile))


def handshake(raw: socket.socket, env: Env, name: str) -> ssl.SSLSocket:
    """A verified handshake asking for ``name``: it succeeds only with that name's certificate."""
    cafile = env.cert if name == "localhost" else env.dir / f"{name}.crt"
    return tls_client(cafile).wrap_socket(raw, server_hostname=name)


def v1(remote: str, local: str, rport: int, lport: int) -> bytes:
    family = "TCP6" if ":" in remote else "TCP4"
    return f"PROXY {family} {remote} {local} {rport} {lport}\r\n".encode()


def v2(remote: str, local: str, rport: int, lport: int) -> bytes:
    body = socket.inet_aton(remote) + socket.inet_aton(local) + struct.pack("!HH", rport, lport)
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


# Headers sent by hand to real Dovecot and to us (record_sni_haproxy_goldens.py); None: nothing.
HEADER_CASES: dict[str, bytes | None] = {
    "v1": b"PROXY TCP4 192.0.2.7 198.51.100.1 40001 1143\r\n",
    "v2": V2_SIGNATURE + bytes([0x21, 0x11, 0, 12]) + bytes([192, 0, 2, 8, 198, 51, 100, 2]) + struct.pack("!HH", 40002, 1110),
    "v2_local": V2_SIGNATURE + bytes([0x20, 0x00, 0, 0]),
    "garbage": b"GARBAGE here\r\n",
    "v1_tcp5": b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
    "v1_extra": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 extra\r\n",
    "v1_bad_port": b"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n",
    "v2_version3": V2_SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12),
    "v2_udp": V2_SIGNATURE + bytes([0x21, 0x12, 0, 12]) + bytes(12),
    "v2_unix": V2_SIGNATURE + bytes([0x21, 0x31, 0, 0]),
    "v2_bad_tlv": V2_SIGNATURE + bytes([0x21, 0x11, 0, 14]) + bytes(12) + b"\x01\x00",
    "v2_tlv": V2_SIGNATURE + bytes([0x21, 0x11, 0, 19]) + bytes(12) + b"\x02\x00\x04host",
    "v1_unknown": b"PROXY UNKNOWN\r\n",
    "timeout": None,
}


def observe_header(port: int, key: str) -> str:
    """``served`` when the service greets us after the header (we then QUIT), else ``closed``."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        data = HEADER_CASES[key]
        if data is not None:
            sock.sendall(data)
        try:
            line = sock.makefile("rb").readline()
        except (ConnectionResetError, TimeoutError):
            line = b""
        if line:
            sock.sendall(b"QUIT\r\n")
            with contextlib.suppress(OSError):
                sock.recv(100)
        return "served" if line else "closed"


def observe_sni(port: int, name: str) -> str:
    """The common name of the certificate the server shows when asked for ``name``."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw, \
            ctx.wrap_socket(raw, server_hostname=name) as sock:
        der = sock.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def log_messages(text: str) -> list[str]:
    """``Level: message`` of the haproxy lines, without time stamp and process prefix."""
    out = []
    for line in text.splitlines():
        if "haproxy" in line:
            out.append(line.split(": ", 1)[1])
    return out


def closed_without_reply(sock: socket.socket) -> bool:
    sock.settimeout(TIMEOUT)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("name", ["mail.example.test", "other.example.test", "localhost"])
def test_sni_selects_the_certificate_on_implicit_tls(setup: tuple[Env, Ports], name: str) -> None:
    env, _ = setup
    with running_master(env), connect(env.tls_port) as raw, handshake(raw, env, name) as sock:
        greeting, who = talk(sock, "WHO")
        assert peer_name(sock) == name
    assert greeting == "* echo ready"
    assert " tls=True " in who


def test_unknown_name_gets_the_default_certificate(setup: tuple[Env, Ports]) -> None:
    env, _ = setup
    with running_master(env), connect(env.tls_port) as raw:
        ctx = ssl.create_default_context(cafile=str(env.cert))
        ctx.check_hostname = False
        with ctx.wrap_socket(raw, server_hostname="unknown.example.test") as sock:
            assert peer_name(sock) == "localhost"


@pytest.mark.parametrize("name", ["other.example.test", "localhost"])
def test_sni_selects_the_certificate_after_starttls(setup: tuple[Env, Ports], name: str) -> None:
    env, _ = setup
    with running_master(env), connect(env.port) as raw:
        assert talk(raw, "STARTTLS") == ["* echo ready", "OK begin TLS"]
        with handshake(raw, env, name) as sock:
            assert peer_name(sock) == name
            sock.sendall(b"ping\r\n")
            assert sock.recv(100) == b"ping\r\n"


@pytest.mark.parametrize("header", [v1, v2])
def test_proxy_header_gives_the_connection_its_addresses(setup: tuple[Env, Ports], header: object) -> None:
    env, ports = setup
    with running_master(env), connect(ports.proxied) as sock:
        sock.sendall(header("192.0.2.7", "198.51.100.1", 40001, 1143))  # type: ignore[operator]
        greeting, who = talk(sock, "WHO")
    assert greeting == "* echo ready"
    # the proxied client is neither local nor on TLS: not secured
    assert who.startswith("proxied inet 192.0.2.7 1143 tls=False secured=False")


def test_proxy_v2_local_command_keeps_the_real_addresses(setup: tuple[Env, Ports]) -> None:
    env, ports = setup
    with running_master(env), connect(ports.proxied) as sock:
        sock.sendall(V2_SIGNATURE + bytes([0x20, 0x00, 0, 0]))
        _, who = talk(sock, "WHO")
    assert who.startswith(f"proxied inet 127.0.0.1 {ports.proxied} ")


def test_proxy_header_then_tls_uses_the_proxied_local_address_certificate(setup: tuple[Env, Ports]) -> None:
    env, ports = setup
    with running_master(env):
        for local, name in (("127.0.0.2", "local2.example.test"), ("127.0.0.1", "localhost")):
            with connect(ports.proxied_tls) as raw:
                raw.sendall(v1("192.0.2.9", local, 40002, 993))
                with handshake(raw, env, name) as sock:
                    assert peer_name(sock) == name
                    _, who = talk(sock, "WHO")
            assert who.startswith("proxieds inet 192.0.2.9 993 tls=True")
        # SNI behind the proxy too
        with connect(ports.proxied_tls) as raw:
            raw.sendall(v2("192.0.2.9", "127.0.0.1", 40003, 993))
            with handshake(raw, env, "mail.example.test") as sock:
                assert peer_name(sock) == "mail.example.test"


def test_bad_headers_are_closed_and_logged(setup: tuple[Env, Ports]) -> None:
    env, ports = setup
    with running_master(env):
        for data in (b"GARBAGE here\r\n", b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
                     b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 extra\r\n"):
            with connect(ports.proxied) as sock:
                sock.sendall(data)
                assert closed_without_reply(sock)
        with connect(ports.proxied) as sock:  # nothing at all: haproxy_timeout
            assert closed_without_reply(sock)
        log = env.wait_log("haproxy: Client timed out (rip=127.0.0.1)")
    assert "echo: Error: haproxy: Client disconnected: Failed to read valid HAproxy data (rip=127.0.0.1)" in log
    assert "haproxy(v1): Client disconnected: Unknown proxied protocol (protocol=`TCP5', rip=127.0.0.1)" in log
    assert "Header line has spurius extra field (field=`extra', rip=127.0.0.1)" in log


def test_untrusted_proxy_is_refused(tmp_path: Path) -> None:
    env = new_env(tmp_path)
    port = free_port()
    env.write_conf(extra="haproxy_trusted_networks = 10.0.0.0/8\n",
                   echo_extra=f"  inet_listener proxied {{\n    port = {port}\n    haproxy = yes\n  }}\n")
    golden = json.loads(GOLDEN.read_text())["untrusted"]
    with running_master(env):
        seen = observe_header(port, "v1")
        log = env.wait_log("haproxy: Client not trusted")
    assert {"seen": seen, "log": log_messages(log)} == golden
    assert "echo: Warning: haproxy: Client not trusted (rip=127.0.0.1)" in log


@pytest.mark.parametrize(("data", "message"), [
    (V2_SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12), "Unsupported protocol version (version=03"),
    (V2_SIGNATURE + bytes([0x21, 0x12, 0, 12]) + bytes(12), "haproxy(v2): Client disconnected: Not using TCP"),
    (V2_SIGNATURE + bytes([0x21, 0x11, 0, 4]) + bytes(4), "IPv4 data is incomplete"),
    (V2_SIGNATURE + bytes([0x22, 0x11, 0, 0]), "Invalid command (cmd=02"),
    (V2_SIGNATURE + bytes([0x21, 0x11, 6, 0]) + bytes(1600), "haproxy: Client disconnected: Too long header"),
    (V2_SIGNATURE + bytes([0x21, 0x11, 0, 14]) + bytes(12) + b"\x01\x00", "Invalid TLV: get_tlv(0) failed"),
    (V2_SIGNATURE + bytes([0x20, 0x00, 0, 4]) + b"\x20\x00\x01\x00", "get_ssl_tlv(0) failed: Truncated"),
    (b"PROXY TCP4 1.2.3.4\r\n", "Field for proxied local address is missing"),
    (b"PROXY TCP4 ::1 1.2.3.4 1 2\r\n", "Proxied remote address is invalid (address=`::1'"),
    (b"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n", "Proxied remote port is invalid (port=`x'"),
])
def test_header_errors_use_dovecots_words(data: bytes, message: str) -> None:
    with pytest.raises(HaproxyError) as caught:
        parse_header(data, "127.0.0.1")
    assert message in str(caught.value)


def test_incomplete_headers_wait_for_more() -> None:
    whole = v2("192.0.2.1", "192.0.2.2", 1, 2)
    assert all(parse_header(whole[:n], "x") is None for n in range(1, len(whole)))
    assert parse_header(whole + b"rest", "x") is not None
    line = v1("2001:db8::1", "2001:db8::2", 5, 6)
    assert parse_header(line[:-1], "x") is None
    size, addresses = parse_header(line + b"CAPA\r\n", "x")  # type: ignore[misc]
    assert (size, addresses.remote_ip, addresses.local_port) == (len(line), "2001:db8::1", 6)


GOLDEN = Path(__file__).resolve().parent / "goldens" / "sni_haproxy_real_dovecot.json"


def test_same_certificates_as_real_dovecot(setup: tuple[Env, Ports]) -> None:
    env, _ = setup
    golden = json.loads(GOLDEN.read_text())["sni"]
    with running_master(env):
        ours = {name: observe_sni(env.tls_port, name) for name in golden}
    assert ours == golden


def test_same_header_handling_and_log_lines_as_real_dovecot(setup: tuple[Env, Ports]) -> None:
    env, ports = setup
    golden = json.loads(GOLDEN.read_text())["headers"]
    ours: dict[str, object] = {}
    with running_master(env):
        for key in golden:
            before = len(env.log_text())
            seen = observe_header(ports.proxied, key)
            expected = golden[key]["log"]
            if expected:
                env.wait_log(expected[-1].split(": ", 1)[1])
            ours[key] = {"seen": seen, "log": log_messages(env.log_text()[before:])}
    assert ours == {key: {"seen": value["seen"], "log": value["log"]} for key, value in golden.items()}


def test_proxied_addresses_match_real_dovecots(setup: tuple[Env, Ports]) -> None:
    """Real pop3-login logs ``rip=`` on logout; our echo service tells its ConnInfo."""
    env, ports = setup
    golden = json.loads(GOLDEN.read_text())["headers"]
    served = {key: value["login_log"][0] for key, value in golden.items() if value["seen"] == "served"}
    assert len(served) >= 5
    with running_master(env):
        for key, line in served.items():
            with connect(ports.proxied) as sock:
                sock.sendall(HEADER_CASES[key] or b"")
                _, who = talk(sock, "WHO")
            real_rip = line.split("rip=")[1].split(",")[0]
            assert who.split(" ")[2] == real_rip, key


@pytest.mark.parametrize("name", ["mail.example.test", "localhost"])
def test_protocol_services_starttls_context_follows_sni(tmp_path: Path, name: str) -> None:
    """The context pop3 (STLS) and imap (STARTTLS) build: protocol settings plus SNI."""
    from pydovecot.config import load
    from pydovecot.master.tls import selected_tls_context
    from tests.master.harness import make_cert

    cert, key = make_cert(tmp_path)
    mail_cert, mail_key = make_named_cert(tmp_path, "mail.example.test")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"ssl_cert = <{cert}\nssl_key = <{key}\nprotocol pop3 {{\n}}\n"
                    f"local_name mail.example.test {{\n  ssl_cert = <{mail_cert}\n  ssl_key = <{mail_key}\n}}\n")
    ctx = selected_tls_context(load(str(conf)), "pop3")
    assert ctx is not None

    async def run() -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"+OK Begin TLS negotiation now.\r\n")
            await writer.drain()
            await writer.start_tls(ctx)
            writer.write(b"+OK\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]

        def client() -> str:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
                assert raw.recv(100).startswith(b"+OK Begin")
                cafile = cert if name == "localhost" else mail_cert
                with tls_client(cafile).wrap_socket(raw, server_hostname=name) as sock:
                    return peer_name(sock)

        try:
            return await asyncio.wait_for(asyncio.to_thread(client), TIMEOUT)
        finally:
            server.close()

    assert asyncio.run(run()) == name
