"""`doveadm pw`: generate a password hash, or test one (-t), as Dovecot 2.3.19 does."""

from __future__ import annotations

from pydovecot.auth import schemes
from pydovecot.auth.schemes import codec

from ..askpass import askpass
from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import DoveadmExit, Fatal

# 2.3's built-in default (not the passdb's default_pass_scheme): bcrypt, as "$2y$".
DEFAULT_SCHEME = "CRYPT"
_UINT_MAX = 0xFFFFFFFF


def _read_new_password(ctx: CommandContext) -> bytes:
    for _ in range(3):
        plaintext = askpass("Enter new password: ", ctx.stdin, ctx.stderr)
        check = askpass("Retype new password: ", ctx.stdin, ctx.stderr)
        if plaintext == check:
            return plaintext
        ctx.error("Passwords don't match!")
    raise DoveadmExit(1)


def cmd_pw(ctx: CommandContext) -> int:
    values = ctx.values
    # Checked while reading the parameters, so before -l; negative values wrap to
    # unsigned like Dovecot's (and then clamp to each scheme's maximum).
    rounds = values.get("rounds", 0)
    if rounds > _UINT_MAX:
        raise Fatal(f"Invalid number of rounds: {rounds}")
    if values.get("list"):
        ctx.out("".join(f"{name} " for name in schemes.scheme_names()) + "\n")
        return 0
    scheme = values["scheme"].upper() if "scheme" in values else DEFAULT_SCHEME
    test_hash: str | None = values.get("test-hash")
    user: str | None = values.get("user")
    plaintext = values["plaintext"].encode("utf-8", "surrogateescape") if "plaintext" in values else None
    if test_hash is not None and plaintext is None:
        plaintext = askpass("Enter password to verify: ", ctx.stdin, ctx.stderr)
    if plaintext is None:
        plaintext = _read_new_password(ctx)

    # Like Dovecot, a hash is always generated first, even when only testing one.
    try:
        hashed = schemes.generate_encoded(scheme, plaintext, user=user, rounds=rounds)
    except schemes.UnknownSchemeError:
        raise Fatal(f"Unknown scheme: {scheme}") from None
    except (schemes.SchemeGenerateError, schemes.SchemeUnavailableError) as error:
        raise Fatal(str(error)) from None

    if test_hash is None and not values.get("reverse-verify"):
        ctx.out(f"{{{scheme}}}{hashed}\n")
        return 0
    if test_hash is not None:
        named, data = codec.split_scheme_prefix(test_hash.encode("utf-8", "surrogateescape"))
        if named is None:
            raise Fatal("Missing {scheme} prefix from hash")
        scheme, hashed = named, data.decode("utf-8", "surrogateescape")
    try:
        raw = schemes.decode(hashed, scheme)
    except (schemes.UnknownSchemeError, schemes.PasswordDecodeError, schemes.SchemeUnavailableError) as error:
        raise Fatal(f"reverse decode check failed: {error}") from None
    try:
        matched = schemes.verify_raw(scheme, raw, plaintext, user=user)
    except schemes.SchemeGenerateError as error:
        raise Fatal(str(error)) from None
    except schemes.PasswordSchemeError as error:
        raise Fatal(f"reverse password verification check failed: {error}") from None
    if not matched:
        raise Fatal("reverse password verification check failed: Password mismatch")
    ctx.out(f"{{{scheme}}}{hashed} (verified)\n")
    return 0


PW = Command(
    words=("pw",),
    run=cmd_pw,
    help="Generate a password hash for a password scheme, or test a hash",
    params=(
        Param("list", ParamKind.BOOL, short="l", help="List the supported password schemes"),
        Param("plaintext", ParamKind.STR, short="p", metavar="plaintext",
              help="The password (asked for on the terminal when missing)"),
        Param("rounds", ParamKind.INT64, short="r", metavar="rounds", help="Encryption rounds, where supported"),
        Param("scheme", ParamKind.STR, short="s", metavar="scheme",
              help="Scheme, with optional .b64/.base64/.hex suffix (default CRYPT)"),
        Param("test-hash", ParamKind.STR, short="t", metavar="hash", help="Test whether the password matches hash"),
        Param("user", ParamKind.STR, short="u", metavar="user", help="User name, for DIGEST-MD5"),
        Param("reverse-verify", ParamKind.BOOL, short="V", help="Verify the generated hash too"),
    ),
)

COMMANDS = (PW,)
