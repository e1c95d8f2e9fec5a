"""The schemes API beyond the goldens: lookup, aliases, credentials, errors, async offloading."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pydovecot.auth import schemes
from pydovecot.auth.schemes import api, cram, registry

REAL_LISTING = (
    "SHA1 SSHA512 SCRAM-SHA-256 BLF-CRYPT PLAIN HMAC-MD5 OTP SHA512 SHA DES-CRYPT CRYPT SSHA MD5-CRYPT "
    "PLAIN-MD4 PLAIN-MD5 SCRAM-SHA-1 SHA512-CRYPT CLEAR CLEARTEXT ARGON2I ARGON2ID SSHA256 MD5 PBKDF2 "
    "SHA256 CRAM-MD5 PLAIN-TRUNC SHA256-CRYPT SMD5 DIGEST-MD5 LDAP-MD5"
)


def test_listing_is_reals_order() -> None:
    assert " ".join(schemes.scheme_names()) == REAL_LISTING


@pytest.mark.parametrize(("name", "encoding"), [("sha", schemes.Encoding.BASE64), ("SHA.HEX", schemes.Encoding.HEX),
                                                ("plain.b64", schemes.Encoding.BASE64),
                                                ("Plain.Base64", schemes.Encoding.BASE64),
                                                ("CRAM-MD5", schemes.Encoding.HEX)])
def test_lookup_is_case_insensitive_with_suffixes(name: str, encoding: schemes.Encoding) -> None:
    assert registry.lookup(name)[1] is encoding


@pytest.mark.parametrize("name", ["NOSUCH", "PLAIN.bogus", "PLAIN.", ".hex", ""])
def test_unknown_scheme_names(name: str) -> None:
    with pytest.raises(schemes.UnknownSchemeError):
        registry.lookup(name)


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("SHA", "SHA1", True), ("PLAIN", "CLEAR", True), ("PLAIN-TRUNC", "plain", True), ("CRAM-MD5", "HMAC-MD5", True),
    ("CRYPT", "BLF-CRYPT", True), ("MD5", "MD5-CRYPT", True), ("PLAIN-MD5", "LDAP-MD5.hex", True),
    ("SHA", "SSHA", False), ("DES-CRYPT", "CRYPT", False), ("", "PLAIN", False)])
def test_aliases_share_a_generator(first: str, second: str, expected: bool) -> None:
    assert schemes.is_alias(first, second) is expected


def test_default_scheme_applies_to_unprefixed_passwords() -> None:
    assert schemes.verify("EfatjsUqKYSrqv18O1FlA3hcIHI=", b"x", default_scheme="SHA1") is True
    assert schemes.verify("x", b"x") is True  # PLAIN is the default default
    assert schemes.verify("11f6ad8ec52a2984abaafd7c3b516503785c2072", b"x", default_scheme="SHA.HEX") is True
    # a bare $1$ string is MD5-CRYPT whatever the default
    assert schemes.verify("$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.", b"x", default_scheme="SHA") is True


def test_password_is_a_c_string() -> None:
    assert schemes.verify("{PLAIN}ab", b"ab\0cd") is True


def test_digest_md5_needs_a_user() -> None:
    with pytest.raises(schemes.SchemeGenerateError, match=r"digest_md5_generate\(\): username not given"):
        schemes.generate("DIGEST-MD5", b"x")
    assert schemes.generate("DIGEST-MD5", b"x", user="a@b@c") == "{DIGEST-MD5}a224c940ed3253e58e75b5abd3a3c0a1"


def test_credentials_of_the_stored_scheme_or_an_alias() -> None:
    hashed = schemes.generate("CRAM-MD5", b"secret")
    assert schemes.credentials(hashed, "CRAM-MD5").raw == cram.cram_md5_context(b"secret")
    assert schemes.credentials(hashed, "HMAC-MD5").raw == cram.cram_md5_context(b"secret")
    assert schemes.credentials(hashed, "") == schemes.Credentials("CRAM-MD5", cram.cram_md5_context(b"secret"))


def test_credentials_generated_from_plaintext() -> None:
    creds = schemes.credentials("{PLAIN}x", "DIGEST-MD5", user="a@b@c")
    assert creds.raw.hex() == "a224c940ed3253e58e75b5abd3a3c0a1"
    scram_raw = schemes.credentials("x", "SCRAM-SHA-256").raw
    assert schemes.verify(b"{SCRAM-SHA-256}" + scram_raw, b"x") is True


def test_credentials_cannot_come_from_another_hash() -> None:
    with pytest.raises(schemes.CredentialsUnavailableError,
                       match="Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT"):
        schemes.credentials("{SHA512-CRYPT}$6$abc$def", "CRAM-MD5")


def test_unavailable_scheme_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = registry.SCHEMES["ARGON2ID"].__class__(
        "ARGON2ID", lambda p, g: b"", available=False, unavailable_reason="ARGON2ID needs cryptography")
    patched = dict(registry.SCHEMES)
    patched["ARGON2ID"] = missing
    monkeypatch.setattr(registry, "SCHEMES", patched)
    assert "ARGON2ID" not in registry.scheme_names()
    with pytest.raises(schemes.SchemeUnavailableError, match="needs cryptography"):
        schemes.generate("ARGON2ID", b"x")


def test_argon2i_refuses_fewer_than_three_rounds_like_libsodium() -> None:
    with pytest.raises(schemes.SchemeGenerateError, match="crypto_pwhash_argon2i_str failed: Invalid argument"):
        schemes.generate("ARGON2I", b"x", rounds=2)


def test_rounds_are_clamped_like_dovecot() -> None:
    assert schemes.generate("BLF-CRYPT", b"x", rounds=1).startswith("{BLF-CRYPT}$2y$04$")
    assert "$5$rounds=1000$" in schemes.generate("SHA256-CRYPT", b"x", rounds=40)
    assert schemes.generate("SHA512-CRYPT", b"x", rounds=5000).startswith("{SHA512-CRYPT}$6$")
    assert "rounds=" not in schemes.generate("SHA512-CRYPT", b"x", rounds=5000)
    assert "$1$" in schemes.generate("PBKDF2", b"x", rounds=1) and "$1$" in schemes.generate("PBKDF2", b"x")


def test_async_wrappers_hash_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real_verify = api.verify

    def recording_verify(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(api, "verify", recording_verify)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-hash")
    schemes.set_hashing_executor(pool)
    try:
        async def scenario() -> tuple[bool, str, schemes.Credentials]:
            ok = await schemes.verify_async("{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=", b"x")
            hashed = await schemes.generate_async("SSHA256", b"x")
            creds = await schemes.credentials_async("{PLAIN}x", "PLAIN-MD5")
            return ok, hashed, creds

        ok, hashed, creds = asyncio.run(scenario())
    finally:
        schemes.set_hashing_executor(None)
        pool.shutdown()
    assert ok is True and schemes.verify(hashed, b"x") is True
    assert creds.raw.hex() == "9dd4e461268c8034f5c8564e155c67a6"
    assert threads and all(name.startswith("test-hash") for name in threads)
