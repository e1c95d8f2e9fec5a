"""``python -m tests.lmtp.serve CONF`` : our LMTP server in its own process (durability test, benchmark).

Prints the port it listens on, then serves until killed.
"""

from __future__ import annotations

import asyncio
import sys

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.lmtp import LmtpService


async def main(conf: str, port: int) -> None:
    tree = load(conf)
    service = await LmtpService.create(tree, auth_service=service_from_settings(tree.lookup(service="auth")))
    server = await service.serve_tcp("127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
