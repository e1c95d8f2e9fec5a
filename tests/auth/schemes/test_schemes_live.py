"""Live, against the real doveadm: hashes WE generate must pass real `doveadm pw -t`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pydovecot.auth import schemes

pytestmark = pytest.mark.oracle

PASSWORDS = ["", "x", "pässwörd ünïcødé", "with space $ {b} \\ ' \"", "L" * 100]
USER = "jane@example.com"
# PLAIN-TRUNC generates text real cannot verify either (see the goldens); checked separately.
GENERATED = [name for name in schemes.scheme_names() if name != "PLAIN-TRUNC"]
ROUNDS = [("BLF-CRYPT", 4), ("SHA256-CRYPT", 2000), ("SHA512-CRYPT", 1000), ("PBKDF2", 10), ("ARGON2ID", 1),
          ("ARGON2I", 3)]
ENCODED = ["SHA.HEX", "SSHA512.hex", "PLAIN.B64", "CRAM-MD5.b64", "DIGEST-MD5.B64", "LDAP-MD5.HEX", "SMD5.HEX"]


@pytest.fixture
def real_config(real_dovecot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("realdoveadm")
    config = directory / "dovecot.conf"
    config.write_text(f"base_dir = {directory}/run\n")
    return config


def real_test(config: Path, stored: str, password: str, user: str | None) -> subprocess.CompletedProcess[str]:
    argv = ["/usr/bin/doveadm", "-c", str(config), "pw", "-t", stored, "-p", password]
    if user is not None:
        argv += ["-u", user]
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)


CASES = ([(s, p, None) for s in GENERATED for p in PASSWORDS]
         + [(s, "pässwörd", r) for s, r in ROUNDS] + [(s, "x", None) for s in ENCODED])


@pytest.mark.parametrize(("scheme", "password", "rounds"), CASES)
def test_real_doveadm_verifies_our_hash(real_config: Path, scheme: str, password: str, rounds: int | None) -> None:
    user = USER if scheme.upper().startswith("DIGEST-MD5") else None
    ours = schemes.generate(scheme, password.encode(), user=user, rounds=rounds)
    done = real_test(real_config, ours, password, user)
    assert (done.returncode, done.stdout) == (0, f"{ours} (verified)\n"), done.stderr
    wrong = real_test(real_config, ours, "!" + password, user)
    assert wrong.returncode == 75
    assert wrong.stderr == "Fatal: reverse password verification check failed: Password mismatch\n"


@pytest.mark.parametrize("stored", ["{PLAIN-TRUNC}3-pwd", "{PLAIN-TRUNC}5-pwdxx", "{PLAIN-TRUNC}2-pw"])
def test_plain_trunc_agrees_with_real(real_config: Path, stored: str) -> None:
    ours = schemes.verify(stored, b"pwdxx")
    assert (real_test(real_config, stored, "pwdxx", None).returncode == 0) is ours


@pytest.mark.parametrize("setting", ["$y$j9T$F5Jx5fExrKuPp53xLKQ..1", "$2x$05$abcdefghijklmnopqrstuu",
                                     "$6$rounds=1500$saltsaltsaltsalt", "_J9..CCCC"])
def test_system_crypt_formats_agree_with_real(real_config: Path, setting: str) -> None:
    from pydovecot.auth.schemes import crypt as crypt_family

    stored = crypt_family.libc_crypt("pässwörd".encode(), setting.encode())
    if stored is None:
        pytest.skip("no C library crypt() here")
    text = "{CRYPT}" + stored.decode()
    assert schemes.verify(text, "pässwörd".encode()) is True
    assert real_test(real_config, text, "pässwörd", None).returncode == 0
