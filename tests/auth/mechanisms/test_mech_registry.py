"""Mechanism metadata against what Dovecot 2.3.19 advertises and refuses (recorded goldens)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pydovecot.auth.mechanisms import (
    MECHANISMS,
    AuthRequestContext,
    MechanismConfigError,
    PassdbCapabilities,
    PassdbNeed,
    configured_mechanisms,
    create_mechanism,
    find_mechanism,
    handshake_mech_lines,
)

GOLDENS = Path(__file__).resolve().parent / "goldens"
HANDSHAKES: dict[str, list[str]] = json.loads((GOLDENS / "handshake.json").read_text())
CONFIG_ERRORS: dict[str, str] = json.loads((GOLDENS / "config_errors.json").read_text())


@pytest.mark.parametrize("auth_mechanisms", list(HANDSHAKES))
def test_mech_lines_match_dovecot_handshake(auth_mechanisms: str) -> None:
    infos = configured_mechanisms(auth_mechanisms, anonymous_username="anonuser", passdbs=PassdbCapabilities())
    expected = [line for line in HANDSHAKES[auth_mechanisms] if line.startswith("MECH\t")]
    assert handshake_mech_lines(infos) == expected


@pytest.mark.parametrize("auth_mechanisms", list(CONFIG_ERRORS))
def test_refused_configurations(auth_mechanisms: str) -> None:
    anonymous = "" if "anonymous" in auth_mechanisms else "anonuser"
    with pytest.raises(MechanismConfigError) as err:
        configured_mechanisms(auth_mechanisms, anonymous_username=anonymous, passdbs=PassdbCapabilities())
    assert str(err.value) == CONFIG_ERRORS[auth_mechanisms]


def test_no_plus_variants_in_2_3() -> None:
    assert find_mechanism("SCRAM-SHA-1-PLUS") is None and find_mechanism("scram-sha-256-plus") is None


def test_credential_needs() -> None:
    needs = {name: (cls.info.passdb_need, cls.info.credentials_scheme) for name, cls in MECHANISMS.items()}
    assert needs == {
        "PLAIN": (PassdbNeed.VERIFY_PLAIN, None),
        "LOGIN": (PassdbNeed.VERIFY_PLAIN, None),
        "EXTERNAL": (PassdbNeed.VERIFY_PLAIN, None),
        "ANONYMOUS": (PassdbNeed.NOTHING, None),
        "CRAM-MD5": (PassdbNeed.VERIFY_RESPONSE, "CRAM-MD5"),
        "DIGEST-MD5": (PassdbNeed.LOOKUP_CREDENTIALS, "DIGEST-MD5"),
        "SCRAM-SHA-1": (PassdbNeed.LOOKUP_CREDENTIALS, "SCRAM-SHA-1"),
        "SCRAM-SHA-256": (PassdbNeed.LOOKUP_CREDENTIALS, "SCRAM-SHA-256"),
    }


def test_credential_mechanisms_need_a_credentials_passdb() -> None:
    verify_only = PassdbCapabilities(can_lookup_credentials=False)
    assert configured_mechanisms("plain login", anonymous_username="", passdbs=verify_only)
    with pytest.raises(MechanismConfigError, match="^CRAM-MD5 mechanism can't be supported with given passdbs$"):
        configured_mechanisms("plain cram-md5", anonymous_username="", passdbs=verify_only)
    with pytest.raises(MechanismConfigError, match="^No authentication mechanisms configured$"):
        configured_mechanisms("", anonymous_username="", passdbs=PassdbCapabilities())


def test_names_are_case_insensitive() -> None:
    assert create_mechanism("scram-sha-256", AuthRequestContext()).info.name == "SCRAM-SHA-256"
