"""One module per IMAP command, and the table that maps parsed commands to them.

Every handler is `async def run(session, cmd) -> None`: it queues its untagged replies and its
tagged reply on the session. `SYNC_AFTER` marks the commands after which Dovecot tells the
client about changes in the selected mailbox (expunges included) before the tagged reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..protocol import commands as c
from . import (
    acl,
    append,
    authenticate,
    capability,
    close,
    compress,
    copy,
    create,
    delete,
    enable,
    expunge,
    fetch,
    id,
    idle,
    list,
    login,
    logout,
    metadata,
    namespace,
    noop,
    notify,
    quota,
    rename,
    search,
    select,
    sort,
    starttls,
    status,
    store,
    subscribe,
    thread,
)

if TYPE_CHECKING:
    from ..session import Session

Handler = Callable[["Session", Any], Awaitable[None]]

HANDLERS: dict[type, Handler] = {
    c.Capability: capability.run,
    c.Noop: noop.run,
    c.Check: noop.run,
    c.Logout: logout.run,
    c.Id: id.run,
    c.Enable: enable.run,
    c.Login: login.run,
    c.Authenticate: authenticate.run,
    c.StartTls: starttls.run,
    c.Select: select.run,
    c.Create: create.run,
    c.Delete: delete.run,
    c.Rename: rename.run,
    c.Subscribe: subscribe.run,
    c.ListMailboxes: list.run,
    c.Namespace: namespace.run,
    c.Status: status.run,
    c.Append: append.run,
    c.Idle: idle.run,
    c.Close: close.run,
    c.Unselect: close.run,
    c.Expunge: expunge.run,
    c.Search: search.run,
    c.Sort: sort.run,
    c.Thread: thread.run,
    c.Fetch: fetch.run,
    c.Store: store.run,
    c.Copy: copy.run,
}

# Commands a plugin adds (c.Extension, by name): each handler answers "Unknown command" when
# the session's user does not have its plugin.
EXTENSIONS: dict[str, Handler] = {
    **dict.fromkeys(("GETQUOTAROOT", "GETQUOTA", "SETQUOTA"), quota.run),  # imap_quota
    **dict.fromkeys(acl.NAMES, acl.run),  # imap_acl
    "COMPRESS": compress.run,  # imap_zlib
    **dict.fromkeys(metadata.NAMES, metadata.run),  # imap_metadata (RFC 5464)
    "NOTIFY": notify.run,  # RFC 5465: always there, as in Dovecot
}


async def _extension(session: Session, cmd: c.Extension) -> None:
    await EXTENSIONS[cmd.name](session, cmd)


HANDLERS[c.Extension] = _extension

# Commands that must not see expunges (their sequence numbers are the client's): the rest sync
# fully after they run, unless the handler did it already.
NO_EXPUNGE_SYNC = (c.Fetch, c.Store, c.Search, c.Sort, c.Thread, c.Copy)
# RENAME: renaming the selected mailbox shows at the next command ("Mailbox was deleted under us").
HANDLES_OWN_SYNC = (c.Noop, c.Check, c.Expunge, c.Select, c.Close, c.Unselect, c.Idle, c.Logout,
                    c.Append, c.Copy, c.Store, c.Delete, c.Rename)


def handler_for(cmd: c.Command) -> Handler | None:
    return HANDLERS.get(type(cmd))
