"""Record password hashes made by the real `doveadm pw` into goldens/real_hashes.jsonl.

Run by hand where Dovecot 2.3.19 is installed:  python tests/auth/schemes/record_goldens.py
Each line: {"scheme", "password", "user", "rounds", "hash"} with hash = doveadm's output.
Also goldens/real_verify_edges.jsonl: odd stored passwords checked with `doveadm pw -t`,
each with real's verdict ("verified", or the text after "Fatal: ").
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

GOLDENS = Path(__file__).parent / "goldens" / "real_hashes.jsonl"
EDGE_GOLDENS = Path(__file__).parent / "goldens" / "real_verify_edges.jsonl"

PASSWORDS = [
    "",
    "x",
    "secret",
    "pässwörd ünïcødé",
    "with space and $dollar {brace} \\back'quote\"",
    "L" * 100,
    "0123456789" * 8,  # 80 bytes: past bcrypt's 72-byte key limit
]
SCHEMES = [
    "SHA1", "SSHA512", "SCRAM-SHA-256", "BLF-CRYPT", "PLAIN", "HMAC-MD5", "OTP", "SHA512", "SHA",
    "DES-CRYPT", "CRYPT", "SSHA", "MD5-CRYPT", "PLAIN-MD4", "PLAIN-MD5", "SCRAM-SHA-1",
    "SHA512-CRYPT", "CLEAR", "CLEARTEXT", "ARGON2I", "ARGON2ID", "SSHA256", "MD5", "PBKDF2",
    "SHA256", "CRAM-MD5", "PLAIN-TRUNC", "SHA256-CRYPT", "SMD5", "DIGEST-MD5", "LDAP-MD5",
]
# (scheme, rounds) beyond the defaults
ROUNDS = [
    ("BLF-CRYPT", 4), ("BLF-CRYPT", 6), ("CRYPT", 4), ("SHA256-CRYPT", 1), ("SHA256-CRYPT", 7000),
    ("SHA512-CRYPT", 1000), ("SHA512-CRYPT", 12345), ("PBKDF2", 1), ("PBKDF2", 100),
    ("ARGON2I", 3), ("ARGON2ID", 1), ("ARGON2ID", 3), ("SCRAM-SHA-1", 10000),
]
ENCODED = ["SHA.HEX", "SHA256.hex", "SSHA.HEX", "SSHA512.HEX", "SMD5.hex", "PLAIN.B64", "PLAIN.base64",
           "PLAIN.HEX", "CRAM-MD5.B64", "PLAIN-MD5.b64", "LDAP-MD5.HEX", "DIGEST-MD5.B64", "MD5.HEX",
           "SCRAM-SHA-1.b64", "PBKDF2.hex", "SHA512-CRYPT.HEX"]
DIGEST_USERS = ["jane@example.com", "user", "a@b@realm", "", "ü@Ï"]


def doveadm_pw(config: Path, scheme: str, password: str, user: str | None, rounds: int | None) -> str:
    argv = ["/usr/bin/doveadm", "-c", str(config), "pw", "-s", scheme, "-p", password]
    if user is not None:
        argv += ["-u", user]
    if rounds is not None:
        argv += ["-r", str(rounds)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    return done.stdout.rstrip("\n")


# Stored passwords that probe decoding and each scheme's parser; checked against "x".
EDGE_HASHES = [
    "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI", "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI==", "{SHA}Efatjs UqKYSrqv18O1FlA3hcIHI=",
    "{SHA}EfatjsUqKYSrqv18O1FlA3hcIH!=", "{SHA}11F6AD8EC52A2984ABAAFD7C3B516503785C2072",
    "{SHA}11f6ad8ec52a2984abaafd7c3b516503785c207", "{SHA}xx", "{SHA.HEX}EfatjsUqKYSrqv18O1FlA3hcIHI=",
    "{sha}EfatjsUqKYSrqv18O1FlA3hcIHI=", "{SHA}AAAA", "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=EfatjsUqKYSrqv18O1FlA3hcIHI=",
    "$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.", "$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.$junk",
    "{CRYPT}$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.", "{SHA512-CRYPT}$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.",
    "{MD5-CRYPT}$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.$junk", "{MD5}$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.",
    "{BLF-CRYPT}5JHm9X0YnjIo6", "{DES-CRYPT}5JHm9X0YnjIo6", "{CRYPT}5JHm9X0YnjIo6", "{CRYPT}5JHm9X0YnjIo6x",
    "{CRYPT}", "{BLF-CRYPT}", "{CRYPT}*", "{CRYPT}!", "{DES-CRYPT}ab",
    "{BLF-CRYPT}$2y$04$abc", "{BLF-CRYPT}$2", "{BLF-CRYPT}$2z$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{CRYPT}$2z$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{CRYPT}$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{BLF-CRYPT}$2a$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{BLF-CRYPT}$2x$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{BLF-CRYPT}$2y$03$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
    "{BLF-CRYPT}$2y$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8",
    "{BLF-CRYPT}$2y$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8eX",
    "{CRYPT}$y$j9T$F5Jx5fExrKuPp53xLKQ..1$6foLM1JhGupouWKMU70wxK61Kw9ZnecbACjJwRadqM2",
    "{CRYPT}_J9..CCCCdqUF/VWv3lc", "{CRYPT}$7$CU..../....SSSSSSSS$vAviWjaWx0KdqQ8stpyw9IC.JA2.N0bWK2bC3MET4N0",
    "{CRYPT}$gy$j9T$abcdefgh$CiTibHdBM/5r3qmg1i0DxivDn1U977EDVDgQAyycj9/",
    "{CRYPT}$sha1$1000$abcdefgh$S1ArdJYzrh17g244/Kvgwg8.Q1c0", "{CRYPT}$md5$abc$83aRJCiz0QQ6rBICO.UJi.",
    "{CRYPT}$3$$a9f0dd57e1edab5bb55a9ac0a99c15ec",
    "{SHA256-CRYPT}$5$rounds=999$abc$", "{SHA512-CRYPT}$6$rounds=5000$abcdefgh$",
    "{SSHA}aGVsbG8=", "{SSHA.hex}aGVsbG8=", "{SMD5}aGVsbG8=", "{SSHA256}aGVsbG8=", "{SSHA512}aGVsbG8=",
    "{PLAIN-TRUNC}3-xyz", "{PLAIN-TRUNC}xyz", "{PLAIN-TRUNC}1-x", "{PLAIN-TRUNC}1-y", "{PLAIN-TRUNC}0-",
    "{PLAIN-TRUNC}-x", "{PLAIN-TRUNC}2-x",
    "{OTP}bogus", "{OTP}SHA1 1024 DDF31CC31EA2DB81 32D0E81D2F5A7D35", "{OTP}md5 5 abc 0000000000000000",
    "{OTP}sha1 1024 ddf31cc31ea2db81 32d0e81d2f5a7d35", "{OTP}sha1  1024 ddf31cc31ea2db81 32d0e81d2f5a7d35",
    "{OTP}sha1 1024 DDF31CC31EA2DB81 32D0E81D2F5A7D35", "{OTP}sha1 1024 ddf31cc31ea2db81 32d0e81d 2f5a7d35",
    "{OTP}sha1 1024 ddf31cc31ea2db81 32d0e81d2f5a7d35 junk", "{OTP}md4 0 abc 32d0e81d2f5a7d35",
    "{OTP}sha1 1024 ddf31cc31ea2db81\t32d0e81d2f5a7d35", "{OTP}sha1 1024 ddf31cc31ea2db81f 32d0e81d2f5a7d35",
    "{SCRAM-SHA-1}bogus", "{SCRAM-SHA-1}100,a,b,c", "{SCRAM-SHA-1}4096,a,b,c",
    "{SCRAM-SHA-1}4096,a,AVkaBgQb9aozBHlAjZJgoY3AGEE=,c", "{SCRAM-SHA-256}1,2,3",
    "{PBKDF2}bogus", "{PBKDF2}$1$K2oXj6C6O6SY274f$5000$53F457A1E70F3D2B43E5676871A2189F2E2A2F2A",
    "{PBKDF2}$1$K2oXj6C6O6SY274f$0$53f457a1e70f3d2b43e5676871a2189f2e2a2f2a",
    "{PBKDF2}$1$K2oXj6C6O6SY274f$5000$53f457a1", "{PBKDF2}$1$K2oXj6C6O6SY274f$x$53f457a1e70f3d2b43e5676871a2189f2e2a2f2a",
    "{PBKDF2}$1$a$b", "{PBKDF2}$1$K2oXj6C6O6SY274f$5000$53f457a1e70f3d2b43e5676871a2189f2e2a2f2z",
    "{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$ZOD6TvikrJlhv8NQ4uCsBA$dmaSD7gF+QsgrBQyMqHYFzc4Ak+vgarFU21nOFAq0Xs",
    "{ARGON2ID}$argon2i$v=19$m=32768,t=4,p=1$RbiX/zMStLfHArgA+UngKA$6bHWYe/fdkLq9jm5U7IMuV+njS1poawNocNicEBBhpQ",
    "{ARGON2ID}$argon2d$v=19$m=32768,t=4,p=1$RbiX/zMStLfHArgA+UngKA$6bHWYe/fdkLq9jm5U7IMuV+njS1poawNocNicEBBhpQ",
    "{ARGON2ID}bogus", "{ARGON2I}",
    "{MD5}bogus", "{MD5}9dd4e461268c8034f5c8564e155c67a6", "{MD5}ndTkYSaMgDT1yFZOFVxnpg==",
    "{DIGEST-MD5}00", "{CRAM-MD5}00", "{PLAIN-MD4}51B834B7C1EF0B59EA50888FCB39ACE2",
    "{PLAIN.b64}eA==", "{PLAIN.b64}eA== ", "{PLAIN.b64}eA==eA==", "{PLAIN.b64}eA=", "{PLAIN.b64}e A = =",
    "{PLAIN.b64}eB==", "{PLAIN.b64}eA", "{PLAIN.b64}", "{PLAIN.hex}78", "{PLAIN.hex}7", "{PLAIN.hex}7 8",
    "{PLAIN.HEX}", "{PLAIN.hex}0x78", "{PLAIN.base64}eA==", "{PLAIN.B64}eA==", "{PLAIN.x}x", "{PLAIN.}x",
    "{}x", "{PLAIN", "{x}", "{PLAIN}{PLAIN}x", "x", "{CLEAR}x", "{CLEARTEXT}X", "{PLAIN}x ",
]


def record_edges(config: Path) -> None:
    with EDGE_GOLDENS.open("w", encoding="utf-8") as out:
        for stored in EDGE_HASHES:
            argv = ["/usr/bin/doveadm", "-c", str(config), "pw", "-t", stored, "-p", "x"]
            done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
            if done.returncode == 0:
                verdict = "verified"
            else:
                verdict = done.stderr.strip().removeprefix("Fatal: ")
            out.write(json.dumps({"stored": stored, "password": "x", "verdict": verdict}) + "\n")


def main() -> int:
    cases: list[tuple[str, str, str | None, int | None]] = []
    for scheme in SCHEMES:
        users = DIGEST_USERS if scheme == "DIGEST-MD5" else [None]
        for user in users:
            cases += [(scheme, password, user, None) for password in PASSWORDS]
    cases += [(scheme, password, None, rounds) for scheme, rounds in ROUNDS for password in ("x", "pässwörd")]
    for scheme in ENCODED:
        user = "jane@example.com" if scheme.startswith("DIGEST") else None
        cases += [(scheme, password, user, None) for password in ("", "x", "pässwörd")]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "dovecot.conf"
        # A private base_dir keeps doveadm away from any running dovecot's sockets.
        config.write_text(f"base_dir = {tmp}/run\n")
        record_edges(config)
        with GOLDENS.open("w", encoding="utf-8") as out:
            for scheme, password, user, rounds in cases:
                hashed = doveadm_pw(config, scheme, password, user, rounds)
                record = {"scheme": scheme, "password": password, "user": user, "rounds": rounds, "hash": hashed}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"recorded {len(cases)} hashes into {GOLDENS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
