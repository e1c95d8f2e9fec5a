"""Which mechanisms exist, how auth_mechanisms selects them, and what the handshake advertises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .anonymous import AnonymousMechanism
from .base import Mechanism, MechanismInfo
from .context import AuthRequestContext
from .cram_md5 import CramMd5Mechanism
from .digest_md5 import DigestMd5Mechanism
from .external import ExternalMechanism
from .login import LoginMechanism
from .plain import PlainMechanism
from .scram import ScramSha1Mechanism, ScramSha256Mechanism

MECHANISMS: dict[str, type[Mechanism]] = {
    cls.info.name: cls
    for cls in (PlainMechanism, LoginMechanism, CramMd5Mechanism, DigestMd5Mechanism, ScramSha1Mechanism,
                ScramSha256Mechanism, ExternalMechanism, AnonymousMechanism)
}


class MechanismConfigError(ValueError):
    """auth_mechanisms names something the auth process refuses to start with."""


@dataclass(frozen=True)
class PassdbCapabilities:
    """What the configured passdbs can do (the auth process checks mechanisms against it)."""

    count: int = 1
    # Some passdb can return credentials (passwd-file, sql, static with password...), as
    # opposed to only verifying a plaintext password (pam, checkpassword, ...).
    can_lookup_credentials: bool = True


def find_mechanism(name: str) -> type[Mechanism] | None:
    """Mechanism names are case-insensitive (Dovecot upper-cases them)."""
    return MECHANISMS.get(name.upper())


def create_mechanism(name: str, context: AuthRequestContext) -> Mechanism:
    cls = find_mechanism(name)
    if cls is None:
        raise KeyError(name)
    return cls(context)


def configured_mechanisms(auth_mechanisms: str, *, anonymous_username: str,
                          passdbs: PassdbCapabilities) -> list[MechanismInfo]:
    """The mechanisms an auth_mechanisms value enables, in its order, or the error the 2.3.19
    auth process dies with."""
    names = auth_mechanisms.replace(",", " ").split()
    if not names:
        raise MechanismConfigError("No authentication mechanisms configured")
    infos: list[MechanismInfo] = []
    for name in names:
        cls = find_mechanism(name)
        if cls is None:
            raise MechanismConfigError(f"Unknown authentication mechanism '{name.upper()}'")
        if cls.info not in infos:
            infos.append(cls.info)
    for info in infos:
        if info.name == "ANONYMOUS" and not anonymous_username:
            raise MechanismConfigError("ANONYMOUS listed in mechanisms, but anonymous_username not set")
        if info.passdb_need.needs_credentials and passdbs.count == 0:
            raise MechanismConfigError(f"No passdbs specified in configuration file. {info.name} mechanism needs one")
        if info.passdb_need.needs_credentials and not passdbs.can_lookup_credentials:
            raise MechanismConfigError(f"{info.name} mechanism can't be supported with given passdbs")
    return infos


def handshake_mech_lines(infos: Sequence[MechanismInfo]) -> list[str]:
    """The MECH lines of the auth client handshake, in configuration order."""
    return [info.mech_line() for info in infos]
