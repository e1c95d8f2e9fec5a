"""passwd-file: ``user:password:uid:gid:gecos:home:shell:extra_fields`` files.

Shared by the passwd-file passdb and userdb (``PasswdFile``, ``PasswdFileDb``). The file is
read again whenever its inode, size or mtime change, checked on every lookup. The path may hold
%-variables (``/etc/dovecot/%d/passwd``): then one file per expanded path is kept.

Extra fields are space-separated ``key=value`` words; their values are %-expanded per lookup.
``args = [scheme=CRYPT] [username_format=%u] <path>`` (the scheme is passdb-only).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydovecot.auth.fields import parse_gid, parse_uid
from pydovecot.auth.mechanisms.events import PassdbResult

from .interface import PassdbConfigError
from .password import StoredPasswordPassdb

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest

DEFAULT_SCHEME = "CRYPT"


@dataclass(frozen=True)
class PasswdFileUser:
    user: str
    password: str
    uid: int | None
    gid: int | None
    home: str | None
    extra_fields: tuple[str, ...]


class PasswdFileError(Exception):
    """The file cannot be read (an internal failure, not an unknown user)."""


@dataclass
class PasswdFile:
    """One passwd-file, parsed; ``refresh()`` re-reads it when it changed on disk."""

    path: str
    users: dict[str, PasswdFileUser] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _stamp: tuple[int, int, int] | None = None

    def unchanged(self) -> bool:
        """Whether the file is as last read: one stat(), cheap enough for the event loop (every
        login looks twice; a thread round trip each time cost more than the stat). Raises as
        ``refresh()`` does."""
        return self._stat() == self._stamp

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PasswdFileError(f"stat({self.path}) failed: {exc.strerror}") from exc
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def refresh(self) -> bool:
        """Re-read if changed (blocking: call from a worker thread). True when it was read."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except PermissionError as exc:
            raise PasswdFileError(eacces_error("open", self.path)) from exc
        except OSError as exc:
            raise PasswdFileError(f"open({self.path}) failed: {exc.strerror}") from exc
        self.users, self.warnings = parse_passwd_file(data.decode("utf-8", "surrogateescape"), self.path)
        self._stamp = stamp
        return True


def _named(number: int, lookup: object) -> str:
    try:
        return f"{number}({lookup(number)[0]})"  # type: ignore[operator]
    except KeyError:
        return str(number)


def eacces_error(func: str, path: str) -> str:
    """Dovecot's eacces_error_get() for a file opened for reading: who we are and what is
    missing -- under privilege separation the auth process reads as default_internal_user, so a
    root-only passwd-file fails with ``... (euid=108(dovecot) egid=111(dovecot) missing +r perm:
    PATH, dir owned by 0:0 mode=0755)``."""
    import grp
    import pwd

    text = (f"{func}({path}) failed: Permission denied (euid={_named(os.geteuid(), pwd.getpwuid)} "
            f"egid={_named(os.getegid(), grp.getgrgid)}")
    directory = os.path.dirname(path) or "."
    missing = next((f" missing +x perm: {d}" for d in _parents(directory) if not os.access(d, os.X_OK)), None)
    if missing is None and not os.access(path, os.R_OK):
        missing = f" missing +r perm: {path}"
    text += missing or ""
    try:
        st = os.stat(directory)
        text += f", dir owned by {st.st_uid}:{st.st_gid} mode={st.st_mode & 0o7777:04o}"
    except OSError:
        pass
    return text + ")"


def _parents(directory: str) -> list[str]:
    """``directory`` and the directories above it, from the top down."""
    out = [directory]
    while (parent := os.path.dirname(out[-1])) not in ("", out[-1]):
        out.append(parent)
    return out[::-1]


def parse_passwd_file(text: str, path: str) -> tuple[dict[str, PasswdFileUser], list[str]]:
    users: dict[str, PasswdFileUser] = {}
    warnings: list[str] = []
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        name = parts[0]
        if not name:
            continue
        if name in users:
            warnings.append(f"passwd-file {path}: User {name} exists more than once")
            continue
        # A missing or empty password is the empty string, which never matches (Dovecot logs
        # "Password mismatch" for it); only nopassword lets such a user in.
        password = parts[1] if len(parts) > 1 else ""
        uid = gid = None
        if len(parts) > 2 and parts[2]:
            uid = parse_uid(parts[2])
            if uid is None:
                warnings.append(f"passwd-file {path}: User {name} has invalid UID '{parts[2]}'")
                continue
        if len(parts) > 3 and parts[3]:
            gid = parse_gid(parts[3])
            if gid is None:
                warnings.append(f"passwd-file {path}: User {name} has invalid GID '{parts[3]}'")
                continue
        home = parts[5] if len(parts) > 5 and parts[5] else None
        # Anything after the shell, colons included, is the extra fields.
        extra = ":".join(parts[7:]).split() if len(parts) > 7 else []
        users[name] = PasswdFileUser(name, password, uid, gid, home, tuple(extra))
    return users, warnings


