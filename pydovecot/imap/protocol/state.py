"""The connection states (RFC 3501 section 3) and which command is valid in which, in one table."""

from __future__ import annotations

from enum import Enum

from .errors import ImapProtocolError


class ConnectionState(Enum):
    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


_N, _A, _S = ConnectionState.NOT_AUTHENTICATED, ConnectionState.AUTHENTICATED, ConnectionState.SELECTED
ANY = frozenset({_N, _A, _S})
LOGGED_IN = frozenset({_A, _S})
SELECTED_ONLY = frozenset({_S})
NOT_AUTHENTICATED_ONLY = frozenset({_N})

# Command name -> states in which it may be sent. UID variants share their base command's row.
# Dovecot's login process knows only the first block; the mail process only the rest.
COMMAND_STATES: dict[str, frozenset[ConnectionState]] = {
    "CAPABILITY": ANY,
    "NOOP": ANY,
    "LOGOUT": ANY,
    "ID": ANY,
    "LOGIN": NOT_AUTHENTICATED_ONLY,
    "AUTHENTICATE": NOT_AUTHENTICATED_ONLY,
    "STARTTLS": NOT_AUTHENTICATED_ONLY,
    "SELECT": LOGGED_IN,
    "EXAMINE": LOGGED_IN,
    "CREATE": LOGGED_IN,
    "DELETE": LOGGED_IN,
    "RENAME": LOGGED_IN,
    "SUBSCRIBE": LOGGED_IN,
    "UNSUBSCRIBE": LOGGED_IN,
    "LIST": LOGGED_IN,
    "LSUB": LOGGED_IN,
    "NAMESPACE": LOGGED_IN,
    "STATUS": LOGGED_IN,
    "APPEND": LOGGED_IN,
    "ENABLE": ANY,  # imap-login answers it too ("ENABLE ignored in non-authenticated state.")
    "IDLE": LOGGED_IN,
    "GETQUOTAROOT": LOGGED_IN,
    "GETQUOTA": LOGGED_IN,
    "SETQUOTA": LOGGED_IN,
    "GETMETADATA": LOGGED_IN,
    "SETMETADATA": LOGGED_IN,
    "GETACL": LOGGED_IN,
    "SETACL": LOGGED_IN,
    "DELETEACL": LOGGED_IN,
    "LISTRIGHTS": LOGGED_IN,
    "MYRIGHTS": LOGGED_IN,
    "COMPRESS": LOGGED_IN,
    "NOTIFY": LOGGED_IN,
    "CHECK": SELECTED_ONLY,
    "CLOSE": SELECTED_ONLY,
    "UNSELECT": SELECTED_ONLY,
    "EXPUNGE": SELECTED_ONLY,
    "SEARCH": SELECTED_ONLY,
    "SORT": SELECTED_ONLY,
    "THREAD": SELECTED_ONLY,
    "FETCH": SELECTED_ONLY,
    "STORE": SELECTED_ONLY,
    "COPY": SELECTED_ONLY,
    "MOVE": SELECTED_ONLY,
}


def check_command_state(name: str, state: ConnectionState) -> ImapProtocolError | None:
    """None when `name` (upper case, `UID ` prefix allowed) may run in `state`; else Dovecot's reply.

    Before login an unknown or out-of-state command gets the login process's generic BAD;
    after login a pre-login command is "Unknown command" and a selected-state one is refused
    with "No mailbox selected".
    """
    base = name.removeprefix("UID ")
    allowed = COMMAND_STATES.get(base)
    if state is ConnectionState.LOGOUT:
        return ImapProtocolError("Connection is logging out", command=name, prefixed=False)
    if allowed is None or state in allowed:
        return None  # unknown commands are the parser's to report
    if state is ConnectionState.NOT_AUTHENTICATED:
        return ImapProtocolError("Unknown command", command=name)
    if allowed is SELECTED_ONLY:
        return ImapProtocolError("No mailbox selected", command=name, prefixed=False)
    return ImapProtocolError("Unknown command", command=name)
