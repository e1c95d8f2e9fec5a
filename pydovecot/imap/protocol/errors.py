"""Protocol errors as values: what went wrong, for which tag and command, and how bad it is."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class Severity(Enum):
    BAD = "BAD"  # malformed input; the connection goes on
    NO = "NO"  # well-formed but refused (a mailbox name that is not valid mUTF-7)
    BYE = "BYE"  # the connection is closed after the reply


@dataclass
class ImapProtocolError(Exception):
    """A malformed command. `tag` is None when no valid tag could be read; `command` when no name.

    `lexical` marks errors found while tokenising (an unterminated quote, a bad literal size):
    Dovecot's login process shows those as they are, and every other one as a generic message.
    `prefixed` is False for replies Dovecot words without "Error in IMAP command NAME:".
    """

    reason: str
    tag: bytes | None = None
    command: str | None = None
    severity: Severity = Severity.BAD
    lexical: bool = False
    prefixed: bool = True

    def __str__(self) -> str:
        return self.reason

    def with_context(self, tag: bytes | None, command: str | None) -> ImapProtocolError:
        return replace(
            self,
            tag=self.tag if self.tag is not None else tag,
            command=self.command if self.command is not None else command,
        )
