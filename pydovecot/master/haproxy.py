"""HAProxy PROXY protocol v1 and v2 on ``inet_listener { haproxy = yes }``.

The proxy sends one header before the client's bytes (before TLS too); it names the client's
and our addresses as the proxy saw them.  As in Dovecot (master-service-haproxy.c), only
``haproxy_trusted_networks`` may send it, the header must come within ``haproxy_timeout``, and
a bad header closes the connection with Dovecot's log line.

The parser is sans-I/O (``parse_header``); ``read_header`` peeks at a raw socket and consumes
exactly the header, so whatever follows (a TLS ClientHello) stays in the socket for asyncio.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pydovecot.login.connection import ConnectionInfo

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX_HEADER = 108  # the longest v1 line the specification allows
V2_MAX_HEADER = 1500  # Dovecot's limit for a v2 header with its TLVs
_POLL = 0.02  # seconds between peeks while a header is incomplete
PP2_TYPE_AUTHORITY = 0x02
PP2_TYPE_SSL = 0x20
PP2_SUBTYPE_SSL_CN = 0x22
PP2_CLIENT_SSL = 0x01


class HaproxyError(Exception):
    """A header Dovecot refuses; the message is its log text, ``level`` its log level
    ("" when Dovecot closes the connection without logging)."""

    def __init__(self, message: str, level: str = "error") -> None:
        super().__init__(message)
        self.level = level


@dataclass(frozen=True)
class ProxiedAddresses:
    """The addresses from the header; None for LOCAL / UNKNOWN (keep the connection's own)."""

    remote_ip: str | None = None
    remote_port: int | None = None
    local_ip: str | None = None
    local_port: int | None = None
    error: str = ""  # logged as an error, but the connection is served (unsupported family)
    # v2 TLVs, the ones Dovecot 2.3 reads (master-service-haproxy.c): PP2_TYPE_SSL's
    # PP2_CLIENT_SSL flag (the client spoke TLS to the proxy: the login treats it as secured),
    # its PP2_SUBTYPE_SSL_CN (the client certificate's CN) and PP2_TYPE_AUTHORITY (the name the
    # client asked for: Dovecot's local_name)
    ssl: bool = False
    cert_common_name: str = ""
    hostname: str = ""


NEED_MORE = None


def parse_header(data: bytes, rip: str) -> tuple[int, ProxiedAddresses] | None:
    """(header length, addresses) for a complete header at the start of ``data``; None when
    ``data`` may still become one. Raises HaproxyError for anything else."""
    if data.startswith(b"PROXY"[: len(data)]) and len(data) < 8:
        return NEED_MORE
    if data.startswith(b"PROXY"):
        return _parse_v1(data, rip)
    if data.startswith(V2_SIGNATURE[: len(data)]) and len(data) < 16:
        return NEED_MORE
    if data.startswith(V2_SIGNATURE):
        return _parse_v2(data, rip)
    raise HaproxyError(f"haproxy: Client disconnected: Failed to read valid HAproxy data (rip={rip})")


def _parse_v2(data: bytes, rip: str) -> tuple[int, ProxiedAddresses] | None:
    ver_cmd, fam, length = data[12], data[13], struct.unpack("!H", data[14:16])[0]
    size = 16 + length
    if size > V2_MAX_HEADER:
        raise HaproxyError(f"haproxy: Client disconnected: Too long header (rip={rip})")
    if len(data) < size:
        return NEED_MORE
    if ver_cmd & 0xF0 != 0x20:
        raise HaproxyError("haproxy: Client disconnected: Unsupported protocol version "
                           f"(version={(ver_cmd & 0xF0) >> 4:02x}, rip={rip})")
    cmd = ver_cmd & 0x0F
    addresses, start = ProxiedAddresses(), 16  # LOCAL: the proxy's own (health check) connection
    if cmd == 0x01:
        addresses, start = _v2_addresses(fam, data[16:size], rip)
    elif cmd != 0x00:
        _v2_error(f"Invalid command (cmd={cmd:02x}, rip={rip})")
    error = _tlv_error(data[start:size])
    if error:
        _v2_error(f"Invalid TLV: {error} (cmd={cmd:02x}, rip={rip})")
    return size, dataclasses.replace(addresses, **_tlv_fields(data[start:size]))


def _tlvs(data: bytes) -> list[tuple[int, bytes]]:
    """(type, value) of each TLV in ``data`` (already checked by ``_tlv_error``)."""
    out, i = [], 0
    while i + 3 <= len(data):
        length = int.from_bytes(data[i + 1:i + 3], "big")
        out.append((data[i], data[i + 3:i + 3 + length]))
        i += 3 + length
    return out


def _text(value: bytes) -> str:
    """Dovecot copies these with p_strndup: up to the first NUL."""
    return value.split(b"\0", 1)[0].decode("utf-8", "replace")


def _tlv_fields(data: bytes) -> dict[str, object]:
    fields: dict[str, object] = {}
    for kind, value in _tlvs(data):
        if kind == PP2_TYPE_AUTHORITY:
            fields["hostname"] = _text(value)
        elif kind == PP2_TYPE_SSL:
            fields["ssl"] = bool(value[0] & PP2_CLIENT_SSL)
            for sub, sub_value in _tlvs(value[5:]):
                if sub == PP2_SUBTYPE_SSL_CN:
                    fields["cert_common_name"] = _text(sub_value)
    return fields


def _v2_addresses(fam: int, body: bytes, rip: str) -> tuple[ProxiedAddresses, int]:
    """PROXY's addresses, and where the TLVs after them start."""
    if fam & 0x0F != 0x01:
        _v2_error(f"Not using TCP (type={fam & 0x0F:02x}, rip={rip})")
    family = (fam & 0xF0) >> 4
    if family == 0x01:
        if len(body) < 12:
            _v2_error(f"IPv4 data is incomplete (rip={rip})")
        src, dst, sport, dport = struct.unpack("!4s4sHH", body[:12])
        return ProxiedAddresses(str(ipaddress.IPv4Address(src)), sport,
                                str(ipaddress.IPv4Address(dst)), dport), 16 + 12
    if family == 0x02:
        if len(body) < 36:
            _v2_error(f"IPv6 data is incomplete (rip={rip})")
        src, dst, sport, dport = struct.unpack("!16s16sHH", body[:36])
        return ProxiedAddresses(str(ipaddress.IPv6Address(src)), sport,
                                str(ipaddress.IPv6Address(dst)), dport), 16 + 36
    if family in (0x00, 0x03):
        # Dovecot logs these (without disconnecting) and keeps the connection's addresses
        return ProxiedAddresses(error=f"haproxy(v2): Unsupported address family (family={family:02x}, "
                                      f"rip={rip})"), 16
    _v2_error(f"Unknown address family (family={family:02x}, rip={rip})")
    raise AssertionError  # not reached


def _tlv_error(data: bytes, ssl_sub: bool = False) -> str:
    """Dovecot checks the TLVs' lengths (and those inside PP2_TYPE_SSL); "" when they fit."""
    i = 0
    while i < len(data):
        if len(data) - i < 3 or 3 + int.from_bytes(data[i + 1:i + 3], "big") > len(data) - i:
            return f"get_tlv({i}) failed: Truncated data"
        kind, length = data[i], int.from_bytes(data[i + 1:i + 3], "big")
        if kind == PP2_TYPE_SSL and not ssl_sub:  # client flags, verify, sub-TLVs
            value = data[i + 3:i + 3 + length]
            if len(value) < 5:
                return f"get_ssl_tlv({i}) failed: Truncated data"
            error = _tlv_error(value[5:], ssl_sub=True)
            if error:
                return error
        i += 3 + length
    return ""


def _v2_error(text: str) -> None:
    raise HaproxyError(f"haproxy(v2): Client disconnected: {text}")


def _v1_error(text: str) -> None:
    raise HaproxyError(f"haproxy(v1): Client disconnected: {text}")


def _sanitize(value: str) -> str:
    return value if len(value) <= 64 else value[:61] + "..."


def _v1_address(value: str, family: int, what: str, rip: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is None or address.version != family:
        _v1_error(f"Proxied {what} address is invalid (address=`{_sanitize(value)}', rip={rip})")
    return str(address)


def _v1_port(value: str, what: str, rip: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        _v1_error(f"Proxied {what} port is invalid (port=`{_sanitize(value)}', rip={rip})")
    return int(value)


def _parse_v1(data: bytes, rip: str) -> tuple[int, ProxiedAddresses] | None:
    end = data.find(b"\r\n", 0, V1_MAX_HEADER)
    if end < 0:
        if len(data) < V1_MAX_HEADER:
            return NEED_MORE
        raise HaproxyError("", level="")  # Dovecot closes these without a word
    fields = data[:end].decode("latin-1").split(" ")[1:]
    if not fields:
        _v1_error(f"Field for proxied protocol is missing (rip={rip})")
    family = {"TCP4": 4, "TCP6": 6, "UNKNOWN": 0}.get(fields[0], -1)
    if family < 0:
        _v1_error(f"Unknown proxied protocol (protocol=`{_sanitize(fields[0])}', rip={rip})")
    if family == 0:
        return end + 2, ProxiedAddresses()
    names = ("remote address", "local address", "local port", "local port")
    for index, name in enumerate(names, 1):
        if len(fields) <= index:  # Dovecot names the remote port "local port" here too
            _v1_error(f"Field for proxied {name} is missing (rip={rip})")
    remote = _v1_address(fields[1], family, "remote", rip)
    local = _v1_address(fields[2], family, "local", rip)
    rport, lport = _v1_port(fields[3], "remote", rip), _v1_port(fields[4], "local", rip)
    if len(fields) > 5:
        _v1_error(f"Header line has spurius extra field (field=`{_sanitize(fields[5])}', rip={rip})")
    return end + 2, ProxiedAddresses(remote, rport, local, lport)


def is_trusted(rip: str, networks: str, error: Callable[[str], None]) -> bool:
    """``haproxy_trusted_networks``: the proxy's own address must be in one of them."""
    address = ipaddress.ip_address(rip.split("%")[0])
    for item in networks.replace(",", " ").split():
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            error(f"haproxy_trusted_networks: Invalid network '{item}'")
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped and network.version == 4:
            address = address.ipv4_mapped
        if address.version == network.version and address in network:
            return True
    return False


async def _readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def read_header(sock: socket.socket, rip: str) -> ProxiedAddresses:
    """Wait for a complete header on the non-blocking ``sock`` and consume exactly it.
    The caller bounds the wait (haproxy_timeout)."""
    seen = -1
    while True:
        await _readable(sock)
        data = sock.recv(V2_MAX_HEADER, socket.MSG_PEEK)
        if not data:
            raise HaproxyError(f"haproxy: Client disconnected (rip={rip}): Connection reset by peer", "info")
        parsed = parse_header(data, rip)
        if parsed is not None:
            size, addresses = parsed
            got = sock.recv(size)
            if len(got) != size:
                raise HaproxyError(f"haproxy: Client disconencted: Failed to read full header (rip={rip})")
            return addresses
        if len(data) == seen:
            await asyncio.sleep(_POLL)  # the rest of the header has not arrived yet
        seen = len(data)


async def accept_proxied(conn: socket.socket, rip: str, settings: object, log: object) -> ProxiedAddresses | None:
    """A haproxy listener's new connection: the header's addresses (and TLVs), or None -- logged
    in Dovecot's words -- when the connection is to be closed.  ``settings`` is the service's
    settings node (haproxy_trusted_networks, haproxy_timeout); the master (single/workers models)
    and the login processes (separated) use it alike."""
    if not is_trusted(rip, str(settings.get("haproxy_trusted_networks")), log.error):  # type: ignore[attr-defined]
        log.warning(f"haproxy: Client not trusted (rip={rip})")  # type: ignore[attr-defined]
        return None
    try:
        timeout = int(settings.get("haproxy_timeout")) or None  # type: ignore[attr-defined]
        proxied = await asyncio.wait_for(read_header(conn, rip), timeout)
    except TimeoutError:
        log.error(f"haproxy: Client timed out (rip={rip})")  # type: ignore[attr-defined]
        return None
    except HaproxyError as e:
        if e.level:
            getattr(log, e.level)(str(e))
        return None
    except OSError as e:
        log.info(f"haproxy: Client disconnected (rip={rip}): {e.strerror}")  # type: ignore[attr-defined]
        return None
    if proxied.error:
        log.error(proxied.error)  # type: ignore[attr-defined]
    return proxied


def proxied_info(info: ConnectionInfo, proxied: ProxiedAddresses) -> ConnectionInfo:
    """The connection as the header describes it: its addresses (LOCAL / UNKNOWN keep the
    socket's), a session id made from them, and what the TLVs said."""
    from pydovecot.login.session_id import new_session_id

    if proxied.remote_ip is not None:
        info = dataclasses.replace(info, local_ip=proxied.local_ip, local_port=proxied.local_port,
                                   remote_ip=proxied.remote_ip, remote_port=proxied.remote_port,
                                   session_id=new_session_id(proxied.remote_ip, proxied.remote_port))
    return dataclasses.replace(info, proxied=True, proxied_ssl=proxied.ssl, local_name=proxied.hostname,
                               cert_common_name=proxied.cert_common_name)
