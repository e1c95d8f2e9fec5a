"""The credential formats our mechanisms consume, checked against real `doveadm pw` output.

goldens/doveadm_pw.json holds what Dovecot 2.3.19's `doveadm pw -s SCHEME -p PASS [-u USER]`
printed. Each stored value must let an RFC client that knows only the password authenticate."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from mech_clients import DigestMd5Client, ScramClient, cram_md5_response
from mech_support import DictPassdb, run

from pydovecot.auth.mechanisms import Success
from pydovecot.auth.mechanisms.cram_md5 import hmac_md5_from_context

GOLDENS = Path(__file__).resolve().parent / "goldens"
PW = json.loads((GOLDENS / "doveadm_pw.json").read_text())


def stored(entry: dict[str, str]) -> str:
    prefix = "{" + entry["scheme"] + "}"
    assert entry["output"].startswith(prefix)
    return entry["output"][len(prefix):]


def of(scheme: str) -> list[dict[str, str]]:
    return [e for e in PW if e["scheme"] == scheme]


@pytest.mark.parametrize("entry", of("CRAM-MD5"), ids=lambda e: repr(e["password"])[:20])
def test_cram_md5_context(entry: dict[str, str]) -> None:
    context = bytes.fromhex(stored(entry))
    password = entry["password"].encode()
    challenge = b"<1896.697170952@postoffice.example.net>"  # RFC 2195's example challenge
    assert hmac_md5_from_context(context, challenge) == hmac.new(password, challenge, hashlib.md5).digest()
    passdb = DictPassdb(credentials={"u": {"CRAM-MD5": context}})
    assert run("CRAM-MD5", passdb, None, lambda ch: cram_md5_response(b"u", password, ch)).succeeded


@pytest.mark.parametrize("entry", of("DIGEST-MD5"), ids=lambda e: e["user"] + ":" + repr(e["password"])[:12])
def test_digest_md5_hash(entry: dict[str, str]) -> None:
    user, _, realm = entry["user"].partition("@")
    password = entry["password"].encode()
    raw = bytes.fromhex(stored(entry))
    assert raw == hashlib.md5(f"{user}:{realm}:".encode() + password).digest()
    passdb = DictPassdb(credentials={entry["user"]: {"DIGEST-MD5": raw}})
    client = DigestMd5Client(user.encode(), password, realm=realm.encode())
    out = run("DIGEST-MD5", passdb, None, lambda ch: client.response(ch))
    assert out.event == Success(entry["user"], client.expected_rspauth)


@pytest.mark.parametrize("entry", of("SCRAM-SHA-1") + of("SCRAM-SHA-256"),
                         ids=lambda e: e["scheme"] + ":" + repr(e["password"])[:12])
def test_scram_credentials(entry: dict[str, str]) -> None:
    iterations, salt, stored_key, server_key = stored(entry).split(",")
    assert iterations == "4096"
    hash_name = "sha1" if entry["scheme"] == "SCRAM-SHA-1" else "sha256"
    passdb = DictPassdb(credentials={"u": {entry["scheme"]: stored(entry).encode()}})
    client = ScramClient(hash_name, b"u", entry["password"].encode())
    out = run(entry["scheme"], passdb, client.client_first(), lambda sf: client.client_final(sf))
    assert out.event == Success("u", client.server_signature)
    assert out.challenges[0].endswith(f",s={salt},i={iterations}".encode())
