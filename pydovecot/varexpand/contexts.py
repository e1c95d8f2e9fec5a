"""Which letters and long names exist where settings are expanded (auth, mail user, login)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variable:
    """One variable of a context: its table key, optional letter and deprecated long aliases."""

    name: str
    letter: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class VariableContext:
    """The variables Dovecot defines in one place where settings are expanded.

    Every variable of the context is always "known": when the caller's table has no value for
    it, it expands to the empty string (Dovecot's tables always list all of them).
    """

    name: str
    variables: tuple[Variable, ...]
    # (full, local part, domain part) triples that ``table()`` derives from the full name.
    user_triples: tuple[tuple[str, str, str], ...] = ()
    _letters: dict[str, str] = field(init=False, repr=False, compare=False)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        letters: dict[str, str] = {}
        names: dict[str, str] = {}
        for var in self.variables:
            if var.letter is not None:
                letters[var.letter] = var.name
            if not var.name.startswith("%"):
                names[var.name] = var.name
            for alias in var.aliases:
                names[alias] = var.name
        object.__setattr__(self, "_letters", letters)
        object.__setattr__(self, "_names", names)

    @property
    def letters(self) -> Mapping[str, str]:
        """Letter -> table key, e.g. ``{"u": "user", "l": "local_ip"}``."""
        return self._letters

    def canonical(self, long_name: str) -> str | None:
        """The table key for a long name or deprecated alias; None when the context lacks it."""
        return self._names.get(long_name)

    def name_for_letter(self, letter: str) -> str | None:
        return self._letters.get(letter)

    def table(self, values: Mapping[str, str | None] | None = None, /, **more: str | None) -> dict[str, str | None]:
        """A full table: the given values plus the parts Dovecot derives from user names.

        ``user`` gives ``username`` and ``domain`` (and ``domain_first``/``domain_last`` where the
        context has them); likewise ``auth_user``, ``login_user`` and ``original_user``.
        """
        out: dict[str, str | None] = {var.name: None for var in self.variables}
        given = dict(values or {})
        given.update(more)
        for key, value in given.items():
            out[self._names.get(key, key)] = value
        for full, local, domain in self.user_triples:
            value = out.get(full)
            if value is None:
                continue
            user_part, domain_part = split_user(value)
            if given.get(local) is None:
                out[local] = user_part
            if given.get(domain) is None:
                out[domain] = domain_part
        user = out.get("user")
        if "domain_first" in out and user is not None:
            first, last = _domain_first_last(user)
            if given.get("domain_first") is None:
                out["domain_first"] = first
            if given.get("domain_last") is None:
                out["domain_last"] = last
        return out


def split_user(user: str) -> tuple[str, str | None]:
    """``user@domain`` -> (``user``, ``domain``); the domain is None without an ``@``."""
    local, at, domain = user.partition("@")
    return local, (domain if at else None)


def _domain_first_last(user: str) -> tuple[str | None, str | None]:
    _, at, domain = user.partition("@")
    if not at:
        return None, None
    return domain.split("@", 1)[0], domain.rsplit("@", 1)[-1]


_USER_TRIPLE = ("user", "username", "domain")

AUTH = VariableContext(
    "auth",
    (
        Variable("user", "u", doc="full username (user@domain)"),
        Variable("username", "n", doc="user part of user@domain"),
        Variable("domain", "d", doc="domain part of user@domain"),
        Variable("service", "s", doc="imap, pop3, lmtp, doveadm, ..."),
        Variable("home", "h"),
        Variable("local_ip", "l", ("lip",)),
        Variable("remote_ip", "r", ("rip",)),
        Variable("pid", "p", doc="process ID of the authentication client"),
        Variable("password", "w", doc="plaintext password from a plaintext mechanism"),
        Variable("%!", "!", doc="ID of the current passdb/userdb (letter only)"),
        Variable("mechanism", "m", ("mech",)),
        Variable("secured", "c"),
        Variable("local_port", "a", ("lport",)),
        Variable("remote_port", "b", ("rport",)),
        Variable("cert", "k"),
        Variable("login_user"),
        Variable("login_username"),
        Variable("login_domain"),
        Variable("session"),
        Variable("real_local_ip", None, ("real_lip",)),
        Variable("real_remote_ip", None, ("real_rip",)),
        Variable("real_local_port", None, ("real_lport",)),
        Variable("real_remote_port", None, ("real_rport",)),
        Variable("domain_first"),
        Variable("domain_last"),
        Variable("master_user"),
        Variable("session_pid"),
        Variable("original_user", None, ("orig_user",)),
        Variable("original_username", None, ("orig_username",)),
        Variable("original_domain", None, ("orig_domain",)),
        Variable("auth_user"),
        Variable("auth_username"),
        Variable("auth_domain"),
        Variable("local_name"),
        Variable("client_id"),
    ),
    user_triples=(
        _USER_TRIPLE,
        ("auth_user", "auth_username", "auth_domain"),
        ("login_user", "login_username", "login_domain"),
        ("original_user", "original_username", "original_domain"),
    ),
)

# Mail processes (mail_location, namespaces, plugin settings, mail_log_prefix).
MAIL_USER = VariableContext(
    "mail_user",
    (
        Variable("user", "u"),
        Variable("username", "n"),
        Variable("domain", "d"),
        Variable("service", "s"),
        Variable("home", "h"),
        Variable("local_ip", "l", ("lip",)),
        Variable("remote_ip", "r", ("rip",)),
        Variable("pid", "p"),
        Variable("uid", "i"),
        Variable("gid"),
        Variable("session"),
        Variable("auth_user"),
        Variable("auth_username"),
        Variable("auth_domain"),
        Variable("hostname", doc="the hostname setting (overrides the built-in)"),
    ),
    user_triples=(_USER_TRIPLE, ("auth_user", "auth_username", "auth_domain")),
)

# Login processes (login_log_format_elements, login proxy settings).
LOGIN = VariableContext(
    "login",
    (
        Variable("user", "u"),
        Variable("username", "n"),
        Variable("domain", "d"),
        Variable("service", "s"),
        Variable("home", "h"),
        Variable("local_ip", "l", ("lip",)),
        Variable("remote_ip", "r", ("rip",)),
        Variable("pid", "p"),
        Variable("mechanism", "m", ("mech",)),
        Variable("local_port", "a", ("lport",)),
        Variable("remote_port", "b", ("rport",)),
        Variable("secured", "c"),
        Variable("ssl_security", "k"),
        Variable("mail_pid", "e"),
        Variable("session"),
        Variable("real_local_ip", None, ("real_lip",)),
        Variable("real_remote_ip", None, ("real_rip",)),
        Variable("real_local_port", None, ("real_lport",)),
        Variable("real_remote_port", None, ("real_rport",)),
        Variable("original_user", None, ("orig_user",)),
        Variable("original_username", None, ("orig_username",)),
        Variable("original_domain", None, ("orig_domain",)),
        Variable("auth_user"),
        Variable("auth_username"),
        Variable("auth_domain"),
        Variable("listener"),
        Variable("local_name"),
    ),
    user_triples=(
        _USER_TRIPLE,
        ("auth_user", "auth_username", "auth_domain"),
        ("original_user", "original_username", "original_domain"),
    ),
)

# login_log_format: %s is the expanded login_log_format_elements, %$ the log message.
LOGIN_LOG_FORMAT = VariableContext(
    "login_log_format",
    (Variable("elements", "s"), Variable("message", "$")),
)
