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
import ipaddress
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX_HEADER = 108  # the longest v1 line the specification allows
V2_MAX_HEADER = 1500  # Dovecot's limit for a v2 header with its TLVs
_POLL = 0.02  # seconds between peeks while a header is incomplete


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
    return size, addresses


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
        if kind == 0x20 and not ssl_sub:  # PP2_TYPE_SSL: client flags, verify, sub-TLVs
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
