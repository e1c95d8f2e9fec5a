"""Shared namespaces: other users' mailboxes under ``shared/%u/`` (Dovecot's ``type = shared``).

A shared namespace whose prefix holds ``%u``, ``%n`` or ``%d`` is a template. A name under it
(``shared/bob@x/INBOX``) names its owner; the owner is looked up in the userdb and the namespace
made for them has the prefix and the location expanded with the OWNER's variables (``%h``,
``%u``, ``%n``, ``%d``) while ``~`` stays the accessing user's home: with the seed's
``location = maildir:%%h/Maildir:INDEX=~/shared/%%u:CONTROL=~/shared/%%u`` the mail is bob's
Maildir and the indexes and uid lists are alice's own copy (checked against Dovecot 2.3.19).

The userdb lookup comes from the protocol layer, which holds the auth service: a
:data:`LookupUser` callable. Storage runs in worker threads and the auth service is asyncio;
:func:`threadsafe_lookup` bridges the two by running the lookup on the event loop and waiting
for it in the worker thread (never on the loop's own thread, where it would deadlock).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Mapping

from .maildir.mailbox_list import MailboxInfo, MaildirMailboxList

LookupUser = Callable[[str], "Mapping[str, str] | None"]
"""``lookup_user(name)``: the userdb fields of ``name`` (``user``, ``home``, ``uid``, ``gid``,
``mail``...), None when the userdb does not know the user."""

LOOKUP_TIMEOUT = 30.0


class UserLookupUnavailable(RuntimeError):
    """The userdb could not answer now (failure, timeout, or asked from the event loop's own
    thread): the owner is neither known nor unknown, so nothing is remembered about them."""


# %u %n %d and their long forms, the only variables a shared prefix may hold.
_VARIABLE = re.compile(r"%(?:\{(user|username|domain)\}|([und]))")
_LONG = {"user": "u", "username": "n", "domain": "d"}


def prefix_pattern(template_prefix: str, separator: str = "/") -> re.Pattern[str]:
    """A regex matching the start of a name under the template's prefix, with groups u/n/d
    (each variable takes one hierarchy level at most)."""
    sep = re.escape(separator)
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for match in _VARIABLE.finditer(template_prefix):
        parts.append(re.escape(template_prefix[pos:match.start()]))
        key = _LONG.get(match.group(1) or "", match.group(2) or "")
        # %n stops at "@" so that "%n@%d" splits; the others take a whole level.
        body = f"[^{sep}@]+" if key == "n" else f"[^{sep}]+"
        parts.append(f"(?P<{key}>{body})" if key not in seen else f"(?P={key})")
        seen.add(key)
        pos = match.end()
    parts.append(re.escape(template_prefix[pos:]))
    return re.compile("".join(parts), re.DOTALL)


def owner_of(template_prefix: str, separator: str, vname: str) -> tuple[str, str] | None:
    """(owner, the owner's prefix) of a name under a template, or None when it names nobody.

    ``shared/bob@x`` (the owner's INBOX) and ``shared/bob@x/sub`` both name bob@x."""
    pattern = prefix_pattern(template_prefix, separator)
    name = vname if vname.endswith(separator) else vname + separator
    match = pattern.match(name)
    if match is None:
        return None
    groups = match.groupdict()
    if groups.get("u"):
        owner = groups["u"]
    elif groups.get("n"):
        owner = groups["n"] + (f"@{groups['d']}" if groups.get("d") else "")
    else:
        return None
    return owner, match.group(0)


def prefix_for(template_prefix: str, owner: str) -> str:
    """The owner's prefix: the template with %u/%n/%d expanded (``shared/bob@x/``)."""
    values = owner_variables(owner)
    short = {"u": values["user"], "n": values["username"], "d": values["domain"]}
    return _VARIABLE.sub(lambda m: short[_LONG.get(m.group(1) or "", m.group(2) or "")], template_prefix)


def owner_variables(owner: str) -> dict[str, str]:
    local, _, domain = owner.partition("@")
    return {"user": owner, "username": local, "domain": domain}


def threadsafe_lookup(loop: asyncio.AbstractEventLoop,
                      lookup: Callable[[str], Awaitable[Mapping[str, str] | None]],
                      timeout: float = LOOKUP_TIMEOUT) -> LookupUser:
    """A synchronous :data:`LookupUser` for storage worker threads over an async lookup on ``loop``."""
    loop_thread = threading.get_ident() if _running_here(loop) else None

    def call(name: str) -> Mapping[str, str] | None:
        if threading.get_ident() == loop_thread or _running_here(loop):
            # Waiting here would block the loop that has to answer; storage runs in workers.
            raise UserLookupUnavailable("userdb lookup from the event loop thread")
        future = asyncio.run_coroutine_threadsafe(_awaited(lookup(name)), loop)
        try:
            return future.result(timeout)
        except Exception as exc:
            future.cancel()
            raise UserLookupUnavailable(f"userdb lookup of {name} failed: {exc!r}") from exc

    return call


async def _awaited(value: Awaitable[Mapping[str, str] | None]) -> Mapping[str, str] | None:
    return await value


def _running_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class MissingOwnerMailboxList(MaildirMailboxList):
    """The mailbox list of an owner the userdb does not know: nothing exists, nothing is
    made (Dovecot points such a namespace at an empty ``user-not-found`` directory)."""

    def list(self, pattern: str = "*") -> list[MailboxInfo]:
        return []

    def exists(self, name: str) -> bool:
        return False

    def subscriptions(self) -> list[str]:
        return []

    def create(self, name: str) -> str:
        raise LookupError(f"Mailbox doesn't exist: {name}")

    def subscribe(self, name: str) -> bool:
        raise LookupError(f"Mailbox doesn't exist: {name}")
