"""``dovecot-sql.conf.ext``: how the sql passdb/userdb reach the database.

    driver = mysql
    connect = host=127.0.0.1 dbname=mail user=dovecot password=secret
    default_pass_scheme = SHA512-CRYPT
    password_query = SELECT username AS user, password FROM mailbox WHERE username = '%u'

Defaults and messages are Dovecot 2.3's (auth/db-sql.c); the connect string is split into
its ``key=value`` words, as the drivers read it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace

from pydovecot.config.errors import ConfigError
from pydovecot.config.ext import reader
from pydovecot.config.ext.reader import BOOL, ExtSetting

DRIVERS = ("mysql", "pgsql", "sqlite", "cassandra")
SETTINGS = {s.name: s for s in (
    ExtSetting("driver"), ExtSetting("connect"), ExtSetting("password_query"), ExtSetting("user_query"),
    ExtSetting("update_query"), ExtSetting("iterate_query"), ExtSetting("default_pass_scheme"),
    ExtSetting("userdb_warning_disable", BOOL),
)}


@dataclass(frozen=True)
class SqlDriverConf:
    path: str
    driver: str
    connect: str
    password_query: str = "SELECT username, domain, password FROM users WHERE username = '%n' AND domain = '%d'"
    user_query: str = "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'"
    update_query: str = "UPDATE users SET password = '%w' WHERE username = '%n' AND domain = '%d'"
    iterate_query: str = "SELECT username, domain FROM users"
    default_pass_scheme: str = "MD5"
    userdb_warning_disable: bool = False
    explicit: frozenset[str] = field(default_factory=frozenset)  # keys the file set

    def connect_params(self) -> dict[str, str]:
        """``host=... dbname=...`` as a dict (values may be quoted, as libpq allows)."""
        params: dict[str, str] = {}
        for word in shlex.split(self.connect):
            key, _, value = word.partition("=")
            params[key] = value
        return params


def load(path: str) -> SqlDriverConf:
    """Reads a dovecot-sql.conf.ext; ConfigError with file and line on the first error.
    Sections are skipped whole, as Dovecot's reader skips them for this file."""
    values: dict[str, object] = {}
    depth = 0
    for st in reader.statements(path):
        if st.kind in ("open", "close"):
            depth += 1 if st.kind == "open" else -1
            continue
        if depth:
            continue
        setting = SETTINGS.get(st.key)
        if setting is None:
            raise ConfigError(f"Unknown setting: {st.key}", st.path, st.line)
        try:
            values[st.key] = reader.convert(setting, st.value)
        except ValueError as e:
            raise ConfigError(str(e), st.path, st.line) from None
    if "driver" not in values:
        raise ConfigError(f"sql: driver not set in configuration file {path}")
    if "connect" not in values:
        raise ConfigError(f"sql: connect string not set in configuration file {path}")
    conf = SqlDriverConf(path=path, driver=str(values["driver"]), connect=str(values["connect"]))
    others = {k: v for k, v in values.items() if k not in ("driver", "connect")}
    return replace(conf, **others, explicit=frozenset(values))  # type: ignore[arg-type]


def fatal_message(path: str, error: ConfigError) -> str:
    """The line the auth process logs (after "Fatal: ") when it cannot use the file."""
    if error.path is None:
        return error.message
    return f"sql {path}: {error}"
