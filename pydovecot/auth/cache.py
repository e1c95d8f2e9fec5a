"""The auth cache: passdb and userdb answers kept in memory, as Dovecot 2.3's auth cache does.

Settings: ``auth_cache_size`` (bytes; 0 turns the cache off), ``auth_cache_ttl`` (how long a
found user is kept), ``auth_cache_negative_ttl`` (how long "user unknown" is kept; 0 keeps none).

What is cached is what the driver *answered*, not what the chain made of it: the lookup's
result and the fields the driver set on the request (replayed through the same ``set_field`` /
``set_userdb_field`` calls on a hit, so allow_nets, username changes and userdb_* fields act on
the new request exactly as they did on the first). For a passdb that includes the stored
password, so a cached user's password is still checked against the stored hash: a wrong
password never gets OK from the cache. As in Dovecot, a wrong password answered from an entry
whose last check succeeded (the password may have changed) or whose negative TTL has passed
goes to the database again. Internal failures are never cached.

Cache key (simpler than Dovecot's per-driver ``cache_key``, which is derived from the %-variables
the query or path uses): ``kind, chain position, driver name, user``, plus the service when the
driver's args use ``%s`` / ``%{service}``. Only drivers that look a user up (passwd-file, sql,
passwd, shadow) are cached; static and prefetch answer from the request itself.

Size is accounted roughly as Dovecot does: key and field text plus a fixed per-entry overhead;
the least recently used entries are dropped to stay within ``auth_cache_size``.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydovecot.auth.fields import PASSWORD_MISMATCH_MESSAGE
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.password import StoredPasswordPassdb, credentials_for, verify_password
from pydovecot.auth.userdb.interface import Userdb, UserdbResult

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest
    from pydovecot.auth.passdb.interface import Passdb

Clock = Callable[[], float]
CACHED_USERDB_DRIVERS = frozenset({"passwd-file", "sql", "passwd"})
# Bookkeeping that every entry costs besides its text (Dovecot counts its node struct).
ENTRY_OVERHEAD = 64
_RECORDED_METHODS = ("set_field", "set_null_field", "set_userdb_field")

# One recorded call on the request: (method name, positional arguments).
FieldCall = tuple[str, tuple[Any, ...]]


@dataclass
class CacheEntry:
    user: str
    result: PassdbResult | UserdbResult
    calls: tuple[FieldCall, ...]
    created: float
    expires: float
    size: int
    last_success: bool = False  # the last password checked against this entry was right


@dataclass(frozen=True)
class CacheKey:
    kind: str  # "passdb" or "userdb"
    position: int  # index of the section in its chain: two passwd-files are two caches
    driver: str
    user: str
    service: str = ""

    def text(self) -> str:
        return f"{self.kind}\t{self.position}\t{self.driver}\t{self.user}\t{self.service}"


def template_uses_service(template: str) -> bool:
    return "%s" in template or "%{service}" in template


def _record_driver_fields(request: AuthRequest) -> tuple[list[FieldCall], Callable[[], None]]:
    """Wraps the request's field setters so the calls a driver makes are recorded; calls made
    from inside another setter (userdb_import, userdb_* fields) are not, since replaying the
    outer call repeats them. Returns the record and a function that removes the wrappers."""
    calls: list[FieldCall] = []
    depth = [0]

    def wrap(name: str) -> Callable[..., None]:
        original = getattr(request, name)

        def recorder(*args: Any) -> None:
            if depth[0] == 0:
                calls.append((name, args))
            depth[0] += 1
            try:
                original(*args)
            finally:
                depth[0] -= 1

        return recorder

    for name in _RECORDED_METHODS:
        setattr(request, name, wrap(name))

    def unwrap() -> None:
        for name in _RECORDED_METHODS:
            delattr(request, name)

    return calls, unwrap


def _replay(request: AuthRequest, calls: tuple[FieldCall, ...]) -> None:
    for name, args in calls:
        getattr(request, name)(*args)


def _entry_size(key: CacheKey, calls: tuple[FieldCall, ...]) -> int:
    size = ENTRY_OVERHEAD + len(key.text().encode("utf-8", "surrogateescape"))
    for name, args in calls:
        size += len(name) + sum(len(str(a).encode("utf-8", "surrogateescape")) for a in args)
    return size


class AuthCache:
    """A size-bounded LRU of passdb/userdb answers with per-entry expiry."""

    def __init__(self, size: int, ttl: float, negative_ttl: float, *, clock: Clock = time.monotonic) -> None:
        self.max_size = size
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.clock = clock
        self.used_size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, CacheEntry] = OrderedDict()

    @classmethod
    def from_settings(cls, node: object, *, clock: Clock = time.monotonic) -> AuthCache | None:
        """The cache configured by ``auth_cache_*``, or None when ``auth_cache_size = 0``."""
        get = node.get  # type: ignore[attr-defined]
        size = int(get("auth_cache_size"))
        if size <= 0:
            return None
        return cls(size, float(get("auth_cache_ttl")), float(get("auth_cache_negative_ttl")), clock=clock)

    def __len__(self) -> int:
        return len(self._entries)

    # --- storage -------------------------------------------------------------------------------

    def get(self, key: CacheKey) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if self.clock() >= entry.expires:
            self._remove(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: CacheKey, result: PassdbResult | UserdbResult,
            calls: tuple[FieldCall, ...]) -> CacheEntry | None:
        """Stores a driver's answer; only found users and unknown users are kept."""
        if result in (PassdbResult.OK, UserdbResult.OK):
            ttl = self.ttl
        elif result in (PassdbResult.USER_UNKNOWN, UserdbResult.USER_UNKNOWN):
            ttl = self.negative_ttl
            calls = ()  # what an unknown user's lookup set is of no use
        else:
            return None  # internal failures (and anything else) ask the database again
        if ttl <= 0:
            return None
        size = _entry_size(key, calls)
        if size > self.max_size:
            return None
        if key in self._entries:
            self._remove(key)
        now = self.clock()
        entry = CacheEntry(key.user, result, calls, now, now + ttl, size)
        self._entries[key] = entry
        self.used_size += size
        while self.used_size > self.max_size:
            self._remove(next(iter(self._entries)))
        return entry

    def _remove(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self.used_size -= entry.size

    def flush(self, users: list[str] | None = None) -> int:
        """Drops every entry (or those of ``users``); the number dropped (CACHE-FLUSH)."""
        if not users:
            count = len(self._entries)
            self._entries.clear()
            self.used_size = 0
            return count
        wanted = set(users)
        doomed = [key for key, entry in self._entries.items() if entry.user in wanted]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    # --- passdb lookups --------------------------------------------------------------------------

    @staticmethod
    def passdb_cacheable(db: Passdb) -> bool:
        return isinstance(db, StoredPasswordPassdb)

    def _passdb_key(self, position: int, db: Passdb, args: str, request: AuthRequest) -> CacheKey:
        service = request.service if template_uses_service(args) else ""
        return CacheKey("passdb", position, db.driver, request.user, service)

    async def _passdb_lookup(self, key: CacheKey, db: StoredPasswordPassdb,
                             request: AuthRequest) -> tuple[PassdbResult, CacheEntry | None]:
        calls, unwrap = _record_driver_fields(request)
        try:
            result = await db._lookup(request)  # noqa: SLF001 - the lookup half of the driver
        finally:
            unwrap()
        return result, self.put(key, result, tuple(calls))

    async def verify_plain(self, position: int, db: Passdb, args: str, request: AuthRequest,
                           password: bytes) -> PassdbResult:
        """``db.verify_plain`` answered from the cache where the cache knows the user."""
        if not isinstance(db, StoredPasswordPassdb):
            return await db.verify_plain(request, password)
        key = self._passdb_key(position, db, args, request)
        cached = self.get(key)
        if cached is not None:
            if cached.result is not PassdbResult.OK:
                request.log("debug", "cache hit: user unknown")
                return cached.result  # type: ignore[return-value]
            # Check on a scratch copy first: a mismatch may send us to the database instead.
            probe = dataclasses.replace(request, extra_fields=copy.deepcopy(request.extra_fields),
                                        userdb_reply=copy.deepcopy(request.userdb_reply),
                                        passdb_password=None, log_callback=None)
            _replay(probe, cached.calls)
            result = await verify_password(probe, password, probe.passdb_password, db.default_pass_scheme)
            neg_expired = self.clock() >= cached.created + self.negative_ttl
            if result is PassdbResult.PASSWORD_MISMATCH and (cached.last_success or neg_expired):
                # The password may have changed since: ask the database.
                cached.last_success = False
                request.log("debug", "cache hit: password mismatch, checking the passdb")
            else:
                request.log("debug", "cache hit")
                _replay(request, cached.calls)
                if result is PassdbResult.PASSWORD_MISMATCH:
                    request.log("info", PASSWORD_MISMATCH_MESSAGE)
                cached.last_success = result is PassdbResult.OK
                return result
        else:
            request.log("debug", "cache miss")
        result, stored = await self._passdb_lookup(key, db, request)
        if result is not PassdbResult.OK:
            return result
        result = await verify_password(request, password, request.passdb_password, db.default_pass_scheme)
        if stored is not None:
            stored.last_success = result is PassdbResult.OK
        return result

    async def lookup_credentials(self, position: int, db: Passdb, args: str, request: AuthRequest,
                                 scheme: str) -> tuple[PassdbResult, bytes | None]:
        """``db.lookup_credentials`` answered from the cache where the cache knows the user."""
        if not isinstance(db, StoredPasswordPassdb):
            return await db.lookup_credentials(request, scheme)
        key = self._passdb_key(position, db, args, request)
        cached = self.get(key)
        if cached is not None:
            request.log("debug", "cache hit")
            _replay(request, cached.calls)
            result: PassdbResult = cached.result  # type: ignore[assignment]
        else:
            request.log("debug", "cache miss")
            result, _ = await self._passdb_lookup(key, db, request)
        if result is not PassdbResult.OK:
            return result, None
        return await credentials_for(request, request.passdb_password, scheme, db.default_pass_scheme)

    # --- userdb lookups --------------------------------------------------------------------------

    async def lookup_user(self, position: int, db: Userdb, args: str, request: AuthRequest) -> UserdbResult:
        """``db.lookup`` answered from the cache where the cache knows the user."""
        if db.driver not in CACHED_USERDB_DRIVERS:
            return await db.lookup(request)
        service = request.service if template_uses_service(args) else ""
        key = CacheKey("userdb", position, db.driver, request.user, service)
        cached = self.get(key)
        if cached is not None:
            request.log("debug", "cache hit")
            _replay(request, cached.calls)
            return cached.result  # type: ignore[return-value]
        request.log("debug", "cache miss")
        calls, unwrap = _record_driver_fields(request)
        try:
            result = await db.lookup(request)
        finally:
            unwrap()
        self.put(key, result, tuple(calls))
        return result
