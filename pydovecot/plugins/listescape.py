"""The listescape plugin: mailbox names may hold the characters the storage cannot.

Maildir++ keeps a folder as ``.<levels joined by '.'>`` in one directory, so without this
plugin a ``.`` in a name (separator ``/``), a ``/`` (separator ``.``) or a level starting
with ``~`` is refused. With it, each level is stored with those characters written as the
escape character and two lowercase hex digits, exactly as Dovecot 2.3 names the directories
(checked against the real binaries): ``a.b`` -> ``.a\\2eb``, ``~x`` -> ``.\\7ex``, ``a/b``
(separator ``.``) -> ``.a\\2fb``, and the escape character itself -> ``\\5c``.
``listescape_char`` chooses the character (default ``\\``).
"""

from __future__ import annotations

import re
from typing import Any

from .hooks import MailPlugin
from .registry import register

DEFAULT_ESCAPE_CHAR = "\\"
# Characters escaped anywhere in a level; '~' only where a level starts.
_ALWAYS = (".", "/")


class ListEscaper:
    def __init__(self, char: str = DEFAULT_ESCAPE_CHAR) -> None:
        self.char = char
        self._sequence = re.compile(re.escape(char) + "([0-9a-fA-F]{2})")

    def escape(self, level: str) -> str:
        out = []
        for index, ch in enumerate(level):
            if ch == self.char or ch in _ALWAYS or (ch == "~" and index == 0):
                out.append(f"{self.char}{ord(ch):02x}")
            else:
                out.append(ch)
        return "".join(out)

    def unescape(self, level: str) -> str:
        return self._sequence.sub(lambda m: chr(int(m.group(1), 16)), level)


@register
class ListescapePlugin(MailPlugin):
    name = "listescape"

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        char = self.setting("listescape_char") or DEFAULT_ESCAPE_CHAR
        self.escaper = ListEscaper(char[0])
        # Dovecot escapes in every mailbox list the user has (its mailbox_list_created hook).
        for ns in user.namespaces.namespaces:
            ns.name_escape = self.escaper
