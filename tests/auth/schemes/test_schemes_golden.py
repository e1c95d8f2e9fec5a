"""Our schemes against hashes recorded from the real `doveadm pw` (goldens/, see record_goldens.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pydovecot.auth import schemes
from pydovecot.auth.schemes import argon2, codec, pbkdf2, registry, scram, sha
from pydovecot.auth.schemes import md5 as md5_family

GOLDENS = Path(__file__).parent / "goldens"
REAL_HASHES = [json.loads(line) for line in (GOLDENS / "real_hashes.jsonl").read_text("utf-8").splitlines()]
EDGES = [json.loads(line) for line in (GOLDENS / "real_verify_edges.jsonl").read_text("utf-8").splitlines()]

# Schemes whose output depends only on password (and user): ours must be byte-identical.
DETERMINISTIC = {"SHA", "SHA1", "SHA256", "SHA512", "PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC", "CRAM-MD5",
                 "HMAC-MD5", "DIGEST-MD5", "PLAIN-MD4", "PLAIN-MD5", "LDAP-MD5"}


def _case_id(record: dict) -> str:
    extra = f"-u{record['user']!r}" if record["user"] is not None else ""
    extra += f"-r{record['rounds']}" if record["rounds"] is not None else ""
    return f"{record['scheme']}{extra}-{record['password'][:12]!r}"


def _base_scheme(record: dict) -> str:
    return record["scheme"].partition(".")[0].upper()


@pytest.mark.parametrize("record", REAL_HASHES, ids=_case_id)
def test_real_hash_verifies_and_rejects_wrong_password(record: dict) -> None:
    password = record["password"].encode()
    user = record["user"]
    if _base_scheme(record) == "PLAIN-TRUNC":
        # Real generates PLAIN-TRUNC without its "<len>-" prefix and then cannot verify it either.
        with pytest.raises(schemes.InvalidStoredPasswordError, match="PLAIN-TRUNC missing length: prefix"):
            schemes.verify(record["hash"], password, user=user)
        return
    assert schemes.verify(record["hash"], password, user=user) is True
    # (changed at the front: bcrypt reads 72 bytes, DES-CRYPT only 8)
    assert schemes.verify(record["hash"], b"!" + password, user=user) is False
    assert schemes.verify(record["hash"], b"wrong", user=user) is False


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if _base_scheme(r) in DETERMINISTIC], ids=_case_id)
def test_deterministic_schemes_generate_byte_identical(record: dict) -> None:
    ours = schemes.generate(record["scheme"], record["password"].encode(), user=record["user"],
                            rounds=record["rounds"])
    assert ours == record["hash"]


def _raw_of(record: dict) -> bytes:
    scheme_name, data = schemes.split_scheme(record["hash"], "PLAIN")
    return schemes.decode(data, scheme_name)


def _reencode(record: dict, raw: bytes) -> str:
    return "{" + record["scheme"].upper() + "}" + schemes.encode(raw, record["scheme"])


SALTED_DIGESTS = {"SSHA": "sha1", "SSHA256": "sha256", "SSHA512": "sha512"}


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if _base_scheme(r) in {*SALTED_DIGESTS, "SMD5"}],
                         ids=_case_id)
def test_salted_digests_regenerate_identically_from_the_salt(record: dict) -> None:
    raw, password = _raw_of(record), record["password"].encode()
    base = _base_scheme(record)
    if base == "SMD5":
        ours = md5_family.smd5_digest(password, raw[16:])
    else:
        algorithm = SALTED_DIGESTS[base]
        ours = sha.salted_digest(algorithm, password, raw[len(raw) - sha.SALT_LENGTH :])
    assert len(raw) - (16 if base == "SMD5" else len(ours) - sha.SALT_LENGTH) == sha.SALT_LENGTH
    assert _reencode(record, ours) == record["hash"]


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if _base_scheme(r).startswith("SCRAM")], ids=_case_id)
def test_scram_regenerates_identically_from_the_salt(record: dict) -> None:
    algorithm = "sha1" if _base_scheme(record) == "SCRAM-SHA-1" else "sha256"
    stored = scram.parse_scram_credentials(algorithm, _base_scheme(record), _raw_of(record))
    assert stored.iterations == scram.DEFAULT_ITERATIONS  # -r does not change SCRAM in 2.3.19
    keys = scram.scram_keys(algorithm, record["password"].encode(), stored.salt, stored.iterations)
    assert _reencode(record, scram.format_scram(stored.iterations, stored.salt, *keys)) == record["hash"]


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if _base_scheme(r) == "PBKDF2"], ids=_case_id)
def test_pbkdf2_regenerates_identically_from_the_salt(record: dict) -> None:
    _, _, salt, rounds, _ = _raw_of(record).split(b"$")
    assert int(rounds) == (record["rounds"] or pbkdf2.DEFAULT_ROUNDS)
    key = pbkdf2.pbkdf2_key(record["password"].encode(), salt, int(rounds))
    assert _reencode(record, pbkdf2.format_pbkdf2(salt, int(rounds), key)) == record["hash"]


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if _base_scheme(r).startswith("ARGON2")], ids=_case_id)
def test_argon2_regenerates_identically_and_uses_reals_parameters(record: dict) -> None:
    raw = _raw_of(record)
    match = argon2._PHC.fullmatch(raw)
    assert match is not None
    variant, memory, iterations = match.group(1).decode(), int(match.group(3)), int(match.group(4))
    salt = argon2._b64_decode_nopad(match.group(6))
    digest = argon2.argon2_raw(variant, record["password"].encode(), salt, iterations=iterations,
                               memory_kib=memory, lanes=1, length=argon2.HASH_LENGTH)
    assert argon2.format_argon2(variant, salt, digest, iterations=iterations, memory_kib=memory) == raw
    # Our generator must choose the same t= and m= for the same -r.
    ours = schemes.generate(record["scheme"], b"x", rounds=record["rounds"])
    assert argon2._PHC.fullmatch(ours.split("}", 1)[1].encode()).group(3, 4) == match.group(3, 4)  # type: ignore[union-attr]


@pytest.mark.parametrize("record", [r for r in REAL_HASHES if r["password"] == "x" and r["user"] in (None, "jane@example.com")],
                         ids=_case_id)
def test_generated_hash_has_reals_shape(record: dict) -> None:
    """Salted output differs each time, but its form (prefix, lengths, rounds) must match real's."""
    ours = schemes.generate(record["scheme"], b"x", user=record["user"], rounds=record["rounds"])
    real = record["hash"]
    assert len(ours) == len(real)
    shape = lambda text: "".join("$" if c == "$" else "," if c == "," else "a" for c in text)  # noqa: E731
    if _base_scheme(record) not in {"OTP"}:
        assert shape(ours.split("}", 1)[1]) == shape(real.split("}", 1)[1]) or "rounds=" in real
    assert ours.split("}", 1)[0] == real.split("}", 1)[0]


