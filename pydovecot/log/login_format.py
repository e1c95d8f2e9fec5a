"""Login processes' log lines: ``login_log_format_elements`` inside ``login_log_format``.

Follows client_get_log_str() of Dovecot 2.3's login-common: the elements are split on spaces,
each is expanded with the client's variables, and an element is dropped when it expands to the
same text with every variable empty (``mpid=%e`` before login, ``%c`` on an insecure
connection) -- except elements naming ``%u``/``%n``, which always stay (``user=<>``).  The kept
elements are joined with ", " and put into login_log_format as ``%s``, the message as ``%$``:

    Login: user=<alice@example.test>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=1234, secured, session=<...>
"""

from __future__ import annotations

from collections.abc import Mapping

from pydovecot.varexpand import LOGIN, LOGIN_LOG_FORMAT, VarFunction, VarRef, expand, parse

DEFAULT_ELEMENTS = "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>"
DEFAULT_FORMAT = "%$: %s"


def _names_user(element: str) -> bool:
    """Dovecot's have_username_key(): a %u or %n letter (long names do not count)."""
    return any(isinstance(tok, VarRef) and not tok.is_long and tok.key in (b"u", b"n")
               for tok in parse(element))


def expand_elements(elements: str, values: Mapping[str, str | None],
                    functions: Mapping[str, VarFunction] | None = None) -> str:
    table = LOGIN.table(values)
    empty = LOGIN.table({})
    kept: list[str] = []
    for element in elements.split(" "):
        text = expand(element, table, context=LOGIN, functions=functions).text
        if not _names_user(element):
            if text == expand(element, empty, context=LOGIN, functions=functions).text:
                continue  # only empty %variables: leave the element out
        kept.append(text)
    return ", ".join(kept)


def login_log_line(message: str, values: Mapping[str, str | None], *,
                   elements: str = DEFAULT_ELEMENTS, log_format: str = DEFAULT_FORMAT,
                   functions: Mapping[str, VarFunction] | None = None) -> str:
    """The message part of a login process's log line (without the ``imap-login: Info: ``).

    ``values`` uses the LOGIN context's long names: user, mechanism, remote_ip, local_ip,
    mail_pid, secured ("secured" or empty), session, ..."""
    joined = expand_elements(elements, values, functions)
    table = LOGIN_LOG_FORMAT.table(elements=joined, message=message)
    return expand(log_format, table, context=LOGIN_LOG_FORMAT).text


def login_log_line_from_settings(message: str, values: Mapping[str, str | None], settings: object) -> str:
    """``login_log_line`` with the formats of a settings node (``tree.lookup(service=...)``)."""
    get = settings.get  # type: ignore[attr-defined]
    return login_log_line(message, values, elements=str(get("login_log_format_elements")),
                          log_format=str(get("login_log_format")))


def disconnect_message(reason: str | None, *, auth_attempts: int, seconds: int,
                       auth_failed: bool = True) -> str:
    """``Disconnected: <reason> (<why>)`` the way client_get_extra_disconnect_reason() words it:
    ``(auth failed, 2 attempts in 8 secs)`` or ``(no auth attempts in 0 secs)``."""
    if auth_attempts == 0:
        extra = f"no auth attempts in {seconds} secs"
    elif auth_failed:
        extra = f"auth failed, {auth_attempts} attempts in {seconds} secs"
    else:
        extra = f"{auth_attempts} attempts in {seconds} secs"
    head = f"Disconnected: {reason}" if reason else "Disconnected"
    return f"{head} ({extra})"
