"""The test service of the admin tests: logs users in and out of the session registry.

``LOGIN <user>`` registers a session as a protocol handler does after a login (service
``imap``), ``STATE <word>`` sets what the process title shows, ``LOGOUT`` unregisters, ``PID``
answers the serving process's pid.  A kick closes the connection.
Loaded with PYDOVECOT_ONLY_SERVICE_MODULES=tests.master.session_echo_service.
"""

from __future__ import annotations

import asyncio
import os

from pydovecot.log import Log
from pydovecot.login.sessions import Session, register_session
from pydovecot.master import ConnInfo, SharedContext, register_service


class SessionEchoHandler:
    def __init__(self, tree: object, log: Log, context: SharedContext) -> None:
        self.log = log

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        if writer is None:
            return
        session: Session | None = None
        writer.write(b"* ready\r\n")
        await writer.drain()
        try:
            while line := await reader.readline():
                word, _, arg = line.decode().strip().partition(" ")
                if word == "LOGIN" and session is None:
                    session = register_session("imap", arg, conn_info.remote_ip, kick_callback=writer.close)
                elif word == "STATE" and session is not None:
                    session.set_state(arg)
                elif word == "LOGOUT" and session is not None:
                    session.unregister()
                    session = None
                elif word == "LOG":
                    self.log.info(arg)
                reply = str(os.getpid()) if word == "PID" else "OK"
                writer.write(f"{reply}\r\n".encode())
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            if session is not None:
                session.unregister()

    async def close(self) -> None:
        pass


register_service("secho", SessionEchoHandler)