def parse_args(args: str, *, allow_scheme: bool) -> tuple[str, str, str]:
    """(path, username_format, scheme) from the driver args."""
    scheme = DEFAULT_SCHEME
    username_format = "%u"
    words = args.split()
    path_words: list[str] = []
    for i, word in enumerate(words):
        if word.startswith("scheme=") and allow_scheme:
            scheme = word[7:].upper()
        elif word.startswith("username_format="):
            username_format = word[16:]
        else:
            path_words = words[i:]
            break
    if not path_words:
        raise PassdbConfigError("passwd-file: Missing args")
    return " ".join(path_words), username_format, scheme


class PasswdFileDb:
    """The files behind one passwd-file driver, and the user lookup (db_passwd_file_lookup)."""

    def __init__(self, path: str, username_format: str) -> None:
        self.path = path
        self.username_format = username_format
        self.templated = "%" in path
        self._files: dict[str, PasswdFile] = {}
        self._lock = asyncio.Lock()

    async def lookup(self, request: AuthRequest) -> PasswdFileUser | None:
        """The user's line, or None when unknown (logged); raises PasswdFileError."""
        path = self.path
        if self.templated:
            path, error = request.expand(self.path)
            if error is not None:
                raise PasswdFileError(f"Failed to expand passwd-file path {self.path}: {error}")
        async with self._lock:
            pwfile = self._files.setdefault(path, PasswdFile(path))
            try:
                if not pwfile.unchanged() and await asyncio.to_thread(pwfile.refresh):
                    for warning in pwfile.warnings:
                        request.log("warning", warning, subsystem="passwd-file")
            except FileNotFoundError as exc:
                if not self.templated:
                    raise PasswdFileError(f"stat({path}) failed: No such file or directory") from exc
                request.log("debug", f"missing passwd file: {path}")
                request.log("info", "unknown user")
                return None
        username, error = request.expand(self.username_format)
        if error is not None:
            raise PasswdFileError(f"Failed to expand username_format={self.username_format}: {error}")
        request.log("debug", f"lookup: user={username} file={path}")
        found = pwfile.users.get(username)
        if found is None:
            request.log("info", "unknown user")
        return found

    async def iterate(self) -> AsyncIterator[str]:
        pwfile = self._files.setdefault(self.path, PasswdFile(self.path))
        await asyncio.to_thread(pwfile.refresh)
        for name in list(pwfile.users):
            yield name


def add_extra_fields(request: AuthRequest, extra: tuple[str, ...], default_scheme: str | None) -> bool:
    """Expand and set a line's extra fields; False after an expansion error (logged)."""
    for word in extra:
        key, eq, value = word.partition("=")
        if request.userdb_lookup and not key.startswith("userdb_"):
            continue
        if eq:
            value, error = request.expand(value)
            if error is not None:
                request.log("error", f"Failed to expand extra field {word}: {error}")
                return False
        if request.userdb_lookup:
            # A passwd-file userdb uses only its userdb_* extra fields.
            if key.startswith("userdb_"):
                request.set_userdb_field(key[7:], value)
        else:
            request.set_field(key, value, default_scheme)
    return True


class PasswdFilePassdb(StoredPasswordPassdb):
    driver = "passwd-file"

    def __init__(self, path: str, *, scheme: str = DEFAULT_SCHEME, username_format: str = "%u") -> None:
        self.db = PasswdFileDb(path, username_format)
        self.default_pass_scheme = scheme

    @classmethod
    def from_args(cls, args: str) -> PasswdFilePassdb:
        path, username_format, scheme = parse_args(args, allow_scheme=True)
        return cls(path, scheme=scheme, username_format=username_format)

    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        try:
            pu = await self.db.lookup(request)
        except PasswdFileError as exc:
            request.log("error", str(exc))
            return PassdbResult.INTERNAL_FAILURE
        if pu is None:
            return PassdbResult.USER_UNKNOWN
        request.set_field("password", pu.password, self.default_pass_scheme)
        if not add_extra_fields(request, pu.extra_fields, self.default_pass_scheme):
            return PassdbResult.INTERNAL_FAILURE
        return PassdbResult.OK

    def iterate(self) -> AsyncIterator[str] | None:
        return None if self.db.templated else self.db.iterate()

    async def close(self) -> None:
        return None
