"""login_log_format_elements: the ``user=<%u> method=%m rip=%r ...`` part of a login process's
log lines, expanded as Dovecot's login-common does.

Each space-separated element is expanded on its own and left out when it comes out the same
as with every variable empty (no ``method=`` before an auth attempt, no ``mpid=`` before
login, no ``lip=`` unless the configuration asks for it), except an element naming the user,
which always shows (``user=<>``). The kept elements are joined with ", ".
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

from pydovecot.varexpand import expand
from pydovecot.varexpand.contexts import LOGIN

# %u / %n with modifiers (%Lu), or %{user} / %{username}: Dovecot's have_username_key().
_USER_KEY = re.compile(r"%[-0-9.]*[A-Z]*[un](?![A-Za-z])|%\{(?:user|username)[}:]")


def login_elements(template: str, values: Mapping[str, str | None]) -> str:
    empty = dict.fromkeys(values, "")
    parts = []
    for element in template.split():
        text = expand(element, values, context=LOGIN).text
        if not _USER_KEY.search(element) and text == expand(element, empty, context=LOGIN).text:
            continue
        parts.append(text)
    return ", ".join(parts)


def ssl_security(writer: asyncio.StreamWriter | None) -> str | None:
    """``%k``: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", None without TLS."""
    ssl_object = writer.get_extra_info("ssl_object") if writer is not None else None
    cipher = ssl_object.cipher() if ssl_object is not None else None
    if not cipher:
        return None
    name, _, bits = cipher
    return f"{ssl_object.version()} with cipher {name} ({bits}/{bits} bits)"
