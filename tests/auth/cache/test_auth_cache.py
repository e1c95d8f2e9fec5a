"""The auth cache (auth_cache_size/ttl/negative_ttl) inserted into the passdb/userdb chain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from doveadm.commands.auth import flush_auth_cache
from pydovecot.auth.backend import service_from_settings
from pydovecot.auth.cache import AuthCache
from pydovecot.auth.fields import AuthRequest
from pydovecot.auth.lookup import AuthChain, PassdbEntry, UserdbEntry
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.passwd_file import PasswdFilePassdb
from pydovecot.auth.userdb.interface import UserdbResult
from pydovecot.auth.userdb.passwd_file import PasswdFileUserdb
from pydovecot.config import load


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingPasswdFile(PasswdFilePassdb):
    """A passwd-file passdb that counts how often the file is really consulted."""

    lookups = 0

    async def _lookup(self, request: AuthRequest) -> PassdbResult:
        self.lookups += 1
        return await super()._lookup(request)


class CountingPasswdFileUserdb(PasswdFileUserdb):
    lookups = 0

    async def lookup(self, request: AuthRequest) -> UserdbResult:
        self.lookups += 1
        return await super().lookup(request)


def _setup(tmp_path: Path, lines: str, *, size: int = 1 << 20, ttl: float = 60,
           negative_ttl: float = 30) -> tuple[AuthChain, CountingPasswdFile, FakeClock, Path]:
    path = tmp_path / "users"
    path.write_text(lines)
    db = CountingPasswdFile(str(path))
    clock = FakeClock()
    chain = AuthChain([PassdbEntry(db)], cache=AuthCache(size, ttl, negative_ttl, clock=clock))
    return chain, db, clock, path


def _verify(chain: AuthChain, user: str, password: bytes) -> tuple[PassdbResult, AuthRequest]:
    request = chain.new_request(user, mechanism="PLAIN")
    outcome = asyncio.run(chain.verify_plain(request, password))
    return outcome.result, request


def test_hit_miss_and_expiry(tmp_path: Path) -> None:
    chain, db, clock, _ = _setup(tmp_path, "a:{PLAIN}pw::::::userdb_home=/home/a quota=1\n")
    result, request = _verify(chain, "a", b"pw")
    assert result is PassdbResult.OK and db.lookups == 1
    result, cached_request = _verify(chain, "a", b"pw")
    assert result is PassdbResult.OK and db.lookups == 1
    # The fields the passdb returned come back from the cache as they came from the file.
    assert cached_request.reply_fields() == request.reply_fields() == ["user=a", "quota=1"]
    assert cached_request.userdb_reply is not None and cached_request.userdb_reply.as_dict() == {"home": "/home/a"}
    assert chain.cache is not None and (chain.cache.hits, chain.cache.misses) == (1, 1)
    clock.now += 59
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK and db.lookups == 1
    clock.now += 1  # auth_cache_ttl reached
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK and db.lookups == 2


def test_credentials_lookup_shares_the_entry(tmp_path: Path) -> None:
    chain, db, _, _ = _setup(tmp_path, "a:{PLAIN}pw\n")
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK
    request = chain.new_request("a", mechanism="CRAM-MD5")
    outcome = asyncio.run(chain.lookup_credentials(request, "PLAIN"))
    assert (outcome.result, outcome.credentials, db.lookups) == (PassdbResult.OK, b"pw", 1)


def test_wrong_password_never_succeeds_from_cache(tmp_path: Path) -> None:
    chain, db, clock, path = _setup(tmp_path, "a:{PLAIN}pw\n")
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK
    # Right after a success, a mismatch goes to the file (the password may have changed there).
    assert _verify(chain, "a", b"wrong")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 2
    # After a failure, mismatches are answered from the cached hash, still as mismatches.
    assert _verify(chain, "a", b"wrong")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 2
    assert _verify(chain, "a", b"other")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 2
    # The right one still verifies against the cached hash.
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK and db.lookups == 2
    # A changed password: the old one no longer works once a mismatch re-reads the file.
    path.write_text("a:{PLAIN}new\n")
    clock.now += 1
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert _verify(chain, "a", b"new")[0] is PassdbResult.OK and db.lookups == 3
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.PASSWORD_MISMATCH


def test_mismatch_rechecks_after_negative_ttl(tmp_path: Path) -> None:
    chain, db, clock, _ = _setup(tmp_path, "a:{PLAIN}pw\n", ttl=600, negative_ttl=30)
    assert _verify(chain, "a", b"x")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 1
    assert _verify(chain, "a", b"x")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 1
    clock.now += 30
    assert _verify(chain, "a", b"x")[0] is PassdbResult.PASSWORD_MISMATCH and db.lookups == 2


def test_negative_caching(tmp_path: Path) -> None:
    chain, db, clock, _ = _setup(tmp_path, "a:{PLAIN}pw\n", ttl=600, negative_ttl=30)
    assert _verify(chain, "nobody", b"x")[0] is PassdbResult.USER_UNKNOWN and db.lookups == 1
    assert _verify(chain, "nobody", b"x")[0] is PassdbResult.USER_UNKNOWN and db.lookups == 1
    clock.now += 30
    assert _verify(chain, "nobody", b"x")[0] is PassdbResult.USER_UNKNOWN and db.lookups == 2


def test_negative_ttl_zero_caches_no_unknown_users(tmp_path: Path) -> None:
    chain, db, _, _ = _setup(tmp_path, "a:{PLAIN}pw\n", negative_ttl=0)
    _verify(chain, "nobody", b"x")
    _verify(chain, "nobody", b"x")
    assert db.lookups == 2 and chain.cache is not None and len(chain.cache) == 0


def test_internal_failure_is_not_cached(tmp_path: Path) -> None:
    chain, db, _, path = _setup(tmp_path, "")
    path.unlink()
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.INTERNAL_FAILURE
    assert chain.cache is not None and len(chain.cache) == 0
    path.write_text("a:{PLAIN}pw\n")
    assert _verify(chain, "a", b"pw")[0] is PassdbResult.OK and db.lookups == 2


def test_size_eviction_is_lru(tmp_path: Path) -> None:
    chain, db, _, _ = _setup(tmp_path, "a:{PLAIN}pw\nb:{PLAIN}pw\nc:{PLAIN}pw\n")
    assert chain.cache is not None
    _verify(chain, "a", b"pw")
    one_entry = chain.cache.used_size
    chain.cache.max_size = 2 * one_entry  # room for two entries of this size
    _verify(chain, "b", b"pw")
    _verify(chain, "a", b"pw")  # a is now the most recently used
    _verify(chain, "c", b"pw")  # evicts b
    assert len(chain.cache) == 2 and chain.cache.used_size <= chain.cache.max_size
    lookups = db.lookups
    _verify(chain, "a", b"pw")
    assert db.lookups == lookups
    _verify(chain, "b", b"pw")
    assert db.lookups == lookups + 1


def test_flush_all_and_one_user(tmp_path: Path) -> None:
    chain, db, _, _ = _setup(tmp_path, "a:{PLAIN}pw\nb:{PLAIN}pw\n")
    assert chain.cache is not None
    for user in ("a", "b", "nobody"):
        _verify(chain, user, b"pw")
    assert chain.cache.flush(["a"]) == 1
    assert chain.cache.flush(["a"]) == 0
    _verify(chain, "b", b"pw")
    assert db.lookups == 3
    _verify(chain, "a", b"pw")
    assert db.lookups == 4
    assert chain.cache.flush() == 3 and len(chain.cache) == 0 and chain.cache.used_size == 0


def test_userdb_lookups_are_cached(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("a:{PLAIN}pw:1000:1000::/home/a::userdb_mail=maildir:~/m\n")
    userdb = CountingPasswdFileUserdb(str(path))
    clock = FakeClock()
    chain = AuthChain(userdbs=[UserdbEntry(userdb)], cache=AuthCache(1 << 20, 60, 30, clock=clock))

    def lookup(user: str) -> tuple[UserdbResult, dict[str, str]]:
        request = chain.new_request(user)
        result = asyncio.run(chain.lookup_user(request))
        return result, request.userdb_reply.as_dict() if request.userdb_reply is not None else {}

    first = lookup("a")
    assert first[0] is UserdbResult.OK and first[1]["home"] == "/home/a"
    assert lookup("a") == first and userdb.lookups == 1
    assert lookup("nobody")[0] is UserdbResult.USER_UNKNOWN
    assert lookup("nobody")[0] is UserdbResult.USER_UNKNOWN and userdb.lookups == 2
    clock.now += 60
    assert lookup("a") == first and userdb.lookups == 3


def test_service_in_key_only_when_args_use_it(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("a:{PLAIN}pw\n")
    for args, expected_lookups in ((str(path), 1), (f"{path} %s", 2)):
        db = CountingPasswdFile(str(path))
        chain = AuthChain([PassdbEntry(db, args=args)], cache=AuthCache(1 << 20, 60, 30, clock=FakeClock()))
        for service in ("imap", "pop3"):
            request = chain.new_request("a", mechanism="PLAIN", service=service)
            assert asyncio.run(chain.verify_plain(request, b"pw")).result is PassdbResult.OK
        assert db.lookups == expected_lookups


def _conf(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "users").write_text("a:{PLAIN}pw\n")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"protocols =\nssl = no\n{extra}\npassdb {{\n  driver = passwd-file\n  args = {tmp_path}/users\n}}\n")
    return conf


@pytest.mark.parametrize("size, enabled", [("0", False), ("1M", True)])
def test_from_settings(tmp_path: Path, size: str, enabled: bool) -> None:
    conf = _conf(tmp_path, f"auth_cache_size = {size}\nauth_cache_ttl = 5 mins\nauth_cache_negative_ttl = 0")
    chain = AuthChain.from_settings(load(str(conf)).lookup(service="auth"))
    if not enabled:
        assert chain.cache is None
        return
    assert chain.cache is not None
    assert (chain.cache.max_size, chain.cache.ttl, chain.cache.negative_ttl) == (1 << 20, 300, 0)
    assert chain.passdbs[0].args == f"{tmp_path}/users"


def test_flush_through_the_auth_service(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "auth_cache_size = 1M")
    service = service_from_settings(load(str(conf)).lookup(service="auth"))
    chain = service.backend.chain  # type: ignore[attr-defined]
    for user in ("a", "nobody"):
        asyncio.run(chain.verify_plain(chain.new_request(user, mechanism="PLAIN"), b"pw"))
    assert flush_auth_cache(service, ["a"]) == 1
    assert flush_auth_cache(service, []) == 1


def test_doveadm_auth_cache_flush_cli(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "auth_cache_size = 1M")
    proc = subprocess.run([sys.executable, "-m", "doveadm", "-c", str(conf), "auth", "cache", "flush", "a"],
                          capture_output=True, text=True, check=False)
    # A new doveadm process has an auth service with an empty cache.
    assert (proc.returncode, proc.stdout) == (0, "0 cache entries flushed\n"), proc.stderr
