"""ChainBackend's mapping of the chain's answers, and service settings taken from the config."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydovecot.auth.backend import ChainBackend, service_from_settings, service_settings
from pydovecot.auth.lookup import AuthChain
from pydovecot.auth.mechanisms import PassdbResult
from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.config import load

INFO = RequestInfo(service="imap", remote_ip="192.0.2.7", mechanism="PLAIN")


def _config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "users").write_text(
        "carol:{PLAIN}pw:1002:1002::/home/carol::user=renamed nologin reason=away userdb_quota_rule=*:storage=1G\n"
        "dave:{PLAIN}pw:1003:1003::/home/dave::\n")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"""protocols =
ssl = no
{extra}
passdb {{
  driver = passwd-file
  args = {tmp_path}/users
}}
userdb {{
  driver = passwd-file
  args = {tmp_path}/users
}}
""")
    return conf


def _backend(conf: Path) -> ChainBackend:
    return ChainBackend(AuthChain.from_settings(load(str(conf)).lookup(service="auth")))


def test_verify_plain_maps_rename_and_fields(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path))
    answer = asyncio.run(backend.verify_plain("carol", b"pw", INFO))
    assert answer.result is PassdbResult.OK
    assert answer.user == "renamed"
    assert answer.fields.visible() == "nologin\treason=away"
    # The rename and the userdb_ prefetch field travel hidden: counted, not written.
    assert [f.key for f in answer.fields.items if f.hidden] == ["user", "userdb_quota_rule"]


def test_verify_plain_failures_carry_no_fields(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path))
    wrong = asyncio.run(backend.verify_plain("dave", b"nope", INFO))
    unknown = asyncio.run(backend.verify_plain("nobody", b"pw", INFO))
    assert (wrong.result, wrong.user, wrong.fields.items) == (PassdbResult.PASSWORD_MISMATCH, None, ())
    assert (unknown.result, unknown.fields.items) == (PassdbResult.USER_UNKNOWN, ())


def test_lookup_credentials_returns_raw_credentials(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path))
    answer = asyncio.run(backend.lookup_credentials("dave", "PLAIN", INFO))
    assert (answer.result, answer.credentials, answer.user) == (PassdbResult.OK, b"pw", None)
    missing = asyncio.run(backend.lookup_credentials("nobody", "PLAIN", INFO))
    assert (missing.result, missing.credentials) == (PassdbResult.USER_UNKNOWN, None)


def test_lookup_user_and_iterate(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path))
    answer = asyncio.run(backend.lookup_user("dave", INFO))
    assert (answer.result, answer.user, answer.fields.visible()) == (
        UserdbResult.OK, "dave", "uid=1003\tgid=1003\thome=/home/dave")
    assert asyncio.run(backend.lookup_user("nobody", INFO)).result is UserdbResult.USER_UNKNOWN

    async def users() -> list[str]:
        return [user async for user in backend.iterate_users(INFO)]

    assert asyncio.run(users()) == ["carol", "dave"]


def test_service_settings_from_config(tmp_path: Path) -> None:
    conf = _config(tmp_path, "auth_mechanisms = plain login cram-md5\nauth_failure_delay = 3 secs\n"
                             "auth_username_format = %Ln\nauth_username_translation = +@\n"
                             "auth_realms = a.example b.example\nhostname = mx.example\n"
                             "auth_anonymous_username = guest\nauth_username_chars =\n")
    settings = service_settings(load(str(conf)).lookup(service="auth"))
    assert settings.mechanisms == "plain login cram-md5"
    assert settings.failure_delay == 3.0
    assert settings.realms == ("a.example", "b.example")
    assert (settings.hostname, settings.anonymous_username) == ("mx.example", "guest")
    rules = settings.username_rules
    assert (rules.username_chars, rules.username_translation) == ("", "+@")
    assert rules.username_format is not None and rules.username_format("Jane@Example.ORG") == "jane"
    service = service_from_settings(load(str(conf)).lookup(service="auth"))
    assert service.mechanism_names == ["PLAIN", "LOGIN", "CRAM-MD5"]


def test_cache_flush_counts_cached_entries(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path, "auth_cache_size = 1M\nauth_cache_ttl = 1 hours"))
    assert backend.flush_cache([]) == 0
    asyncio.run(backend.verify_plain("dave", b"pw", INFO))
    asyncio.run(backend.lookup_user("dave", INFO))
    assert backend.flush_cache(["nobody"]) == 0
    assert backend.flush_cache(["dave"]) == 2
    assert backend.flush_cache([]) == 0


def test_no_cache_flushes_nothing(tmp_path: Path) -> None:
    backend = _backend(_config(tmp_path))
    asyncio.run(backend.verify_plain("dave", b"pw", INFO))
    assert backend.flush_cache([]) == 0
