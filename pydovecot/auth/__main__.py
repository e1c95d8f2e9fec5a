"""Run the auth service alone: ``python -m pydovecot.auth -c dovecot.conf [--base-dir DIR]``.

It serves the ``unix_listener``s that ``service auth { }`` declares and that we implement:
``auth-client`` (SASL for login processes), ``auth-master`` and ``auth-userdb`` (the master
protocol). Relative listener paths are under base_dir (``--base-dir`` or the config's
``base_dir``). Other listeners (auth-login, login/login, token-login) are not served. It stops
on SIGTERM or SIGINT and removes its sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pydovecot.auth.backend import service_from_settings
from pydovecot.auth.service import AuthService

# Which wire protocol a listener speaks, by the part of its name after the last "-", as
# Dovecot's auth decides; any other name is a client socket (Postfix's "private/auth").
_LISTENER_ROLES = {"client": "client", "master": "master", "userdb": "userdb"}
# Named after protocols we do not serve: the login processes' and the token sockets.
_UNSERVED_SUFFIXES = {"login", "token", "tokenlogin"}


@dataclass(frozen=True)
class Listener:
    role: str  # "client" | "master" | "userdb"
    path: str
    mode: int


def listener_role(path: str) -> str | None:
    """The wire protocol a listener path speaks ("client", "master", "userdb"), None if unserved."""
    suffix = os.path.basename(path).rsplit("-", 1)[-1]
    if suffix in _UNSERVED_SUFFIXES:
        return None
    return _LISTENER_ROLES.get(suffix, "client")


def connection_handler(service: AuthService, role: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                                    object]:
    """Serve one accepted connection of ``role`` (the master accepts; the service talks)."""
    if role == "client":
        return service._handler(service.new_client_session)
    return service._handler(lambda: service.new_master_session(userdb_only=role == "userdb"))


def auth_listeners(tree: object, base_dir: str | None = None) -> list[Listener]:
    """The listeners of ``service auth`` we serve, with absolute paths."""
    root = tree.lookup()  # type: ignore[attr-defined]
    base = base_dir if base_dir is not None else str(root.get("base_dir"))
    out: list[Listener] = []
    for service in root.get("service"):
        if service.get("name") != "auth":
            continue
        for listener in service.get("unix_listener"):
            path = str(listener.get("path"))
            role = listener_role(path)
            if role is None:
                continue
            out.append(Listener(role, os.path.join(base, path), int(listener.get("mode"))))
    return out


async def serve(config_path: str, base_dir: str | None, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None, *, penalty: bool = True) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None).

    ``penalty``: the per-IP auth failure penalty, on as in Dovecot."""
    from pydovecot.config import load

    tree = load(config_path)
    logger = logging.getLogger("pydovecot.auth")

    def log(level: str, line: str) -> None:
        logger.log(getattr(logging, level.upper(), logging.INFO), "%s", line)

    service = service_from_settings(tree.lookup(service="auth"), log_callback=log, penalty=penalty)
    listeners = auth_listeners(tree, base_dir)
    paths = {f"{item.role}_path": item.path for item in listeners}
    for item in listeners:
        os.makedirs(os.path.dirname(item.path), exist_ok=True)
    await service.start(**paths)
    for item in listeners:
        os.chmod(item.path, item.mode)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await service.close()
        await service.backend.chain.close()  # type: ignore[attr-defined]
        for item in listeners:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(item.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pydovecot.auth", description=__doc__.splitlines()[0])
    parser.add_argument("-c", dest="config", default="/etc/dovecot/dovecot.conf", help="dovecot.conf")
    parser.add_argument("--base-dir", default=None, help="directory for relative listener paths")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="auth: %(levelname)s: %(message)s")
    asyncio.run(serve(args.config, args.base_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
