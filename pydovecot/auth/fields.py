"""One auth request as the passdb/userdb layer sees it, and how returned fields change it.

Dovecot keeps two field lists per request: ``extra_fields`` (what the passdb returned; sent to the
login process: ``proxy``, ``host``, ``nologin``, ``reason``...) and ``userdb_reply`` (``uid``,
``gid``, ``home``, ``mail``, ``quota_rule``...). A passdb field named ``userdb_X`` goes into the
userdb reply as ``X`` (the prefetch userdb then simply returns it). A few names are not plain
fields but act on the request: ``password``, ``user``/``username``/``domain`` (rename the user),
``allow_nets``, ``nopassword``, ``noauthenticate``, ``login_user``, ``fail``. A ``:protected``
suffix sets a field only when it is still unset; ``:remove`` deletes it.

Each passdb lookup works on a snapshot: when it fails, what it added is rolled back, so that a
failed passdb never leaks fields into the final answer (``AuthFields.snapshot``/``rollback``).

``default_fields``/``override_fields`` are parsed once (``FieldTemplate``) and %-expanded with
the request's variables each time they are applied, as Dovecot's passdb/userdb templates are.
"""

from __future__ import annotations

import grp
import ipaddress
import pwd
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydovecot.varexpand import AUTH, expand

if TYPE_CHECKING:
    from pydovecot.auth.mechanisms.events import PassdbResult

# Levels a log callback receives, in Dovecot's order.
LogCallback = Callable[[str, str], None]  # (level: "debug"|"info"|"warning"|"error", line)

# Dovecot's AUTH_LOG_MSG_PASSWORD_MISMATCH.
PASSWORD_MISMATCH_MESSAGE = "Password mismatch"
_MAX_LOG_USERNAME_LEN = 64


class AuthFields:
    """Ordered name -> value fields with Dovecot's snapshot/rollback and hidden flags.

    Hidden fields (``user``, ``allow_nets``... that Dovecot records only for the cache) stay out
    of ``visible()``, the list sent to clients and printed by ``doveadm auth test``.
    """

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._hidden: set[str] = set()
        self._snapshot: tuple[dict[str, str], set[str]] = ({}, set())

    def add(self, name: str, value: str, *, hidden: bool = False) -> None:
        self._values[name] = value
        if hidden:
            self._hidden.add(name)
        else:
            self._hidden.discard(name)

    def remove(self, name: str) -> None:
        self._values.pop(name, None)
        self._hidden.discard(name)

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> list[tuple[str, str]]:
        return list(self._values.items())

    def visible(self) -> dict[str, str]:
        return {k: v for k, v in self._values.items() if k not in self._hidden}

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def snapshot(self) -> None:
        self._snapshot = (dict(self._values), set(self._hidden))

    def rollback(self) -> None:
        values, hidden = self._snapshot
        self._values = dict(values)
        self._hidden = set(hidden)


def parse_uid(value: str) -> int | None:
    """A uid given as a number or a user name (Dovecot's userdb_parse_uid); None if invalid."""
    if value.isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid
    except KeyError:
        return None


