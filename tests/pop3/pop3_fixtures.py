"""An in-memory mailbox and a tiny authenticator that drive the POP3 core in tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydovecot.pop3 import (
    NEED_DATA,
    CheckPassword,
    Disconnect,
    Pop3Connection,
    Pop3ProtocolSettings,
    SaslResponse,
    SaslStart,
)

GOLDENS = Path(__file__).resolve().parent / "goldens"


@dataclass
class InMemoryMailbox:
    messages: list[bytes]
    uidls: list[str]

    def message_count(self) -> int:
        return len(self.messages)

    def message_size(self, index: int) -> int:
        # the wire size: every LF becomes CRLF
        data = self.messages[index]
        return len(data) + data.count(b"\n") - data.count(b"\r\n")

    def message_uidl(self, index: int) -> str:
        return self.uidls[index]

    def message_bytes(self, index: int) -> bytes:
        return self.messages[index]


def load_meta() -> dict[str, object]:
    return json.loads((GOLDENS / "mailbox.json").read_text())


def golden_mailbox() -> InMemoryMailbox:
    meta = load_meta()
    paths = meta["messages"]
    assert isinstance(paths, list)
    messages = [(GOLDENS / str(p)).read_bytes() for p in paths]
    # pop3_uidl_format = %08Xu%08Xv: the UID then the recorded UIDVALIDITY, both as 8 hex digits
    uidls = [f"{uid:08x}{meta['uidvalidity']}" for uid in range(1, len(messages) + 1)]
    return InMemoryMailbox(messages, uidls)


def golden_settings() -> Pop3ProtocolSettings:
    meta = load_meta()
    mechanisms = meta["sasl_mechanisms"]
    assert isinstance(mechanisms, list)
    return Pop3ProtocolSettings(greeting=str(meta["greeting"]), sasl_mechanisms=tuple(mechanisms))


class Driver:
    """Plays the session's part: answers the core's events as Dovecot's auth would."""

    def __init__(self, conn: Pop3Connection, mailbox: InMemoryMailbox, user: str, password: str) -> None:
        self.conn = conn
        self.mailbox = mailbox
        self.user = user
        self.password = password
        self.closed = False
        self.events: list[object] = []

    def _check_plain(self, data: bytes) -> None:
        parts = data.split(b"\0")
        if len(parts) == 3 and parts[1].decode() == self.user and parts[2].decode() == self.password:
            self.conn.login_succeeded(self.mailbox)
        else:
            self.conn.login_failed()

    def send(self, data: bytes) -> bytes:
        if self.closed:
            return b""
        self.conn.receive_data(data)
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                break
            self.events.append(event)
            if isinstance(event, CheckPassword):
                if (event.user, event.password) == (self.user, self.password):
                    self.conn.login_succeeded(self.mailbox)
                else:
                    self.conn.login_failed()
            elif isinstance(event, SaslStart):
                if event.initial_response is None:
                    self.conn.sasl_challenge(b"")
                else:
                    self._check_plain(event.initial_response)
            elif isinstance(event, SaslResponse):
                self._check_plain(event.data)
            elif isinstance(event, Disconnect):
                self.closed = True
        return self.conn.data_to_send()