def _our_verdict(stored: str, password: str) -> str:
    """What `doveadm pw -t STORED -p PASSWORD` would report, computed with our schemes."""
    scheme, _ = codec.split_scheme_prefix(stored.encode())
    if scheme is None:
        return "Missing {scheme} prefix from hash"
    scheme_name, data = schemes.split_scheme(stored, "PLAIN")
    try:
        raw = schemes.decode(data, scheme_name)
    except (schemes.PasswordDecodeError, schemes.UnknownSchemeError) as error:
        return f"reverse decode check failed: {error}"
    try:
        matched = schemes.verify_raw(scheme_name, raw, password.encode())
    except schemes.PasswordSchemeError as error:
        return f"reverse password verification check failed: {error}"
    return "verified" if matched else "reverse password verification check failed: Password mismatch"


@pytest.mark.filterwarnings("ignore::passlib.exc.PasslibHashWarning")
@pytest.mark.parametrize("edge", EDGES, ids=[e["stored"][:60] for e in EDGES])
def test_odd_stored_passwords_get_reals_verdict(edge: dict) -> None:
    stored = edge["stored"]
    if any(fmt in stored for fmt in ("$y$", "$gy$", "$7$", "_J9", "$sha1$", "$md5$", "$3$", "$2x$")):
        from pydovecot.auth.schemes import crypt as crypt_family

        if crypt_family._libc_crypt is None:
            pytest.skip("this crypt() format needs the C library's crypt (stdlib module absent)")
    assert _our_verdict(stored, edge["password"]) == edge["verdict"]


def test_goldens_cover_every_listed_scheme() -> None:
    assert {_base_scheme(r) for r in REAL_HASHES} == set(registry.LISTING_ORDER)