def parse_gid(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    try:
        return grp.getgrnam(value).gr_gid
    except KeyError:
        return None


def _split_scheme_prefix(password: str) -> tuple[str | None, str]:
    if password.startswith("{"):
        end = password.find("}")
        if end > 0:
            return password[1:end], password[end + 1:]
    return None, password


@dataclass
class AuthRequest:
    """The state one authentication or user lookup carries through the passdb/userdb chains."""

    user: str
    service: str = "imap"
    remote_ip: str | None = None
    local_ip: str | None = None
    remote_port: str | None = None
    local_port: str | None = None
    session: str | None = None
    mechanism: str | None = None  # "PLAIN", ...; None for a userdb-only lookup (doveadm user)
    password: bytes | None = None  # the password the client sent, for %w
    secured: bool = False
    original_user: str | None = None
    requested_login_user: str | None = None  # the login user a master user asked for
    master_user: str | None = None
    extra_fields: AuthFields = field(default_factory=AuthFields)
    userdb_reply: AuthFields | None = None
    passdb_password: str | None = None  # "{SCHEME}data" of the current passdb
    failed: bool = False  # set by a field (allow_nets mismatch, fail, empty user)
    skip_password_check: bool = False  # an earlier passdb already verified the password
    deny_passdb: bool = False  # the current passdb has deny=yes: the password is not checked
    userdb_prefetch_set: bool = False
    snapshot_userdb_prefetch_set: bool = False
    userdb_lookup_tempfailed: bool = False
    user_changed_by_lookup: bool = False
    successful: bool = False  # authentication succeeded (userdbs then run "after auth")
    userdb_lookup: bool = False  # a userdb is being consulted (selects the log prefix name)
    db_name: str = ""  # name of the passdb/userdb being consulted, for log prefixes
    db_is_master: bool = False
    # Set by the lookup chain: a credentials lookup through the passdbs, which a static userdb
    # without allow_all_users uses to learn whether a user exists.
    passdb_existence_check: Callable[[], Awaitable[PassdbResult]] | None = None
    log_callback: LogCallback | None = None
    verbose: bool = False  # auth_verbose (possibly overridden per passdb/userdb)
    debug: bool = False  # auth_debug

    def __post_init__(self) -> None:
        if self.original_user is None:
            self.original_user = self.user

    # --- %-variables ---------------------------------------------------------------------------

    def var_table(self, escape: Callable[[str], str] | None = None) -> dict[str, str | None]:
        """The auth %-variable table; ``escape`` (SQL quoting) is applied to every value."""
        values: dict[str, str | None] = {
            "user": self.user,
            "service": self.service,
            "local_ip": self.local_ip,
            "remote_ip": self.remote_ip,
            "local_port": self.local_port,
            "remote_port": self.remote_port,
            "password": None if self.password is None else self.password.decode("utf-8", "surrogateescape"),
            "mechanism": self.mechanism,
            "secured": "secured" if self.secured else None,
            "session": self.session,
            "original_user": self.original_user,
            "master_user": self.master_user,
            "login_user": self.requested_login_user,
            "auth_user": self.master_user or self.user,
        }
        if self.userdb_reply is not None:
            values["home"] = self.userdb_reply.get("home")
        table = AUTH.table(values)
        if escape is not None:
            table = {k: (None if v is None else escape(v)) for k, v in table.items()}
        return table

    def expand(self, template: str, escape: Callable[[str], str] | None = None) -> tuple[str, str | None]:
        """(expanded text, error or None) as auth_request_var_expand gives them."""
        functions = {
            "passdb": _field_function(self.extra_fields),
            "userdb": _field_function(self.userdb_reply or AuthFields()),
        }
        result = expand(template, self.var_table(escape), context=AUTH, functions=functions)
        return result.text, result.error

    # --- logging -------------------------------------------------------------------------------

    def log_identifier(self) -> str:
        from pydovecot.auth.mechanisms.username import str_sanitize

        parts = [str_sanitize(self.user, _MAX_LOG_USERNAME_LEN) if self.user else "?"]
        if self.remote_ip:
            parts.append(self.remote_ip)
        if self.requested_login_user is not None:
            parts.append("master")
        if self.session:
            parts.append(f"<{self.session}>")
        return ",".join(parts)

    def log(self, level: str, message: str, *, subsystem: str | None = None) -> None:
        """Log ``<db>(<user>,<rip>,<session>): message`` if the level is enabled."""
        if self.log_callback is None:
            return
        if level == "debug" and not self.debug:
            return
        if level == "info" and not (self.verbose or self.debug):
            return
        name = subsystem if subsystem is not None else self.db_name
        if name == "":
            # Dovecot logs a few lines (master user login) outside any passdb's prefix.
            self.log_callback(level, message)
            return
        self.log_callback(level, f"{name}({self.log_identifier()}): {message}")

    def reply_fields(self) -> list[str]:
        """The fields of a successful passdb reply (the auth client OK line), in Dovecot's
        order: ``user=``, the visible extra fields, then ``original_user`` when a lookup
        changed the name and ``auth_user`` for a master user login."""
        out = [f"user={self.user}"]
        visible = self.extra_fields.visible()
        out += [name if value == "" else f"{name}={value}" for name, value in visible.items()]
        if self.original_user is not None and self.original_user != self.user and "original_user" not in visible:
            out.append(f"original_user={self.original_user}")
        if self.master_user is not None and "auth_user" not in visible:
            out.append(f"auth_user={self.master_user}")
        return out

    # --- passdb fields -------------------------------------------------------------------------

    def init_userdb_reply(self) -> AuthFields:
        if self.userdb_reply is None:
            self.userdb_reply = AuthFields()
        return self.userdb_reply

    def set_password(self, value: str, default_scheme: str | None, *, noscheme: bool = False) -> None:
        if self.passdb_password is not None:
            self.log("error", "Multiple password values not supported")
            return
        if value.startswith("{") and not noscheme and "}" in value:
            self.passdb_password = value
        else:
            self.passdb_password = "{" + (default_scheme or "PLAIN") + "}" + value

    def _try_update_username(self, name: str, value: str) -> bool:
        if name == "user":
            new = value
        elif name == "username":
            at = self.user.find("@")
            new = value if "@" in value or at < 0 else value + self.user[at:]
        elif name == "domain":
            at = self.user.find("@")
            new = self.user + "@" + value if at < 0 else self.user[:at + 1] + value
        else:
            return False
        if new == "":
            self.log("error", "username attempted to be changed to empty")
            self.failed = True
            return True
        if new != self.user:
            self.log("debug", f"username changed {self.user} -> {new}")
            self.user = new
            self.user_changed_by_lookup = True
        return True

    def set_field(self, name: str, value: str, default_scheme: str | None = None) -> None:
        """A field returned by a passdb (auth_request_set_field)."""
        if len(name) > 10 and name.endswith(":protected"):
            name = name[:-10]
            if name in self.extra_fields:
                return
        elif len(name) > 7 and name.endswith(":remove"):
            self.extra_fields.remove(name[:-7])
            return
        if name == "password":
            self.set_password(value, default_scheme)
            return
        if name == "password_noscheme":
            self.set_password(value, default_scheme, noscheme=True)
            return
        if self._try_update_username(name, value):
            pass
        elif name == "login_user":
            self.requested_login_user = value
        elif name == "allow_nets":
            self._validate_networks(name, value, self.remote_ip)
        elif name == "allow_real_nets":
            self._validate_networks(name, value, self.remote_ip)
        elif name == "fail":
            self.failed = True
        elif name.startswith("userdb_"):
            self.userdb_prefetch_set = True
            self.init_userdb_reply()
            if name == "userdb_userdb_import":
                for item in value.split("\t"):
                    key, _, val = item.partition("=")
                    self.set_field("userdb_" + key, val, default_scheme)
                return
            self.set_userdb_field(name[7:], value)
        elif name == "noauthenticate":
            self.extra_fields.add(name, value)
            self.extra_fields.add("nopassword", "")
        elif name == "nopassword":
            if self.passdb_password is not None and "noauthenticate" not in self.extra_fields:
                if _split_scheme_prefix(self.passdb_password)[1] != "":
                    self.log("error", "nopassword set but password is non-empty")
                    return
            self.passdb_password = None
            self.extra_fields.add(name, value)
            return
        elif name == "passdb_import":
            for item in value.split("\t"):
                key, _, val = item.partition("=")
                self.set_field(key, val, default_scheme)
            return
        else:
            self.extra_fields.add(name, value)
            return
        # Recorded but hidden from clients, as Dovecot does for the cache's sake.
        self.extra_fields.add(name, value, hidden=True)

    def set_null_field(self, name: str) -> None:
        """A passdb field that came back NULL (SQL): only ``userdb_*`` ones have an effect."""
        if name.startswith("userdb_"):
            self.userdb_prefetch_set = True

    def _validate_networks(self, name: str, networks: str, remote_ip: str | None) -> None:
        found = False
        for net in networks.replace(",", " ").split():
            self.log("debug", f"{name}: Matching for network {net}")
            if net == "local":
                if not remote_ip:
                    found = True
                    break
                continue
            try:
                network = ipaddress.ip_network(net, strict=False)
            except ValueError:
                self.log("info", f"{name}: Invalid network '{net}'")
                continue
            if remote_ip and ipaddress.ip_address(remote_ip) in network:
                found = True
                break
        if found:
            return
        if not remote_ip:
            self.log("info", f"{name} check failed: Remote IP not known and 'local' missing")
        else:
            self.log("info", f"{name} check failed: IP {remote_ip} not in allowed networks")
        self.failed = True

    # --- userdb fields -------------------------------------------------------------------------

    def set_userdb_field(self, name: str, value: str) -> None:
        """A field returned by a userdb (or a passdb's ``userdb_*``): auth_request_set_userdb_field."""
        reply = self.init_userdb_reply()
        if len(name) > 10 and name.endswith(":protected"):
            name = name[:-10]
            if name in reply:
                return
        elif len(name) > 7 and name.endswith(":remove"):
            reply.remove(name[:-7])
            return
        if name == "uid":
            uid = parse_uid(value)
            if uid is None:
                self.log("error", f"Invalid UID value '{value}'")
                self.userdb_lookup_tempfailed = True
                return
            value = str(uid)
        elif name == "gid":
            gid = parse_gid(value)
            if gid is None:
                self.log("error", f"Invalid GID value '{value}'")
                self.userdb_lookup_tempfailed = True
                return
            value = str(gid)
        elif name == "tempfail":
            self.userdb_lookup_tempfailed = True
            return
        elif self._try_update_username(name, value):
            return
        elif name == "userdb_import":
            for item in value.split("\t"):
                key, _, val = item.partition("=")
                self.set_userdb_field(key, val)
            return
        elif name == "system_user":
            name = "system_groups_user"
        reply.add(name, value)

    def set_fields(self, pairs: list[tuple[str, str]], default_scheme: str | None = None) -> None:
        for name, value in pairs:
            if self.userdb_lookup:
                self.set_userdb_field(name, value)
            else:
                self.set_field(name, value, default_scheme)


def _field_function(fields: AuthFields) -> Callable[[str], str]:
    def lookup(data: str) -> str:
        name, _, default = data.partition(":")
        value = fields.get(name)
        return default if value is None else value

    return lookup


def split_key_values(text: str) -> list[tuple[str, str]]:
    """``"uid=vmail home=/x nopassword"`` -> pairs (a bare name gets an empty value)."""
    pairs = []
    for word in text.split():
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs


@dataclass(frozen=True)
class FieldTemplate:
    """``default_fields``/``override_fields`` (or static driver args): names and %-templates."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> FieldTemplate:
        return cls(tuple(split_key_values(text)))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def expanded(self, request: AuthRequest) -> tuple[list[tuple[str, str]], str | None]:
        """The fields with values expanded; the first expansion error, if any."""
        out = []
        for name, template in self.pairs:
            value, error = request.expand(template)
            if error is not None:
                return out, error
            out.append((name, value))
        return out, None

    def export_passdb(self, request: AuthRequest, default_scheme: str | None = None) -> str | None:
        """Apply as passdb fields; returns the expansion error or None."""
        pairs, error = self.expanded(request)
        if error is not None:
            return error
        for name, value in pairs:
            request.set_field(name, value, default_scheme)
        return None

    def export_userdb(self, request: AuthRequest) -> str | None:
        pairs, error = self.expanded(request)
        if error is not None:
            return error
        for name, value in pairs:
            request.set_userdb_field(name, value)
        return None
