"""What the master serves, read from the settings tree: services, their listeners and limits.

Each listener becomes a hashable ``ListenerSpec``; a reload compares old and new specs and keeps
the sockets whose spec did not change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ListenerSpec:
    service: str
    kind: str  # "inet" | "unix" | "fifo"
    name: str  # the inet listener's name, or the unix/fifo path as written
    address: str = ""  # inet: one address ("127.0.0.1", "::", "0.0.0.0")
    port: int = 0
    ssl: bool = False
    reuse_port: bool = False
    path: str = ""  # unix/fifo: absolute path
    mode: int = 0o600
    user: str = ""
    group: str = ""
    haproxy: bool = False  # inet: a HAProxy PROXY header precedes the client's bytes (haproxy.py)

    def describe(self) -> str:
        if self.kind == "inet":
            return f"{self.address}, {self.port}" if ":" not in self.address else f"[{self.address}], {self.port}"
        return self.path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    protocol: str
    listeners: tuple[ListenerSpec, ...]
    connection_limit: int  # client_limit x process_limit: the connections Dovecot would accept
    # The process-model knobs, defaults resolved (0 -> default_*); see workers.py for their use.
    process_limit: int = 1
    client_limit: int = 1000
    service_count: int = 0  # connections a worker serves before it exits; 0 = no limit
    process_min_avail: int = 0
    vsz_limit: int = 0  # bytes of address space per worker; 0 = unlimited
    executable: str = ""  # as configured: chooses the handler when the name does not (registry.py)
    user: str = ""


@dataclass(frozen=True)
class MasterSettings:
    base_dir: str
    protocols: tuple[str, ...]
    services: tuple[ServiceSpec, ...]
    shutdown_clients: bool
    instance_name: str

    @property
    def pid_file(self) -> str:
        return os.path.join(self.base_dir, "master.pid")

    def service(self, name: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.name == name), None)


_ALL_ONES = 2**64 - 1


def _resolve(root: object, value: str) -> str:
    """``$default_internal_user`` and friends: a reference to another setting."""
    if value.startswith("$"):
        return str(root.get(value[1:]))  # type: ignore[attr-defined]
    return value


def listen_addresses(text: str) -> list[str]:
    """``listen = *, ::`` -> ["0.0.0.0", "::"]; ``*`` is every IPv4 address, ``::`` every IPv6."""
    out: list[str] = []
    for item in text.replace(",", " ").split():
        out.append("0.0.0.0" if item == "*" else item.strip("[]"))
    return out


def read_master_settings(tree: object) -> MasterSettings:
    root = tree.lookup()  # type: ignore[attr-defined]
    base_dir = str(root.get("base_dir"))
    protocols = tuple(str(root.get("protocols")).split())
    default_client = int(root.get("default_client_limit"))
    default_process = int(root.get("default_process_limit"))
    services: list[ServiceSpec] = []
    for node in root.get("service"):
        name = str(node.get("name"))
        protocol = str(node.get("protocol"))
        if protocol and protocol not in protocols:
            continue  # Dovecot starts only the services of enabled protocols
        listeners: list[ListenerSpec] = []
        for inet in node.get("inet_listener"):
            port = int(inet.get("port"))
            if port == 0:
                continue  # port 0 disables a listener
            address_text = str(inet.get("address")) or str(tree.lookup(service=protocol or None).get("listen"))
            for address in listen_addresses(address_text):
                listeners.append(ListenerSpec(name, "inet", str(inet.get("name")), address, port,
                                              bool(inet.get("ssl")), bool(inet.get("reuse_port")),
                                              haproxy=bool(inet.get("haproxy"))))
        for kind in ("unix", "fifo"):
            for item in node.get(f"{kind}_listener"):
                path = str(item.get("path"))
                listeners.append(ListenerSpec(
                    name, kind, path, path=os.path.join(base_dir, path), mode=int(item.get("mode")),
                    user=_resolve(root, str(item.get("user"))), group=_resolve(root, str(item.get("group")))))
        client_limit = int(node.get("client_limit")) or default_client
        process_limit = int(node.get("process_limit")) or default_process
        vsz_limit = int(node.get("vsz_limit"))
        if vsz_limit == _ALL_ONES:  # "unset": the service follows default_vsz_limit
            vsz_limit = int(root.get("default_vsz_limit"))
        services.append(ServiceSpec(name, protocol, tuple(listeners), client_limit * process_limit,
                                    process_limit, client_limit, int(node.get("service_count")),
                                    int(node.get("process_min_avail")), vsz_limit, str(node.get("executable")),
                                    _resolve(root, str(node.get("user")))))
    return MasterSettings(base_dir, protocols, tuple(services), bool(root.get("shutdown_clients")),
                          str(root.get("instance_name")))
